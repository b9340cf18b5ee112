"""On PostgreSQL the database itself refuses to change or delete published content and
what patients did; the application only ever inserts these rows."""

from django.db import migrations

APPEND_ONLY_TABLES = [
    "education_moduleversion",
    "education_question",
    "education_choice",
    "education_quizattempt",
    "education_answer",
    "education_acknowledgment",
]

FUNCTION = """
CREATE OR REPLACE FUNCTION portal_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: rows in this table are append-only', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # No params: the % in RAISE are PL/pgSQL placeholders, not query parameters.
    schema_editor.execute(FUNCTION, params=None)
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION portal_refuse_change()"
        )


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


class Migration(migrations.Migration):
    dependencies = [("education", "0001_initial")]

    operations = [migrations.RunPython(add_triggers, remove_triggers)]
