"""A draw records what a patient was shown; like their answers, it is never changed.
The refusal function comes from 0002."""

from django.db import migrations

TABLE = "education_quizdraw"


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION portal_refuse_change()"
    )


def remove_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("education", "0004_question_banks_and_draws")]

    operations = [migrations.RunPython(add_trigger, remove_trigger)]
