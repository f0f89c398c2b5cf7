"""The four example programmes (editable in the admin). Amounts and day counts are data, not code."""

from datetime import date
from decimal import Decimal

from django.db import migrations

PROGRAMMES = [
    {
        "code": "rural_reward",
        "name": "农村部分计划生育家庭奖励扶助",
        "subject": "parent",
        "period_kind": "year",
        "reference_day": "end",
        "description": "农业户籍、年满60周岁、只生育一个子女或两个女孩、无政策外生育的父母，按人按年发放。",
        "rules": [
            {
                "category": "奖励扶助",
                "priority": 1,
                "valid_from": date(2016, 1, 1),
                "amount": Decimal("960.00"),
                "source": "农村部分计划生育家庭奖励扶助制度（每人每年960元）",
                "predicates": [
                    {"code": "hukou", "type": "agricultural"},
                    {"code": "age_at_least", "years": 60},
                    {"code": "alive"},
                    {"code": "one_child_or_two_daughters"},
                    {"code": "no_out_of_policy_birth"},
                ],
            }
        ],
    },
    {
        "code": "special_assistance",
        "name": "计划生育家庭特别扶助",
        "subject": "parent",
        "period_kind": "year",
        "reference_day": "end",
        "description": "独生子女死亡或伤残（三级以上，见伤残登记）、女方年满49周岁的父母，按人按年发放；死亡、伤残标准不同。",
        "rules": [
            {
                "category": "独生子女死亡",
                "priority": 1,
                "valid_from": date(2024, 1, 1),
                "amount": Decimal("7080.00"),
                "source": "特别扶助死亡家庭每人每月590元",
                "predicates": [
                    {"code": "only_child_died"},
                    {"code": "mother_age_at_least", "years": 49},
                    {"code": "alive"},
                ],
            },
            {
                "category": "独生子女伤残",
                "priority": 2,
                "valid_from": date(2024, 1, 1),
                "amount": Decimal("5520.00"),
                "source": "特别扶助伤残家庭每人每月460元",
                "predicates": [
                    {"code": "only_child_disabled", "max_grade": 3},
                    {"code": "mother_age_at_least", "years": 49},
                    {"code": "alive"},
                ],
            },
        ],
    },
    {
        "code": "only_child_parents",
        "name": "独生子女父母奖励费",
        "subject": "parent",
        "period_kind": "month",
        "reference_day": "start",
        "description": "只生育一个子女、子女未满18周岁的父母，按人按月发放。",
        "rules": [
            {
                "category": "独生子女父母",
                "priority": 1,
                "valid_from": date(2000, 1, 1),
                "amount": Decimal("10.00"),
                "source": "独生子女父母奖励费每人每月10元",
                "predicates": [
                    {"code": "only_child"},
                    {"code": "youngest_child_under", "years": 18},
                    {"code": "alive"},
                ],
            }
        ],
    },
    {
        "code": "childcare",
        "name": "育儿补贴",
        "subject": "child",
        "period_kind": "month",
        "reference_day": "start",
        "description": "每个未满3周岁的婴幼儿每年3600元，按月发放（每月300元）给母亲，2025年1月1日起。",
        "rules": [
            {
                "category": "育儿补贴",
                "priority": 1,
                "valid_from": date(2025, 1, 1),
                "amount": Decimal("300.00"),
                "source": "育儿补贴制度实施方案（每孩每年3600元）",
                "predicates": [{"code": "age_under", "years": 3}, {"code": "alive"}, {"code": "mother_alive"}],
            }
        ],
    },
]


def load(apps, schema_editor):
    Programme = apps.get_model("subsidies", "Programme")
    ProgrammeRule = apps.get_model("subsidies", "ProgrammeRule")
    for spec in PROGRAMMES:
        spec = dict(spec)
        rules = spec.pop("rules")
        programme, _ = Programme.objects.update_or_create(code=spec.pop("code"), defaults=spec)
        for rule in rules:
            ProgrammeRule.objects.get_or_create(programme=programme, category=rule["category"], valid_from=rule["valid_from"], defaults={**rule, "notice_days": 7})


def unload(apps, schema_editor):
    Programme = apps.get_model("subsidies", "Programme")
    ProgrammeRule = apps.get_model("subsidies", "ProgrammeRule")
    codes = [p["code"] for p in PROGRAMMES]
    ProgrammeRule.objects.filter(programme__code__in=codes).delete()
    Programme.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0001_programmes_rosters_payments")]
    operations = [migrations.RunPython(load, unload)]
