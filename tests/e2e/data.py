"""The people and records the journeys start from, created through the real services."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import Clinic, User
from education import services
from education.models import Module
from tests.factories import PASSWORD, ClinicFactory, ClinicianFactory, PatientFactory


@dataclass
class Setup:
    clinic: Clinic
    alice: User
    pat: User


def clinic_with_a_patient(modules=("driving-and-machinery",)) -> Setup:
    services.load_library()
    clinic = ClinicFactory(name="Riverside")
    alice = ClinicianFactory(email="alice@example.org", full_name="Alice Clinician", clinics=[clinic])
    pat = PatientFactory(email="pat@example.org", full_name="Pat Patient", clinic=clinic)
    if modules:
        services.assign_modules(
            patients=[pat],
            modules=list(Module.objects.filter(slug__in=modules)),
            assigned_by=alice,
            due_date=timezone.localdate() + datetime.timedelta(days=7),
        )
    return Setup(clinic, alice, pat)


def right_choices(module_slug):
    """The right answer's text for each question of the module, in order."""
    version = Module.objects.get(slug=module_slug).current_version
    return [
        next(c.text for c in question.choices.all() if c.is_correct)
        for question in version.questions.prefetch_related("choices")
    ]


__all__ = ["PASSWORD", "clinic_with_a_patient", "right_choices"]
