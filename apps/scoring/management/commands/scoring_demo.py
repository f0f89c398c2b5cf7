from django.utils import timezone

from apps.core.management.base import JsonSummaryCommand
from apps.scoring.demo import scoring_demo_ensure


class Command(JsonSummaryCommand):
    help = "Demo contracts, pairings and open assessments for every township of the demo county (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=None)

    def run(self, *args, year: int | None, **options) -> dict:
        return scoring_demo_ensure(year=year or timezone.localdate().year)
