"""``seed_demo --persons N --seed S``: the deterministic demo county (DESIGN §8; the generator is
``apps.registry.demo``)."""

from datetime import date

from django.core.management.base import CommandError

from apps.core.management.base import JsonSummaryCommand
from apps.registry.demo import demo_seed


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期应为YYYY-MM-DD：{value}") from exc


class Command(JsonSummaryCommand):
    help = (
        "Load a deterministic synthetic county (households, persons, ten years of events) into an empty "
        "registry; the same --persons and --seed give the same data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=20000, help="number of persons (default 20000)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing (and succeed) when the registry already has persons"
        )
        parser.add_argument(
            "--as-of", type=_date, default=None, help="reference date YYYY-MM-DD for the events (default today)"
        )

    def run(self, *args, persons: int, seed: int, if_empty: bool, as_of: date | None, **options) -> dict:
        verbose = options.get("verbosity", 1) >= 1
        log = (lambda message: self.stdout.write(message)) if verbose else None
        return demo_seed(persons=persons, seed=seed, as_of=as_of, if_empty=if_empty, log=log)
