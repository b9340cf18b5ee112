"""The one way views reach a patient's learning records: their own, or a 404."""

import functools
import uuid

from django.db import connection
from django.http import Http404
from django.shortcuts import get_object_or_404

from education.compiled import AN_ID, CompiledObjects
from education.models import (
    VERSION_TEXT,
    AcknowledgmentReceipt,
    Assignment,
    QuizAttempt,
    QuizDraw,
    VisitQuestion,
)


def get_assignment_for_patient(request, code, *, with_text=True) -> Assignment:
    """The signed-in patient's own assignment, unless cancelled, with its module and
    current version (`with_text`: its rendered body too). Another patient's assignment is a
    404, as is an unknown code."""
    try:
        code = uuid.UUID(str(code))
    except ValueError:
        raise Http404("No such assignment.") from None
    found = _patients_assignment(connection.alias, with_text).objects(
        patient=request.user.pk, code=_as_stored(code)
    )
    if not found:
        raise Http404("No such assignment.")
    assignment = found[0]
    assignment.patient = request.user  # already loaded, with their clinic
    return assignment


# Stands for the assignment's code in the compiled statement (education.compiled).
A_CODE = uuid.UUID(int=20261123)


def _as_stored(code: uuid.UUID):
    """The code as the database column takes it (SQLite stores text)."""
    return Assignment._meta.get_field("code").get_db_prep_value(code, connection)


@functools.cache
def _patients_assignment(alias: str, with_text: bool) -> CompiledObjects:
    """Every patient page's first query, compiled once per process: building it (a join
    of three tables and their columns) took longer than running it."""
    # The patient's pages show the rendered body, never its Markdown source.
    left_out = ("body_markdown",) if with_text else VERSION_TEXT
    assignments = (
        Assignment.objects.filter(patient=AN_ID, code=A_CODE)
        .not_cancelled()
        .select_related("module__current_version__review")
        .defer(*(f"module__current_version__{field}" for field in left_out))
        .order_by()
    )
    return CompiledObjects.of(assignments, alias, patient=AN_ID, code=_as_stored(A_CODE))


def get_attempt_for_patient(request, code) -> QuizAttempt:
    """One of the signed-in patient's own quiz attempts, or a 404."""
    attempts = QuizAttempt.objects.filter(assignment__patient=request.user).select_related(
        "assignment__module__current_version", "version", "draw"
    )
    return get_object_or_404(attempts, code=code)


def find_issued_draw(assignment: Assignment, code: str | None) -> QuizDraw | None:
    """The draw `code` if it was issued for `assignment` (which the caller reached through
    an access helper), with its attempt if answered; None for any other value, so a
    forged or foreign draw gets a message rather than a page."""
    try:
        code = uuid.UUID(str(code))
    except ValueError:
        return None
    # The code is unique: no ORDER BY (first() would add one) to compile or run.
    draws = assignment.draws.select_related("attempt").filter(code=code).order_by()[:1]
    return next(iter(draws), None)


def get_assignment_for_clinician(request, code) -> Assignment:
    """An assignment of a patient in one of the signed-in clinician's clinics, or a 404."""
    assignments = Assignment.objects.filter(
        patient__clinic__memberships__user=request.user,
    ).select_related("patient", "module")
    return get_object_or_404(assignments, code=code)


def get_question_for_patient(request, code) -> VisitQuestion:
    """One of the signed-in patient's own questions for the visit, or a 404."""
    return get_object_or_404(VisitQuestion.objects.filter(assignment__patient=request.user), code=code)


def get_question_for_clinician(request, code) -> VisitQuestion:
    """A question of a patient in one of the signed-in clinician's clinics, or a 404."""
    questions = VisitQuestion.objects.filter(
        assignment__patient__clinic__memberships__user=request.user
    ).select_related("assignment__patient")
    return get_object_or_404(questions, code=code)


def get_receipt_for_patient(request, code) -> AcknowledgmentReceipt:
    """The receipt of one of the signed-in patient's own acknowledgments (by the
    acknowledgment's code), with what it prints, or a 404."""
    receipts = AcknowledgmentReceipt.objects.filter(
        acknowledgment__assignment__patient=request.user
    ).select_related("acknowledgment__version")
    return get_object_or_404(receipts, acknowledgment__code=code)


def find_receipt_for_clinician(request, verification_code: str) -> AcknowledgmentReceipt | None:
    """The receipt with this code if its patient is in one of the signed-in clinician's
    clinics; None for an unknown code and for another clinic's, alike."""
    receipts = AcknowledgmentReceipt.objects.filter(
        acknowledgment__assignment__patient__clinic__memberships__user=request.user,
        verification_code=verification_code,
    ).select_related("acknowledgment__version", "acknowledgment__assignment__patient__clinic")
    return receipts.first()
