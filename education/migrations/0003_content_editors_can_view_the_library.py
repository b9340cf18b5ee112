from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT_EDITORS_GROUP = "Content editors"
LIBRARY_MODELS = ["module", "moduleversion", "question", "choice"]


def grant_view(apps, schema_editor):
    # Permissions are normally created after migrations; create them now to grant them.
    app_config = apps.get_app_config("education")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editors, _ = Group.objects.get_or_create(name=CONTENT_EDITORS_GROUP)
    codenames = [f"view_{model}" for model in LIBRARY_MODELS]
    editors.permissions.add(*Permission.objects.filter(content_type__app_label="education", codename__in=codenames))


def revoke_view(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    editors = Group.objects.filter(name=CONTENT_EDITORS_GROUP).first()
    if editors:
        editors.permissions.remove(*editors.permissions.filter(content_type__app_label="education"))


class Migration(migrations.Migration):
    dependencies = [
        ("education", "0002_append_only_on_postgresql"),
        ("accounts", "0002_content_editors_group"),
    ]

    operations = [migrations.RunPython(grant_view, revoke_view)]
