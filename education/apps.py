from django.apps import AppConfig


class EducationConfig(AppConfig):
    name = "education"
    verbose_name = "Education"

    def ready(self):
        # Connects the receiver that starts a new patient's progress row.
        from education import progress  # noqa: F401
