from django.apps import AppConfig


class CaregiversConfig(AppConfig):
    """Family members and friends a patient shares their modules with: the access a patient
    grants and revokes, and the caregiver's own reading, quizzes and acknowledgments."""

    name = "portal.caregivers"
    label = "caregivers"
    verbose_name = "Caregivers"
    default_auto_field = "django.db.models.BigAutoField"
