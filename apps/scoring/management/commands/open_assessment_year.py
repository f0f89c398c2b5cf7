from apps.areas.models import Area, AreaLevel
from apps.core.errors import RuleViolation
from apps.core.management.base import JsonSummaryCommand
from apps.scoring.services import assessment_year_open


class Command(JsonSummaryCommand):
    help = (
        "Open a year's assessments (开启考核年度) for every township of the county under the published scheme in "
        "force. Idempotent: creates only missing assessments, never touches contracts or existing scores."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--county", default=None, help="12-digit county code (default: the only county)")
        parser.add_argument("--late-reason", default="", help="why the scheme was published after the year began")

    def run(self, *args, year: int, county: str | None, late_reason: str, **options) -> dict:
        area = None
        if county:
            area = Area.objects.filter(code=county, level=AreaLevel.COUNTY).first()
            if area is None:
                raise RuleViolation(f"找不到县级区划：{county}")
        return assessment_year_open(year=year, by=None, county=area, late_reason=late_reason).summary()
