from django.apps import AppConfig


class InteropConfig(AppConfig):
    """The record system's side door: API clients, the FHIR R4 read API, clinical events."""

    name = "portal.interop"
    label = "interop"
    verbose_name = "Record-system integration"
    default_auto_field = "django.db.models.BigAutoField"
