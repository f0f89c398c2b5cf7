"""Writes of the area tree: loading the official division list from CSV.

The CSV has the columns ``code,name,level,parent``; lines starting with ``#`` are comments. The whole file
is validated before anything is written, and then written in one upsert: a file with any error changes
nothing, and loading the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction

from apps.areas.models import LEVEL_SIGNIFICANT_DIGITS, Area, AreaLevel
from apps.core import pagecache
from apps.core.areacodes import contains, is_valid_code
from apps.core.errors import RuleViolation

REQUIRED_COLUMNS = ("code", "name", "level", "parent")


@dataclass
class AreaLoadResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": len(self.errors),
            "error_messages": self.errors,
        }


def _read_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if not line.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in lines)))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RuleViolation(f"区划文件缺少列：{'、'.join(missing)}", code="missing_columns")
    # DictReader row i (0-based) comes from the (i + 1)-th kept line; report the file's own line number.
    return [(lines[i + 1][0], {k: (v or "").strip() for k, v in row.items() if k}) for i, row in enumerate(reader)]


def _validate(rows: list[tuple[int, dict[str, str]]], known: dict[str, str]) -> list[str]:
    errors: list[str] = []
    seen: dict[str, int] = {}
    levels = dict(known)
    for line, row in rows:
        code, level, parent = row["code"], row["level"], row["parent"]
        if not is_valid_code(code):
            errors.append(f"第{line}行：区划代码“{code}”不是12位数字")
            continue
        if code in seen:
            errors.append(f"第{line}行：区划代码{code}与第{seen[code]}行重复")
            continue
        seen[code] = line
        if not row["name"]:
            errors.append(f"第{line}行：名称为空")
        if level not in AreaLevel.values:
            errors.append(f"第{line}行：级别“{level}”无效，应为 {'/'.join(AreaLevel.values)}")
            continue
        if code[LEVEL_SIGNIFICANT_DIGITS[level] :].strip("0"):
            errors.append(f"第{line}行：区划代码{code}与级别“{AreaLevel(level).label}”不符")
        levels[code] = level
    order = list(AreaLevel.values)
    for line, row in rows:
        code, level, parent = row["code"], row["level"], row["parent"]
        if not is_valid_code(code) or level not in AreaLevel.values:
            continue
        if level == AreaLevel.COUNTY:
            if parent:
                errors.append(f"第{line}行：县级区划不应有上级")
            continue
        if parent not in levels:
            errors.append(f"第{line}行：上级区划{parent or '（空）'}不存在")
        elif order.index(levels[parent]) != order.index(level) - 1 or not contains(parent, code):
            errors.append(f"第{line}行：上级区划{parent}不是{code}的直接上级")
    return errors


@transaction.atomic
def areas_load_csv(*, text: str) -> AreaLoadResult:
    """Validates every row, then upserts them all; any error raises ``RuleViolation`` and writes nothing."""
    rows = _read_rows(text)
    existing = {a.code: a for a in Area.objects.all()}
    result = AreaLoadResult(rows=len(rows))
    result.errors = _validate(rows, {code: a.level for code, a in existing.items()})
    if result.errors:
        raise RuleViolation("；".join(result.errors[:20]), code="invalid_rows")

    to_write = []
    for _, row in rows:
        area = Area(code=row["code"], name=row["name"], level=row["level"], parent_id=row["parent"] or None)
        old = existing.get(area.code)
        if old is None:
            result.created += 1
        elif (old.name, old.level, old.parent_id) != (area.name, area.level, area.parent_id):
            result.updated += 1
        else:
            result.unchanged += 1
            continue
        to_write.append(area)
    # Foreign keys are deferred to commit, so parents and children can arrive in any order.
    Area.objects.bulk_create(
        to_write, update_conflicts=True, unique_fields=["code"], update_fields=["name", "level", "parent"]
    )
    if to_write:
        pagecache.bump("areas")  # bulk upsert: no row signals
    return result
