"""Exports of registry lists to Excel through django-import-export, with ID numbers and phones masked for
every role that may not see them in full (DESIGN §4)."""

from __future__ import annotations

from django.db.models import QuerySet
from import_export import fields, resources

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


def persons_export_xlsx(*, persons: QuerySet[Person], full_ids: bool) -> bytes:
    """The persons as an .xlsx file; the caller passes an area-scoped queryset."""
    queryset = persons.select_related("village", "household").order_by("village_id", "household__number", "id")
    dataset = PersonExportResource(full_ids=full_ids).export(queryset=queryset[:EXPORT_ROW_LIMIT])
    return dataset.export("xlsx")
