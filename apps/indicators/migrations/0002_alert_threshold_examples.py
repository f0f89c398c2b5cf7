"""Example alert thresholds (预警阈值); the county edits them in the admin."""

from datetime import date
from decimal import Decimal

from django.db import migrations

EXAMPLES = [
    ("sex_ratio_at_birth", "above", "120", "", date(2010, 1, 1), "出生人口性别比超过120需重点治理"),
    ("policy_compliance_rate", "below", "90", "", date(2010, 1, 1), date(2021, 7, 19), "出生政策符合率目标90%"),
    ("policy_compliance_rate", "below", "95", "", date(2021, 7, 20), "三孩政策实施后目标95%"),
    ("contraceptive_prevalence", "below", "85", "", date(2010, 1, 1), "综合避孕率不低于85%"),
    ("record_completeness_rate", "below", "95", "", date(2015, 1, 1), "全员人口信息完整率不低于95%"),
    ("birth_registration_timeliness", "below", "90", "", date(2015, 1, 1), "出生登记及时率不低于90%"),
    ("multi_birth_rate", "above", "10", "", date(2010, 1, 1), date(2021, 5, 30), "多孩率控制在10%以内"),
]


def load(apps, schema_editor):
    AlertThreshold = apps.get_model("indicators", "AlertThreshold")
    rows = []
    for example in EXAMPLES:
        code, comparison, limit, level, valid_from, *rest = example
        valid_to = rest[0] if len(rest) == 2 else None
        rows.append(
            AlertThreshold(
                indicator_code=code,
                comparison=comparison,
                limit=Decimal(limit),
                level=level,
                valid_from=valid_from,
                valid_to=valid_to,
                note=rest[-1],
            )
        )
    AlertThreshold.objects.bulk_create(rows)


def unload(apps, schema_editor):
    apps.get_model("indicators", "AlertThreshold").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("indicators", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
