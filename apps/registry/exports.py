"""Exports of registry lists to Excel: the columns are a django-import-export resource, the file is written by
the one safe writer (``apps.core.exports``: no cell a spreadsheet would run, streamed row by row). ID numbers
and phones are masked unless the caller asked for full numbers with a stated purpose (DESIGN §4)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from import_export import fields, resources

from apps.areas.models import Area
from apps.core.errors import RuleViolation
from apps.core.exports import PURPOSE_MIN_LENGTH, Heading, XlsxWriter, office_name
from apps.core.privacy import mask_id_number, mask_phone
from apps.registry.models import Person

EXPORT_ROW_LIMIT = 200_000


class PersonExportResource(resources.ModelResource):
    id_number = fields.Field(attribute="id_number", column_name="身份证号")
    name = fields.Field(attribute="name", column_name="姓名")
    sex = fields.Field(attribute="get_sex_display", column_name="性别")
    birth_date = fields.Field(attribute="birth_date", column_name="出生日期")
    ethnicity = fields.Field(attribute="ethnicity", column_name="民族")
    hukou_type = fields.Field(attribute="get_hukou_type_display", column_name="户籍性质")
    village = fields.Field(attribute="village_id", column_name="现住址区划代码")
    village_name = fields.Field(attribute="village__name", column_name="村（居）")
    household = fields.Field(attribute="household__number", column_name="户编号")
    relation_to_head = fields.Field(attribute="relation_to_head", column_name="与户主关系")
    marital_status = fields.Field(attribute="get_marital_status_display", column_name="婚姻状况")
    phone = fields.Field(attribute="phone", column_name="联系电话")
    employment_type = fields.Field(attribute="get_employment_type_display", column_name="就业类型")
    death_date = fields.Field(attribute="death_date", column_name="死亡日期")

    class Meta:
        model = Person
        fields = ("id_number", "name", "sex", "birth_date", "ethnicity", "hukou_type", "village",
                        "village_name", "household", "relation_to_head", "marital_status", "phone",
                        "employment_type", "death_date")  # fmt: skip

    def __init__(self, *, full_ids: bool, **kwargs):
        super().__init__(**kwargs)
        self.full_ids = full_ids

    def dehydrate_id_number(self, person: Person) -> str:
        return (person.id_number if self.full_ids else mask_id_number(person.id_number)) or ""

    def dehydrate_phone(self, person: Person) -> str:
        return person.phone if self.full_ids else mask_phone(person.phone)


def persons_export_xlsx(
    *, persons: QuerySet[Person], full_ids: bool, heading: Heading | None = None
) -> tuple[bytes, int]:
    """The persons as an .xlsx file and its row count; the caller passes an area-scoped queryset. The title
    lines above the header keep the file importable (an import looks for its header in the first ten rows)."""
    resource = PersonExportResource(full_ids=full_ids)
    queryset = persons.select_related("village", "household").order_by("village_id", "household__number", "id")
    writer = XlsxWriter()
    sheet = writer.sheet("人口花名册", heading=heading, widths=[21, 10, 6, 12, 8, 10, 15, 18, 14, 10, 10, 14, 12, 12],
                         freeze="A2", text_columns=(0, 6, 11))  # fmt: skip
    sheet.header(resource.get_export_headers())
    above = sheet.rows
    for person in queryset[:EXPORT_ROW_LIMIT].iterator(chunk_size=2000):
        sheet.append(resource.export_resource(person))
    return writer.save(), sheet.rows - above


def persons_export(*, user, area_code: str = "", purpose: str = "") -> tuple[bytes, int]:
    """人口花名册 of the user's area (or of one village or township under it): masked for everyone; full ID
    numbers and phones only for a role that works with them and only with a stated purpose. Every export is
    logged (who, when, which area, how many rows, the purpose)."""
    from apps.core.exports import export_log_record
    from apps.registry import selectors

    full_ids = bool(purpose.strip())
    if full_ids and not user.may_see_full_ids:
        raise RuleViolation("您的角色不能导出完整身份证号", code="full_ids_denied")
    if full_ids and len(purpose.strip()) < PURPOSE_MIN_LENGTH:
        raise RuleViolation(f"导出完整身份证号须说明用途（至少{PURPOSE_MIN_LENGTH}个字）", field="purpose")
    persons = selectors.persons_visible_to(user=user).filter(is_external=False)  # the county's own roster
    if area_code:
        persons = persons.within(area_code)
    area = Area.objects.filter(code=area_code).first() if area_code else user.area
    heading = Heading(
        f"{area.name if area else ''}人口花名册", office_name(user.area), f"截至{timezone.localdate():%Y年%m月%d日}"
    )
    content, rows = persons_export_xlsx(persons=persons, full_ids=full_ids, heading=heading)
    export_log_record(
        by=user,
        export="registry.persons",
        rows=rows,
        full_ids=full_ids,
        purpose=purpose,
        area_code=area_code or (user.area_id or ""),
    )
    return content, rows
