"""The results table as an Excel file (openpyxl): ranked units, then vetoed units apart with the reason."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from apps.scoring.calculation import fmt
from apps.scoring.selectors import Results


def results_xlsx(*, results: Results) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = f"{results.year}年考核结果"
    header = ["名次", "单位", "区划代码"]
    for line in results.lines:
        header += [f"{line.name}（{fmt(line.points)}分）", f"{line.name}名次"]
    header += ["加分", "扣分", "总分", "等次", "黄牌警告", "包保领导/部门", "一票否决原因"]
    ws.append([f"{results.year}年目标管理责任制考核结果"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in results.ranked + results.vetoed:
        a = row.assessment
        values = [row.rank if row.rank else "否决", a.area.name, a.area_id]
        by_line = {ln.line.pk: ln for ln in row.lines}
        for line in results.lines:
            ln = by_line.get(line.pk)
            values += [ln.score if ln else None, ln.rank if ln and ln.rank else None]
        values += [a.bonus_total, a.deduction_total, a.total, row.grade,  # Decimal: exact in the workbook
                   "是" if row.yellow_card else "", "、".join(p.name for p in row.pairings), a.veto_reason]  # fmt: skip
        ws.append(values)
    for column in "ABCDEFGHIJKLMNOP":
        ws.column_dimensions[column].width = 14
    ws.column_dimensions["B"].width = 16
    for cells in ws.iter_rows(min_row=3):
        cells[-1].alignment = Alignment(wrap_text=True)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
