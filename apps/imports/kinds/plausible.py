"""The registry's plausibility rules over the staged rows (``registry.plausibility``, the same statements the
forms and the API run for one entry): a refusal rejects the row with the rule's message, a held row is kept
and reported as a warning, which the clerk confirms by committing after the dry run."""

from __future__ import annotations

from apps.imports.engine import ImportContext, RowError
from apps.registry.plausibility import Finding


def stage_findings(cursor, ctx: ImportContext, findings: list[Finding], columns: dict[str, str]) -> list[RowError]:
    """Marks the refused rows rejected and returns their errors (one per row, like every stage check); adds
    the held rows' warnings to ``ctx.warnings``. ``columns`` maps a finding's field to the sheet's header."""
    errors: dict[int, RowError] = {}
    for f in findings:
        if f.refused and f.row not in errors:
            errors[f.row] = RowError(f.row, columns.get(f.field, ""), f.message)
    if errors:
        cursor.execute("UPDATE import_stage SET rejected = true WHERE row_no = ANY(%(rows)s)", {"rows": sorted(errors)})
    ctx.warnings += [
        RowError(f.row, columns.get(f.field, ""), f"请核实：{f.message}")
        for f in findings
        if not f.refused and f.row not in errors
    ]
    return list(errors.values())
