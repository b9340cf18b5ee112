from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Clinic workflow"

    def ready(self):
        from portal import audit  # noqa: F401 - connects the audit trail's receivers
