"""Seeded plausibility rules (合理性规则): editable data, not code (DESIGN §5).

- Mother's age at a birth: below 14 or above 60 refused; 14–17 or 51–60 held for confirmation.
- Legal marriage age (法定婚龄, 《婚姻法》1980 art. 6 and 《民法典》art. 1047: 女20、男22, from 1981-01-01; the
  1950 law: 女18、男20): a minor (under 18) is refused; from 18 up to the legal age the entry is held until the
  clerk confirms it. Not refused outright: the county's registers carry marriages recorded below the legal age
  (customary marriages registered later, ages off by the birthday), and the team's clean marriages sample
  has husbands of 18-21 that an import must not reject.
- Two births of one mother less than 270 days apart: held (twins, up to 2 days apart across midnight, are fine).
- A marriage while married to someone else (重婚) and a second marriage of the same couple with no divorce
  between: refused.
- An event after the person left the county (latest earlier move 迁出/流出 to outside its villages): held.
- An event after death: refused (a father may have died up to 300 days before the birth).
- A move code that is neither a village of this county nor a well-formed code of another county: refused.
"""

from datetime import date

from django.db import migrations

RULES = [
    ("mother_age_at_birth", "refuse", date(1900, 1, 1), {"min_age": 14, "max_age": 60}, "生育年龄明显不合理"),
    ("mother_age_at_birth", "hold", date(1900, 1, 1), {"min_age": 18, "max_age": 50}, "未成年或高龄生育，请核实"),
    ("marriage_age", "refuse", date(1950, 5, 1), {"min_age_female": 18, "min_age_male": 18}, "未成年人不能登记结婚"),
    ("marriage_age", "hold", date(1950, 5, 1), {"min_age_female": 18, "min_age_male": 20}, "《婚姻法》（1950）第四条"),
    ("marriage_age", "hold", date(1981, 1, 1), {"min_age_female": 20, "min_age_male": 22},
     "《婚姻法》（1980）第六条、《民法典》第一千零四十七条"),
    ("birth_spacing", "hold", date(1900, 1, 1), {"min_days": 270, "same_delivery_days": 2},
     "同一母亲两次生育间隔不足九个月，请核实（相隔两天以内视为同一次分娩）"),
    ("marriage_while_married", "refuse", date(1900, 1, 1), {}, "《民法典》第一千零四十二条：禁止重婚"),
    ("repeated_marriage_same_couple", "refuse", date(1900, 1, 1), {}, "未离婚前不能重复登记结婚"),
    ("event_after_departure", "hold", date(1900, 1, 1), {"move_kinds": ["move_out", "float_out"]},
     "已迁出或流出本县人员的登记，请核实"),
    ("event_after_death", "refuse", date(1900, 1, 1), {"father_grace_days": 300}, "死亡后不应再有登记"),
    ("destination_code", "refuse", date(1900, 1, 1), {"province_min": 11, "province_max": 82},
     "统计用区划代码：省级代码11–82"),
]  # fmt: skip

BEFORE_1981 = date(1980, 12, 31)


def load(apps, schema_editor):
    Rule = apps.get_model("registry", "PlausibilityRule")
    for code, action, valid_from, parameters, basis in RULES:
        valid_to = BEFORE_1981 if (code, action, valid_from) == ("marriage_age", "hold", date(1950, 5, 1)) else None
        Rule.objects.get_or_create(
            code=code,
            action=action,
            valid_from=valid_from,
            defaults={"valid_to": valid_to, "parameters": parameters, "basis": basis},
        )


def unload(apps, schema_editor):
    apps.get_model("registry", "PlausibilityRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_plausibility_rule_model")]
    operations = [migrations.RunPython(load, unload)]
