"""On PostgreSQL the database refuses UPDATE and DELETE on the audit trail."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION portal_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: rows in this table are append-only', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    schema_editor.execute(
        "CREATE TRIGGER portal_auditevent_append_only BEFORE UPDATE OR DELETE ON portal_auditevent "
        "FOR EACH ROW EXECUTE FUNCTION portal_refuse_change()"
    )


def remove_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS portal_auditevent_append_only ON portal_auditevent")


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_audit_event")]

    operations = [migrations.RunPython(add_trigger, remove_trigger)]
