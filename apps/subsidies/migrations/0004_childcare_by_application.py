"""育儿补贴 as the national scheme runs it: by application of a parent or guardian, paid to the applicant, by
the child's 户籍 in the county, per child under 3 by month (3,600 yuan a year from 2025-01-01). The amount
and the age limit stay rule data; the mother is no longer the payee, so ``mother_alive`` goes."""

from django.db import migrations

DESCRIPTION = (
    "户籍在本县、未满3周岁的婴幼儿，由父母或其他监护人申领，发给申请人本人账户；每孩每年3600元，按月计算"
    "（出生当月起至满3周岁前一月），2025年1月1日起实施，2025年1月1日前出生的按2025年起未满3周岁的月数计算；"
    "迟申领的补发往月；户籍迁出本县的，迁出次月起停发；同一婴幼儿同一月只发一次。"
)
PREDICATES = [{"code": "age_under", "years": 3}, {"code": "alive"}]
OLD_PREDICATES = [{"code": "age_under", "years": 3}, {"code": "alive"}, {"code": "mother_alive"}]


def forward(apps, schema_editor):
    Programme = apps.get_model("subsidies", "Programme")
    ProgrammeRule = apps.get_model("subsidies", "ProgrammeRule")
    updated = Programme.objects.filter(code="childcare").update(by_application=True, description=DESCRIPTION)
    if updated:
        ProgrammeRule.objects.filter(programme__code="childcare", predicates=OLD_PREDICATES).update(
            predicates=PREDICATES
        )


def backward(apps, schema_editor):
    Programme = apps.get_model("subsidies", "Programme")
    ProgrammeRule = apps.get_model("subsidies", "ProgrammeRule")
    Programme.objects.filter(code="childcare").update(by_application=False)
    ProgrammeRule.objects.filter(programme__code="childcare", predicates=PREDICATES).update(predicates=OLD_PREDICATES)


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0003_childcare_applications")]
    operations = [migrations.RunPython(forward, backward)]
