import uuid

from django.db import migrations, models


def give_each_user_a_key(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for user in User.objects.filter(unsubscribe_key__isnull=True).only("pk"):
        User.objects.filter(pk=user.pk).update(unsubscribe_key=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_user_reminder_emails")]

    operations = [
        # Added empty, filled one by one, then made unique: a callable default would give
        # every existing row the same value.
        migrations.AddField(
            model_name="user", name="unsubscribe_key", field=models.UUIDField(null=True, editable=False)
        ),
        migrations.RunPython(give_each_user_a_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="unsubscribe_key",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
