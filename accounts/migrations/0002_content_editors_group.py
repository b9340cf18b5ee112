from django.db import migrations

CONTENT_EDITORS_GROUP = "Content editors"


def create_group(apps, schema_editor):
    # The group's permissions on the module library are granted by the education app.
    apps.get_model("auth", "Group").objects.get_or_create(name=CONTENT_EDITORS_GROUP)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=CONTENT_EDITORS_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
