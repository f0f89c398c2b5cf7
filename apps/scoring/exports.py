"""The results table as an Excel file: ranked units, then vetoed units apart with the reason. Written by the
one safe writer (``apps.core.exports``): a veto reason or a pairing typed by staff can never run as a
formula; scores and totals stay exact Decimal numbers."""

from __future__ import annotations

from openpyxl.styles import Alignment

from apps.core.exports import Heading, Styled, XlsxWriter, office_name
from apps.scoring.calculation import fmt
from apps.scoring.selectors import Results

WRAP = Alignment(wrap_text=True)


def results_xlsx(*, results: Results, office: str | None = None) -> bytes:
    """``office``: 编制单位 (default: the configured office alone)."""
    header = ["名次", "单位", "区划代码"]
    for line in results.lines:
        header += [f"{line.name}（{fmt(line.points)}分）", f"{line.name}名次"]
    header += ["加分", "扣分", "总分", "等次", "黄牌警告", "包保领导/部门", "一票否决原因"]
    widths = dict.fromkeys(range(max(16, len(header))), 14)
    widths[1] = 16
    writer = XlsxWriter()
    heading = Heading(f"{results.year}年目标管理责任制考核结果", office or office_name(), f"{results.year}年度")
    ws = writer.sheet(f"{results.year}年考核结果", heading=heading, widths=widths, freeze="C2")
    for notice in results.late_notices:
        ws.append([Styled(notice, alignment=WRAP)])
    ws.header(header)
    for row in results.ranked + results.vetoed:
        a = row.assessment
        values = [row.rank if row.rank else "否决", a.area.name, a.area_id]
        by_line = {ln.line.pk: ln for ln in row.lines}
        for line in results.lines:
            ln = by_line.get(line.pk)
            values += [ln.score if ln else None, ln.rank if ln and ln.rank else None]
        values += [a.bonus_total, a.deduction_total, a.total, row.grade,  # Decimal: exact in the workbook
                   "是" if row.yellow_card else "", "、".join(p.name for p in row.pairings)]  # fmt: skip
        values.append(Styled(a.veto_reason, alignment=WRAP))
        ws.append(values)
    return writer.save()
