"""Audit rows cannot be erased: the append-only trigger on every pghistory event table (apps/core/audit.py).

Event tables added later get it after their own migration (post_migrate in CoreConfig)."""

from django.db import migrations


def protect(apps, schema_editor):
    from apps.core.audit import protect_event_tables

    protect_event_tables(schema_editor.connection)


def unprotect(apps, schema_editor):
    from apps.core.audit import APPEND_ONLY_TRIGGER, event_tables

    qn = schema_editor.connection.ops.quote_name
    existing = set(schema_editor.connection.introspection.table_names())
    for table in [*event_tables(), "pghistory_context"]:
        if table in existing:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {APPEND_ONLY_TRIGGER} ON {qn(table)}")
    schema_editor.execute("DROP FUNCTION IF EXISTS core_audit_append_only()")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_export_log"),
        ("pghistory", "__latest__"),
        ("accounts", "0003_remove_user_insert_insert_remove_user_update_update_and_more"),
        ("areas", "0002_remove_area_insert_insert_remove_area_update_update_and_more"),
        ("registry", "0006_plausibility_rules"),
        ("imports", "0002_job_attempts"),
        ("indicators", "0004_registration_deadline_example"),
        ("fees", "0002_example_standard_and_policy"),
        ("subsidies", "0002_fixture_programmes"),
        ("scoring", "0004_contract_target_indicator_choices"),
    ]

    operations = [migrations.RunPython(protect, unprotect)]
