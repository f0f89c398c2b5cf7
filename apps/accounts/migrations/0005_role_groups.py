"""One group per role with the Django permissions of the role matrix (DESIGN §4: configuration needs no
superuser), and every existing user put in its roles' groups (the county admin into the admin site)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from apps.accounts.services import role_groups_sync
    from apps.core import access

    role_groups_sync(apps=apps)
    User = apps.get_model("accounts", "User")
    Group = apps.get_model("auth", "Group")
    groups = {group.name: group for group in Group.objects.all()}
    for user in User.objects.exclude(roles=[]):
        user.groups.set([groups[role] for role in user.roles if role in groups])
        if access.may_enter_admin(user.roles) and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_must_change_password_township_admin"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
