"""The quarterly report as a formatted Excel workbook (openpyxl): one sheet per level (县, 乡镇, 村), Chinese
headers with units, each rate beside its numerator and denominator (不适用 where an indicator does not apply
to the period), the header row frozen, under the report's heading (title, 编制单位, period, time made). Read
from the stored snapshot only. Written by the one safe writer (``apps.core.exports``): no cell can run as a
formula."""

from __future__ import annotations

from django.utils import timezone
from openpyxl.styles import Alignment, Font, PatternFill

from apps.areas.models import AreaLevel
from apps.core.exports import Heading, Styled, XlsxWriter, office_name
from apps.indicators.catalogue import INDICATORS, Indicator
from apps.indicators.formatting import NOT_APPLICABLE, display_value
from apps.indicators.periods import period_parse

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_LEVEL_SHEETS = ((AreaLevel.COUNTY, "县"), (AreaLevel.TOWNSHIP, "乡镇"), (AreaLevel.VILLAGE, "村"))
_LEVEL_TITLES = {AreaLevel.COUNTY: "县级", AreaLevel.TOWNSHIP: "乡镇（街道）", AreaLevel.VILLAGE: "村（居）"}


def _headers(indicator: Indicator) -> list[str]:
    if indicator.is_count:
        return [f"{indicator.name}（{indicator.unit_label}）"]
    return [
        f"{indicator.name}（{indicator.unit_label}）",
        f"{indicator.name}·分子：{indicator.numerator_label}",
        f"{indicator.name}·分母：{indicator.denominator_label}",
    ]


def _header_row(values: list[str], *, wrap: bool = False) -> list[Styled]:
    alignment = Alignment(wrap_text=True, vertical="center") if wrap else None
    return [Styled(v, font=_HEADER_FONT, fill=_HEADER_FILL, alignment=alignment) for v in values]


def report_workbook(report, *, office: str | None = None) -> bytes:
    """``report``: a ``selectors.AreaReport``; ``office``: 编制单位 (default: the report's area's office)."""
    writer = XlsxWriter()
    period = period_parse(report.period)
    office = office or office_name(report.root)
    headers = ["区划代码", "区划名称"] + [h for i in INDICATORS for h in _headers(i)]
    widths = {0: 15, 1: 22, **dict.fromkeys(range(2, len(headers)), 14)}
    for level, title in _LEVEL_SHEETS:
        areas = [a for a in report.areas if a.level == level]
        if not areas:
            continue
        # The header row and the area columns stay in view.
        heading = Heading(f"{report.root.name}人口和计划生育统计指标（{_LEVEL_TITLES[level]}）", office, period.label)
        ws = writer.sheet(
            title, heading=heading, widths=widths, freeze="C2", formats=dict.fromkeys(range(2, len(headers)), "0.00")
        )
        ws.header(_header_row(headers, wrap=True))
        for area in areas:
            row: list = [area.code, area.name]
            for indicator in INDICATORS:
                reading = report.readings.get((area.code, indicator.code))
                if reading is None:
                    row.extend([None] * (1 if indicator.is_count else 3))
                elif reading.not_applicable:  # e.g. 出生政策符合率 after 2021: not a rate of 0 over 0
                    row.extend([NOT_APPLICABLE] + [None] * (0 if indicator.is_count else 2))
                elif indicator.is_count:
                    row.append(int(reading.numerator))
                else:
                    row.extend([display_value(reading.value), reading.numerator, reading.denominator])
            ws.append(row)
    _notes_sheet(writer, report, Heading(f"{report.root.name}人口和计划生育统计指标说明", office, period.label))
    return writer.save()


def _notes_sheet(writer: XlsxWriter, report, heading: Heading) -> None:
    ws = writer.sheet("指标说明", heading=heading, widths=[28, 20, 10, 70, 20, 16], freeze="A4")
    as_of = timezone.localtime(report.data_as_of).strftime("%Y-%m-%d %H:%M") if report.data_as_of else "无数据"
    ws.append(["数据截至", as_of])
    ws.append([])
    ws.header(_header_row(["指标代码", "指标名称", "单位", "计算公式", "分子", "分母"]), font=None)
    for i in INDICATORS:
        ws.append([i.code, i.name, i.unit_label, i.formula, i.numerator_label, i.denominator_label])
