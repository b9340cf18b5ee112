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


__all__ = [
    "ALL_MODULES",
    "PASSWORD",
    "a_content_editor",
    "a_draft_of",
    "answer_quiz",
    "clinic_with_a_patient",
    "complete",
    "shown_quiz",
]


def a_content_editor(email="edith@example.org", full_name="Edith Editor"):
    from django.contrib.auth.models import Group

    from accounts.models import CONTENT_EDITORS_GROUP

    editor = ClinicianFactory(email=email, full_name=full_name, is_staff=True)
    editor.groups.add(Group.objects.get_or_create(name=CONTENT_EDITORS_GROUP)[0])
    return editor


def a_draft_of(slug, old, new):
    """An edited copy of `slug` loaded as a draft, as an author's change would be."""
    import shutil
    import tempfile
    from pathlib import Path

    from education.content import CONTENT_DIR

    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(CONTENT_DIR / slug, Path(folder) / slug)
        module_file = Path(folder) / slug / "module.md"
        text = module_file.read_text()
        assert old in text
        module_file.write_text(text.replace(old, new, 1))
        services.load_library(Path(folder))
    return Module.objects.get(slug=slug).versions.drafts().get()


def complete(assignment, name):
    """The patient passed the quiz and acknowledged, through the real services; the
    acknowledgment."""
    draw, questions = services.issue_draw(assignment=assignment)
    answers = {q.pk: next(c.pk for c in q.shown_choices if c.is_correct) for q in questions}
    services.submit_quiz(assignment=assignment, draw=draw, answers=answers, questions=questions)
    return services.acknowledge(
        assignment=assignment,
        version=assignment.module.current_version,
        typed_name=name,
        ip_address=None,
        user_agent="test",
    )
