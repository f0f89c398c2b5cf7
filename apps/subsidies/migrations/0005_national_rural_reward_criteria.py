"""The 奖扶 rule per the national criteria (农村部分计划生育家庭奖励扶助制度, 2004), corrected in place.

The example rule of 0002 counted births instead of living children, checked only the beneficiary's own
hukou, and counted out-of-policy births of any year. The national criteria are: 本人及配偶均为农业户籍;
1973年至2001年间没有政策外生育; 现存一个子女或两个女孩，或子女死亡现无子女; 年满60周岁. This was a
transcription error, not a policy change, so the rule row itself is corrected (the audit trail keeps the old
predicates) rather than closed and followed by a new dated version.
"""

from django.db import migrations

NATIONAL = [
    {"code": "hukou", "type": "agricultural"},
    {"code": "spouse_hukou", "type": "agricultural"},
    {"code": "age_at_least", "years": 60},
    {"code": "alive"},
    {"code": "living_one_or_two_daughters_or_none"},
    {"code": "no_out_of_policy_birth_between", "from_year": 1973, "to_year": 2001},
]
OLD = [
    {"code": "hukou", "type": "agricultural"},
    {"code": "age_at_least", "years": 60},
    {"code": "alive"},
    {"code": "one_child_or_two_daughters"},
    {"code": "no_out_of_policy_birth"},
]
DESCRIPTION = (
    "本人及配偶均为农业户籍、1973年至2001年间无政策外生育、现存一个子女或两个女孩或子女死亡现无子女、"
    "年满60周岁的父母，按人按年发放。"
)


def load(apps, schema_editor):
    Programme = apps.get_model("subsidies", "Programme")
    ProgrammeRule = apps.get_model("subsidies", "ProgrammeRule")
    Programme.objects.filter(code="rural_reward").update(description=DESCRIPTION)
    ProgrammeRule.objects.filter(programme__code="rural_reward", predicates=OLD).update(
        predicates=NATIONAL,
        source="农村部分计划生育家庭奖励扶助制度（国家标准：夫妻均为农业户籍，1973—2001年无政策外生育，"
        "现存一个子女或两个女孩或子女死亡现无子女，年满60周岁；每人每年960元）",
    )


def unload(apps, schema_editor):
    ProgrammeRule = apps.get_model("subsidies", "ProgrammeRule")
    ProgrammeRule.objects.filter(programme__code="rural_reward", predicates=NATIONAL).update(predicates=OLD)


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0004_childcare_by_application")]
    operations = [migrations.RunPython(load, unload)]
