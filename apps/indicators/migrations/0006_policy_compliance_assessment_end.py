"""出生政策符合率 ends with the 2021 policy change (editable data, not code): from 20 July 2021 the Decision on
optimising the birth policy abolished the social maintenance fee and the penalties behind "out of policy", so
births after 19 July 2021 (the last day of the example fee standard) are no longer assessed; a report period
starting after it shows the rate as 不适用. Birth policy status itself stays computed for history."""

from datetime import date

from django.db import migrations

REASON = "2021年7月20日起取消社会抚养费及相关处罚，此后出生不再考核政策符合率（不适用）"


def load(apps, schema_editor):
    apps.get_model("indicators", "AssessmentEnd").objects.get_or_create(
        indicator_code="policy_compliance_rate", defaults={"last_date": date(2021, 7, 19), "reason": REASON}
    )


def unload(apps, schema_editor):
    apps.get_model("indicators", "AssessmentEnd").objects.filter(indicator_code="policy_compliance_rate").delete()


class Migration(migrations.Migration):
    dependencies = [("indicators", "0005_demography_indicators_and_assessment_end")]
    operations = [migrations.RunPython(load, unload)]
