"""Versions published before decisions were recorded get an approval that says so, so
patients keep reading them; and decisions, like versions, are append-only on PostgreSQL
(the refusal function comes from 0002)."""

from django.db import migrations

LEGACY_REVIEWER = "Published before sign-off was recorded (not a clinical review)"


def record_earlier_publications(apps, schema_editor):
    Module = apps.get_model("education", "Module")
    VersionReview = apps.get_model("education", "VersionReview")
    for module in Module.objects.exclude(current_version=None).select_related("current_version"):
        version = module.current_version
        if not VersionReview.objects.filter(version=version).exists():
            VersionReview.objects.create(
                version=version,
                decision="approved",
                reviewer_name=LEGACY_REVIEWER,
                credential="none",
                reviewed_on=version.reviewed_on,
                quiz_required_again=True,
                decided_at=version.published_at,
            )


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE TRIGGER education_versionreview_append_only BEFORE UPDATE OR DELETE "
        "ON education_versionreview FOR EACH ROW EXECUTE FUNCTION portal_refuse_change()"
    )


def remove_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS education_versionreview_append_only ON education_versionreview"
        )


class Migration(migrations.Migration):
    dependencies = [("education", "0007_editorial_workflow")]

    operations = [
        migrations.RunPython(record_earlier_publications, migrations.RunPython.noop),
        migrations.RunPython(add_trigger, remove_trigger),
    ]
