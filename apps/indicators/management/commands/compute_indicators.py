from apps.core.management.base import JsonSummaryCommand
from apps.indicators.models import IndicatorValue, RunStatus
from apps.indicators.services import indicators_compute


class Command(JsonSummaryCommand):
    help = "Compute and store a snapshot of every indicator of a period (DESIGN §8)."
    # A scheduled batch step, timed start-up included (issue 16): the system checks (models, URLs, admin;
    # about half a second of CPU) are run by ``check``, ``migrate`` and the server, not again by each report run.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="2024, 2024Q1, 2024Q2-YTD or 2024M03")
        parser.add_argument("--area", default=None, help="12-digit area code (default: the county)")

    def run(self, *args, period: str, area: str | None, **options) -> dict:
        run = indicators_compute(period=period, area_code=area)
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at and run.started_at else None
        return {
            "ok": run.status == RunStatus.SUCCESS,
            "run": run.pk,
            "period": run.period,
            "area": run.area_id,
            "status": run.status,
            "values": IndicatorValue.objects.filter(run=run).count(),
            "data_as_of": run.data_as_of.isoformat() if run.data_as_of else None,
            "seconds": round(seconds, 3) if seconds is not None else None,
            "message": run.message,
        }
