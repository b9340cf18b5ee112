"""Questions for the visit and acknowledgment receipts. Every acknowledgment already made
gets its receipt. On PostgreSQL receipts are append-only, and a question's words never
change while withdrawing or answering it happens once."""

import hashlib
import secrets
import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

# The same alphabet and text as education.receipts; copied so the migration keeps working
# when that module changes.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def add_receipts(apps, schema_editor):
    Acknowledgment = apps.get_model("education", "Acknowledgment")
    Receipt = apps.get_model("education", "AcknowledgmentReceipt")
    taken = set()
    receipts = []
    for acknowledgment in Acknowledgment.objects.select_related("version").iterator():
        code = "".join(secrets.choice(ALPHABET) for _ in range(10))
        while code in taken:
            code = "".join(secrets.choice(ALPHABET) for _ in range(10))
        taken.add(code)
        version = acknowledgment.version
        text = f"{version.title}\n\n{version.body_html}".encode()
        receipts.append(
            Receipt(
                acknowledgment=acknowledgment,
                verification_code=code,
                text_sha256=hashlib.sha256(text).hexdigest(),
            )
        )
    Receipt.objects.bulk_create(receipts, batch_size=1000)


QUESTION_GUARD = """
CREATE OR REPLACE FUNCTION education_visitquestion_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'DELETE on % is not allowed: questions are kept', TG_TABLE_NAME;
    END IF;
    IF NEW.code <> OLD.code OR NEW.assignment_id <> OLD.assignment_id OR NEW.text <> OLD.text
       OR NEW.section <> OLD.section OR NEW.section_title <> OLD.section_title
       OR NEW.asked_at <> OLD.asked_at
       OR ((OLD.withdrawn_at IS NOT NULL OR OLD.answered_at IS NOT NULL)
           AND (NEW.withdrawn_at IS DISTINCT FROM OLD.withdrawn_at
                OR NEW.answered_at IS DISTINCT FROM OLD.answered_at
                OR NEW.answered_by_id IS DISTINCT FROM OLD.answered_by_id)) THEN
        RAISE EXCEPTION 'UPDATE on % may only withdraw or answer a question, once', TG_TABLE_NAME;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # portal_refuse_change comes from 0002. No params: the % are PL/pgSQL placeholders.
    schema_editor.execute(
        "CREATE TRIGGER education_acknowledgmentreceipt_append_only BEFORE UPDATE OR DELETE "
        "ON education_acknowledgmentreceipt FOR EACH ROW EXECUTE FUNCTION portal_refuse_change()"
    )
    schema_editor.execute(QUESTION_GUARD, params=None)
    schema_editor.execute(
        "CREATE TRIGGER education_visitquestion_guard BEFORE UPDATE OR DELETE "
        "ON education_visitquestion FOR EACH ROW EXECUTE FUNCTION education_visitquestion_guard()"
    )


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS education_acknowledgmentreceipt_append_only "
        "ON education_acknowledgmentreceipt"
    )
    schema_editor.execute("DROP TRIGGER IF EXISTS education_visitquestion_guard ON education_visitquestion")
    schema_editor.execute("DROP FUNCTION IF EXISTS education_visitquestion_guard()")


class Migration(migrations.Migration):
    dependencies = [
        ("education", "0010_clinic_roster"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AcknowledgmentReceipt",
            fields=[
                (
                    "acknowledgment",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="receipt",
                        serialize=False,
                        to="education.acknowledgment",
                    ),
                ),
                ("verification_code", models.CharField(max_length=10, unique=True)),
                ("text_sha256", models.CharField(max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="VisitQuestion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("section", models.SlugField(blank=True, max_length=120)),
                ("section_title", models.CharField(blank=True, max_length=200)),
                ("text", models.TextField(max_length=500)),
                ("asked_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("withdrawn_at", models.DateTimeField(blank=True, null=True)),
                ("answered_at", models.DateTimeField(blank=True, null=True)),
                (
                    "answered_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "assignment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="questions",
                        to="education.assignment",
                    ),
                ),
            ],
            options={
                "ordering": ["asked_at", "pk"],
            },
        ),
        migrations.RunPython(add_receipts, migrations.RunPython.noop),
        migrations.RunPython(add_triggers, remove_triggers),
    ]
