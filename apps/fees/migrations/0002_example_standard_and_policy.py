"""Example fee data (editable in the admin, not code): one standard with seed 000's minimums (首征标准,
F0:L81–82) and example multiples of the previous year's per-capita income, ending when the fee was abolished in
2021; and the management parameters (finding township's share 10%, enforcement referral 90 days past due,
instalments at most 36 months, seed 000 L54)."""

from datetime import date
from decimal import Decimal

from django.db import migrations

STANDARD = {
    "name": "社会抚养费征收标准（示例）",
    "valid_from": date(2002, 9, 1),
    # 2021年7月20日《中共中央 国务院关于优化生育政策促进人口长期均衡发展的决定》取消社会抚养费.
    "valid_to": date(2021, 7, 19),
    "urban_income": Decimal("20543.00"),
    "rural_income": Decimal("8081.00"),
    "legal_basis": "《中华人民共和国人口与计划生育法》第四十一条、《社会抚养费征收管理办法》及省人口与计划生育条例",
}

# (category, excess order, multiple min, multiple max, minimum): seed 000's minimums — rural 13,000 / urban 20,000
# for a first excess child, rural 20,000 / urban 30,000 for a second, 40,000 for work-unit employees.
RATES = [
    ("rural", 1, "1.00", "3.00", "13000.00"),
    ("rural", 2, "2.00", "6.00", "20000.00"),
    ("urban", 1, "1.00", "3.00", "20000.00"),
    ("urban", 2, "2.00", "6.00", "30000.00"),
    ("employee", 1, "2.00", "6.00", "40000.00"),
    ("employee", 2, "2.00", "6.00", "40000.00"),
]

POLICY = {
    "valid_from": date(2002, 9, 1),
    "valid_to": None,
    "finding_share_percent": Decimal("10.00"),
    "enforcement_after_days": 90,
    "max_instalment_months": 36,
    "source": "分期缴纳期限不得超过三年（seed 000 L54）；发现地分成比例及移送期限为县级配置示例",
}


def load(apps, schema_editor):
    Standard = apps.get_model("fees", "FeeStandard")
    Rate = apps.get_model("fees", "FeeRate")
    Policy = apps.get_model("fees", "FeePolicy")
    standard, _ = Standard.objects.get_or_create(name=STANDARD["name"], defaults=STANDARD)
    for category, order, low, high, minimum in RATES:
        Rate.objects.get_or_create(
            standard=standard,
            category=category,
            excess_order=order,
            defaults={"multiple_min": Decimal(low), "multiple_max": Decimal(high), "minimum_amount": Decimal(minimum)},
        )
    if not Policy.objects.exists():
        Policy.objects.create(**POLICY)


def unload(apps, schema_editor):
    apps.get_model("fees", "FeeStandard").objects.filter(name=STANDARD["name"]).delete()
    apps.get_model("fees", "FeePolicy").objects.filter(valid_from=POLICY["valid_from"]).delete()


class Migration(migrations.Migration):
    dependencies = [("fees", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
