from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Clinic workflow"

    def ready(self):
        # Connect the receivers now: the middleware's would otherwise wait for the first
        # request, and a sign-in before it (a test's force_login) would miss its stamp.
        from portal import audit, middleware  # noqa: F401
