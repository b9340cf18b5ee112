"""Writes of the clinic's workflow: follow-up visits."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, User
from education.models import Assignment
from portal.models import FollowUpVisit


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
