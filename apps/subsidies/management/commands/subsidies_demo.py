from datetime import date

from django.core.management.base import CommandError
from django.utils import timezone

from apps.core.management.base import JsonSummaryCommand
from apps.subsidies.demo import subsidies_demo_ensure


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期应为YYYY-MM-DD：{value}") from exc


class Command(JsonSummaryCommand):
    help = (
        "Demo 奖扶 work after seed_demo and seed_demo_users: bank accounts, last year's roster paid and "
        "reconciled, this year's rosters part-way through review (does nothing when any roster exists)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=_date, default=None, help="reference date YYYY-MM-DD (default today)")

    def run(self, *args, as_of: date | None, **options) -> dict:
        return subsidies_demo_ensure(as_of=as_of or timezone.localdate())
