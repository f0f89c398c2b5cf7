import json
from pathlib import Path

from apps.areas.models import Area
from apps.core.areacodes import is_valid_code
from apps.core.errors import RuleViolation
from apps.core.management.base import JsonSummaryCommand
from apps.indicators.catalogue import INDICATORS
from apps.indicators.exports import report_workbook
from apps.indicators.periods import period_parse
from apps.indicators.selectors import area_report


def _number(value):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _reading(reading) -> dict:
    out = {
        "value": _number(reading.value),
        "numerator": _number(reading.numerator),
        "denominator": _number(reading.denominator),
    }
    if reading.not_applicable:  # no value because the indicator does not apply to the period, and why
        out["not_applicable"] = reading.not_applicable
    return out


class Command(JsonSummaryCommand):
    help = "The latest stored snapshot of a period for an area, as JSON or a formatted Excel workbook (DESIGN §8)."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True)
        parser.add_argument("--area", required=True, help="12-digit area code")
        parser.add_argument("--format", choices=["json", "xlsx"], default="json")
        parser.add_argument(
            "--out", type=Path, default=None, help="file to write (xlsx: default report-AREA-PERIOD.xlsx)"
        )

    def run(self, *args, period: str, area: str, format: str, out: Path | None, **options) -> dict:
        period = period_parse(period).code
        root = Area.objects.filter(code=area).first() if is_valid_code(area or "") else None
        if root is None:
            raise RuleViolation(f"区划代码“{area}”不存在")
        report = area_report(period=period, root=root)
        own = report.values_of(root.code)
        if not own:
            raise RuleViolation(f"{period_parse(period).label}尚无{root.name}的报表，请先运行 compute_indicators")
        summary = {
            "area": root.code,
            "period": period,
            "run": next(iter(own.values())).run_id,
            "data_as_of": report.data_as_of.isoformat(),
        }
        if format == "xlsx":
            out = out or Path(f"report-{root.code}-{period}.xlsx")
            out.write_bytes(report_workbook(report))
            return {**summary, "format": "xlsx", "out": str(out), "areas": len(report.areas)}
        summary["values"] = {i.code: _reading(own[i.code]) for i in INDICATORS if i.code in own}
        if out:
            out.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        return summary
