"""人口花名册 as a streamed download (issue 16): the rows are read through one server-side cursor and written
by the one safe writer (``apps.core.exports``: no cell a spreadsheet would run) as they come, so the first
bytes leave at once and memory stays flat for the 600,000-person county. ID numbers and phones are masked
unless the caller asked for full numbers with a stated purpose (DESIGN §4).

The columns are a plain table rather than a django-import-export resource: a resource builds each row from a
model instance (one instance, one attribute walk per cell), several times the cost of reading the values."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from apps.areas.models import Area
from apps.core.errors import RuleViolation
from apps.core.exports import (
    HEADING_ROWS,
    PURPOSE_MIN_LENGTH,
    Download,
    Heading,
    export_log_record,
    office_name,
    streamed_rows,
    table_download,
)
from apps.core.privacy import mask_id_number, mask_phone
from apps.core.xlsxstream import MAX_ROWS
from apps.registry.models import EmploymentType, HukouType, MaritalStatus, Person, Sex

EXPORT_ROW_LIMIT = MAX_ROWS - HEADING_ROWS - 1  # what one Excel sheet holds under the heading and the header


def _label(choices) -> Callable[[Any], str]:
    labels = dict(choices)
    return lambda value: labels.get(value, value or "")


# (header, field read from the database, how a value is shown: None = as it is; masking is decided per export)
PERSON_COLUMNS: list[tuple[str, str, Callable[[Any], Any] | None]] = [
    ("身份证号", "id_number", None),
    ("姓名", "name", None),
    ("性别", "sex", _label(Sex.choices)),
    ("出生日期", "birth_date", None),
    ("民族", "ethnicity", None),
    ("户籍性质", "hukou_type", _label(HukouType.choices)),
    ("现住址区划代码", "village_id", None),
    ("村（居）", "village__name", None),
    ("户编号", "household__number", None),
    ("与户主关系", "relation_to_head", None),
    ("婚姻状况", "marital_status", _label(MaritalStatus.choices)),
    ("联系电话", "phone", None),
    ("就业类型", "employment_type", _label(EmploymentType.choices)),
    ("死亡日期", "death_date", None),
]
PERSON_HEADERS = [header for header, _, _ in PERSON_COLUMNS]


def persons_export_rows(*, persons: QuerySet[Person], full_ids: bool, limit: int | None = None) -> Iterator[list]:
    """The rows of the area-scoped ``persons``, in roster order (village, household, person), masked unless
    ``full_ids``; read lazily through one server-side cursor."""
    shown = {i: show for i, (_, _, show) in enumerate(PERSON_COLUMNS) if show is not None}
    if not full_ids:
        shown[0], shown[11] = mask_id_number, mask_phone
    fields = [f for _, f, _ in PERSON_COLUMNS]
    queryset = persons.order_by("village_id", "household__number", "id").values_list(*fields)[:limit]
    transforms = list(shown.items())
    for values in streamed_rows(queryset):
        row = list(values)
        for i, show in transforms:
            row[i] = show(row[i])
        yield row


def persons_export(*, user, area_code: str = "", purpose: str = "", fmt: str = "xlsx") -> Download:
    """人口花名册 of the user's area (or of one village or township under it), as xlsx or CSV: masked for
    everyone; full ID numbers and phones only for a role that works with them and only with a stated
    purpose. Every refusal happens here, before the first byte; the export is logged (who, when, which area,
    how many rows, the purpose) before it leaves. The title lines above the header keep the file importable
    (an import looks for its header in the first ten rows)."""
    from apps.registry import selectors

    full_ids = bool(purpose.strip())
    if full_ids and not user.may_see_full_ids:
        raise RuleViolation("您的角色不能导出完整身份证号", code="full_ids_denied")
    if full_ids and len(purpose.strip()) < PURPOSE_MIN_LENGTH:
        raise RuleViolation(f"导出完整身份证号须说明用途（至少{PURPOSE_MIN_LENGTH}个字）", field="purpose")
    if fmt not in ("xlsx", "csv"):
        raise RuleViolation("导出格式应为xlsx或csv", field="format")
    persons = selectors.persons_visible_to(user=user).filter(is_external=False)  # the county's own roster
    if area_code:
        persons = persons.within(area_code)
    rows = persons.count()
    if rows > EXPORT_ROW_LIMIT and fmt == "xlsx":
        raise RuleViolation(f"共{rows}人，超过Excel一张工作表的上限，请按乡镇导出或导出CSV", field="area")
    area = Area.objects.filter(code=area_code).first() if area_code else user.area
    heading = Heading(
        f"{area.name if area else ''}人口花名册", office_name(user.area), f"截至{timezone.localdate():%Y年%m月%d日}"
    )
    export_log_record(
        by=user, export="registry.persons", rows=rows, full_ids=full_ids, purpose=purpose,
        area_code=area_code or (user.area_id or ""),
    )  # fmt: skip
    lines = persons_export_rows(persons=persons, full_ids=full_ids, limit=EXPORT_ROW_LIMIT if fmt == "xlsx" else None)
    filename = f"persons-{area_code or user.area_id or 'all'}{'-full' if full_ids else ''}"
    return table_download(
        fmt, PERSON_HEADERS, lines, rows_count=rows,
        filename=filename, title="人口花名册", heading=heading,
        widths=[21, 10, 6, 12, 8, 10, 15, 18, 14, 10, 10, 14, 12, 12], freeze="A2", text_columns=(0, 6, 11),
    )  # fmt: skip
