"""Example birth-policy rules (editable data, not code): the one-child era with the rural
second-child-if-the-first-is-a-girl rule, the 2016 universal two-child policy and the 2021 three-child policy."""

from datetime import date

from django.db import migrations

RULES = [
    ("独生子女政策：城镇（非农业户口）一孩", date(1980, 1, 1), date(2015, 12, 31), "non_agricultural", "always", 1,
     "《人口与计划生育法》（2001）及省条例"),
    ("独生子女政策：农村（农业户口）一孩", date(1980, 1, 1), date(2015, 12, 31), "agricultural", "always", 1,
     "《人口与计划生育法》（2001）及省条例"),
    ("农村独女户可生育第二个子女", date(1984, 1, 1), date(2015, 12, 31), "agricultural", "first_child_female", 2,
     "省计划生育条例：农村第一个子女为女孩的夫妻可申请再生育"),
    ("全面两孩政策", date(2016, 1, 1), date(2021, 5, 30), "", "always", 2,
     "《人口与计划生育法》2015年修正，2016年1月1日施行"),
    ("三孩生育政策", date(2021, 5, 31), None, "", "always", 3,
     "《中共中央 国务院关于优化生育政策促进人口长期均衡发展的决定》（2021）"),
]  # fmt: skip


def load(apps, schema_editor):
    Rule = apps.get_model("registry", "BirthPolicyRule")
    for name, valid_from, valid_to, hukou, condition, allowed, source in RULES:
        Rule.objects.get_or_create(
            name=name,
            defaults={
                "valid_from": valid_from,
                "valid_to": valid_to,
                "hukou_type": hukou,
                "condition": condition,
                "children_allowed": allowed,
                "source": source,
            },
        )


def unload(apps, schema_editor):
    apps.get_model("registry", "BirthPolicyRule").objects.filter(name__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
