from datetime import date

from django.db import migrations


def add(apps, schema_editor):
    MatchTolerance = apps.get_model("reconciliation", "MatchTolerance")
    if not MatchTolerance.objects.exists():
        MatchTolerance.objects.create(
            days=3,
            valid_from=date(1990, 1, 1),
            basis="出生日期允许相差3天：录入差错、夜间出生跨日、按登记日误填；可在管理后台按生效日期调整",
        )


class Migration(migrations.Migration):
    dependencies = [("reconciliation", "0001_outside_births_and_tolerance")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
