"""The quarterly report as a formatted Excel workbook (openpyxl): one sheet per level (县, 乡镇, 村), Chinese
headers with units, each rate beside its numerator and denominator, the header row frozen. Read from the
stored snapshot only."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from apps.areas.models import AreaLevel
from apps.indicators.catalogue import INDICATORS, Indicator
from apps.indicators.periods import period_parse
from apps.indicators.selectors import AreaReport

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_LEVEL_SHEETS = ((AreaLevel.COUNTY, "县"), (AreaLevel.TOWNSHIP, "乡镇"), (AreaLevel.VILLAGE, "村"))


def display_value(value: Decimal | None, places: int = 2) -> Decimal | None:
    """Rates are rounded half-up to 2 decimals for display only (DESIGN §6)."""
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _headers(indicator: Indicator) -> list[str]:
    if indicator.is_count:
        return [f"{indicator.name}（{indicator.unit_label}）"]
    return [
        f"{indicator.name}（{indicator.unit_label}）",
        f"{indicator.name}·分子：{indicator.numerator_label}",
        f"{indicator.name}·分母：{indicator.denominator_label}",
    ]


def report_workbook(report: AreaReport) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    headers = ["区划代码", "区划名称"] + [h for i in INDICATORS for h in _headers(i)]
    for level, title in _LEVEL_SHEETS:
        areas = [a for a in report.areas if a.level == level]
        if not areas:
            continue
        ws = wb.create_sheet(title)
        ws.append(headers)
        for cell in ws[1]:
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for area in areas:
            row: list = [area.code, area.name]
            for indicator in INDICATORS:
                reading = report.readings.get((area.code, indicator.code))
                if reading is None:
                    row.extend([None] * (1 if indicator.is_count else 3))
                elif indicator.is_count:
                    row.append(int(reading.numerator))
                else:
                    row.extend([display_value(reading.value), reading.numerator, reading.denominator])
            ws.append(row)
        for col in range(3, len(headers) + 1):
            ws.column_dimensions[get_column_letter(col)].width = 14
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.number_format = "0.00"
        ws.column_dimensions["A"].width = 15
        ws.column_dimensions["B"].width = 22
        ws.row_dimensions[1].height = 48
        ws.freeze_panes = "C2"  # the header row and the area columns stay in view
    _notes_sheet(wb, report)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _notes_sheet(wb: Workbook, report: AreaReport) -> None:
    ws = wb.create_sheet("指标说明")
    period = period_parse(report.period)
    ws.append(["报表期", period.label, "区划", report.root.name])
    ws.append(["数据截至", report.data_as_of.strftime("%Y-%m-%d %H:%M") if report.data_as_of else "无数据"])
    ws.append([])
    ws.append(["指标代码", "指标名称", "单位", "计算公式", "分子", "分母"])
    for cell in ws[4]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    for i in INDICATORS:
        ws.append([i.code, i.name, i.unit_label, i.formula, i.numerator_label, i.denominator_label])
    for col, width in zip("ABCDEF", (28, 20, 10, 70, 20, 16), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A5"
