"""Example grade bands (等次) and yellow-card rules per year. Seed 004 gives no thresholds (L141, §4.7 of the
notes): these rows are examples a county edits in the admin, not rules of the text."""

from decimal import Decimal

from django.db import migrations

YEARS = (2025, 2026, 2027)
BANDS = (("优秀", Decimal("900")), ("良好", Decimal("800")), ("合格", Decimal("600")), ("不合格", Decimal("0")))


def load(apps, schema_editor):
    GradeBand = apps.get_model("scoring", "GradeBand")
    ResultRules = apps.get_model("scoring", "ResultRules")
    for year in YEARS:
        ResultRules.objects.get_or_create(year=year, defaults={"yellow_card_bottom_ranks": 1})
        for label, min_total in BANDS:
            GradeBand.objects.get_or_create(year=year, label=label, defaults={"min_total": min_total})


def unload(apps, schema_editor):
    apps.get_model("scoring", "GradeBand").objects.filter(year__in=YEARS).delete()
    apps.get_model("scoring", "ResultRules").objects.filter(year__in=YEARS).delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
