"""The birth registration deadline (出生登记时限) of DESIGN §6: 30 days; the county edits it in the admin."""

from datetime import date

from django.db import migrations


def load(apps, schema_editor):
    apps.get_model("indicators", "RegistrationDeadline").objects.create(
        days=30, valid_from=date(1900, 1, 1), note="出生登记及时率：出生后30天内登记为及时"
    )


def unload(apps, schema_editor):
    apps.get_model("indicators", "RegistrationDeadline").objects.filter(valid_from=date(1900, 1, 1)).delete()


class Migration(migrations.Migration):
    dependencies = [("indicators", "0003_registration_deadline")]
    operations = [migrations.RunPython(load, unload)]
