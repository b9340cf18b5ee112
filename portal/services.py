"""Writes of the clinic's workflow: follow-up visits, and the overview's figures."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Clinic, Membership, User
from education.models import Answer, Assignment
from portal.models import ClinicFigures, FollowUpVisit


@transaction.atomic
def schedule_visit(
    *,
    patient: User,
    clinician: User,
    scheduled_at: datetime.datetime,
    assignments: list[Assignment],
    created_by: User,
) -> FollowUpVisit:
    """Schedule a follow-up visit and link the patient's assignments to talk about."""
    if scheduled_at <= timezone.now():
        raise ValidationError({"scheduled_at": "A new visit must be in the future."})
    members = Membership.objects.filter(clinic=patient.clinic_id, user__in=[clinician.pk, created_by.pk])
    if members.values("user").distinct().count() != len({clinician.pk, created_by.pk}):
        raise ValidationError({"clinician": "The clinician must work at the patient's clinic."})
    if any(assignment.patient_id != patient.pk for assignment in assignments):
        raise ValidationError({"assignments": "Only this patient's modules can be linked to the visit."})
    visit = FollowUpVisit.objects.create(
        patient=patient, clinician=clinician, scheduled_at=scheduled_at, created_by=created_by
    )
    visit.assignments.set(assignments)
    return visit


def link_assignments(*, visit: FollowUpVisit, assignments: list[Assignment]) -> None:
    if any(assignment.patient_id != visit.patient_id for assignment in assignments):
        raise ValidationError("Only this patient's modules can be linked to the visit.")
    visit.assignments.add(*assignments)


def mark_visit_held(*, visit: FollowUpVisit, held_by: User, note: str) -> None:
    """Record that the visit took place, once, with the clinician's short note."""
    now = timezone.now()
    held = FollowUpVisit.objects.filter(pk=visit.pk, held_at__isnull=True).update(
        held_at=now, held_by=held_by, held_note=note.strip()
    )
    if not held:
        raise ValidationError("This visit is already marked as held.")
    visit.held_at, visit.held_by, visit.held_note = now, held_by, note.strip()


def summarise_clinic(clinic: Clinic) -> ClinicFigures:
    """The overview's figures of one clinic, recomputed from its records (two aggregates
    over that clinic's assignments and answers) and stored with the time."""
    now = timezone.now()
    modules = (
        Assignment.objects.not_cancelled()
        .filter(patient__clinic=clinic)
        .values("module")
        .annotate(assigned=Count("pk"), completed=Count("pk", filter=Q(completed_at__isnull=False)))
        .order_by()
    )
    questions = (
        Answer.objects.filter(attempt__assignment__patient__clinic=clinic)
        .values("question")
        .annotate(missed=Count("pk", filter=Q(is_correct=False)), answered=Count("pk"))
        .order_by()
    )
    figures, _ = ClinicFigures.objects.update_or_create(
        clinic=clinic,
        defaults={
            "as_of": now,
            "modules": {str(row["module"]): [row["assigned"], row["completed"]] for row in modules},
            "questions": {str(row["question"]): [row["missed"], row["answered"]] for row in questions},
        },
    )
    return figures


def current_figures(clinics: list[Clinic]) -> list[ClinicFigures]:
    """The stored figures of `clinics`, summarising now those that have none or whose
    figures are older than FIGURES_MAX_AGE (the periodic task is late or not running, as
    under `make run`)."""
    stored = {figures.clinic_id: figures for figures in ClinicFigures.objects.filter(clinic__in=clinics)}
    oldest = timezone.now() - settings.FIGURES_MAX_AGE
    return [
        figures
        if (figures := stored.get(clinic.pk)) and figures.as_of >= oldest
        else summarise_clinic(clinic)
        for clinic in clinics
    ]
