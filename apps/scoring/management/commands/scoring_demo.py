from django.utils import timezone

from apps.core.management.base import JsonSummaryCommand
from apps.scoring.demo import scoring_demo_ensure


class Command(JsonSummaryCommand):
    help = (
        "Demo contracts (only where none exists), pairings, the year opened, and manual scores spread over the "
        "grade bands then finalised, for every township of the demo county (idempotent, deterministic per seed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=None)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-scores", action="store_true", help="open the year without scoring it")
        parser.add_argument(
            "--leave-open", type=int, default=2, help="townships left open for the assessor (default 2)"
        )

    def run(self, *args, year: int | None, seed: int, no_scores: bool, leave_open: int, **options) -> dict:
        year = year or timezone.localdate().year
        return scoring_demo_ensure(year=year, seed=seed, score=not no_scores, leave_open=leave_open)
