"""The people and records the journeys start from, created through the real services."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import Clinic, User
from education import services
from education.models import Choice, Module
from tests.factories import PASSWORD, ClinicFactory, ClinicianFactory, PatientFactory
from tests.library import load_and_approve


@dataclass
class Setup:
    clinic: Clinic
    alice: User
    pat: User


ALL_MODULES = "all"


def clinic_with_a_patient(modules=("driving-and-machinery",)) -> Setup:
    """Riverside with Alice and Pat; Pat has `modules` assigned (slugs, or ALL_MODULES)."""
    load_and_approve()
    clinic = ClinicFactory(name="Riverside")
    alice = ClinicianFactory(email="alice@example.org", full_name="Alice Clinician", clinics=[clinic])
    pat = PatientFactory(email="pat@example.org", full_name="Pat Patient", clinic=clinic)
    if modules:
        services.assign_modules(
            patients=[pat],
            modules=list(
                Module.objects.all() if modules == ALL_MODULES else Module.objects.filter(slug__in=modules)
            ),
            assigned_by=alice,
            due_date=timezone.localdate() + datetime.timedelta(days=7),
        )
    return Setup(clinic, alice, pat)


def shown_quiz(page) -> list[tuple[str, list[tuple[int, bool]]]]:
    """The open quiz page's questions in the order shown: each radio group's name with its
    choices (id, whether right) in the order shown. The draw is random; the page says it."""
    radios = page.locator("input[type=radio]").evaluate_all("els => els.map(e => [e.name, e.value])")
    ids = [int(value) for _, value in radios]
    right = set(Choice.objects.filter(pk__in=ids, is_correct=True).values_list("pk", flat=True))
    questions: dict[str, list[tuple[int, bool]]] = {}
    for name, value in radios:
        questions.setdefault(name, []).append((int(value), int(value) in right))
    return list(questions.items())


def answer_quiz(page, right=None, submit=True):
    """Answer the questions shown: the first `right` right (all by default), the rest wrong."""
    questions = shown_quiz(page)
    right = len(questions) if right is None else right
    for number, (name, choices) in enumerate(questions):
        choice = next(pk for pk, is_right in choices if is_right == (number < right))
        page.locator(f"input[name='{name}'][value='{choice}']").check()
    if submit:
        page.get_by_role("button", name="Submit my answers").click()


__all__ = ["ALL_MODULES", "PASSWORD", "answer_quiz", "clinic_with_a_patient", "shown_quiz"]
