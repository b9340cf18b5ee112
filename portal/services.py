"""Writes of the clinic's workflow: follow-up visits, teach-back, a patient's upkeep, the
clinic's staff, and the overview's figures."""

import copy
import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts import services as account_services
from accounts.models import Clinic, Membership, User
from education import progress
from education import services as education_services
from education.models import Answer, Assignment, PatientProgress
from education.services import AssignResult
from portal import selectors
from portal.caregivers import services as caregiver_services
from portal.models import ClinicFigures, FollowUpVisit, Reminder, TeachBack


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
    _refuse_past(scheduled_at, _("A new visit must be in the future."))
    _refuse_outsiders(patient, clinician, created_by)
    if any(assignment.patient_id != patient.pk for assignment in assignments):
        raise ValidationError({"assignments": _("Only this patient's modules can be linked to the visit.")})
    visit = FollowUpVisit.objects.create(
        patient=patient, clinician=clinician, scheduled_at=scheduled_at, created_by=created_by
    )
    visit.assignments.set(assignments)
    return visit


def _refuse_past(scheduled_at: datetime.datetime, message: str) -> None:
    if scheduled_at <= timezone.now():
        raise ValidationError({"scheduled_at": message})


def _refuse_outsiders(patient: User, *clinicians: User) -> None:
    """Whoever sees or changes the visit works at the patient's clinic."""
    wanted = {clinician.pk for clinician in clinicians}
    members = Membership.objects.filter(clinic=patient.clinic_id, user__in=wanted, user__is_active=True)
    if members.values("user").distinct().count() != len(wanted):
        raise ValidationError({"clinician": _("The clinician must work at the patient's clinic.")})


def link_assignments(*, visit: FollowUpVisit, assignments: list[Assignment]) -> None:
    if any(assignment.patient_id != visit.patient_id for assignment in assignments):
        raise ValidationError(_("Only this patient's modules can be linked to the visit."))
    visit.assignments.add(*assignments)


# What each ending says when the visit has already ended another way; lazy, as it is read
# at import and shown in the language of the page.
ALREADY_ENDED = {
    "held": gettext_lazy("This visit is already marked as held."),
    "cancelled": gettext_lazy("This visit was cancelled."),
    "no_show": gettext_lazy("This visit is already marked as missed."),
}


def _change_planned(visit: FollowUpVisit, **fields) -> None:
    """Change a visit that is still planned: the UPDATE matches only such a visit, so two
    clinicians acting at the same moment cannot both end or move it. An unsent digest for
    the old day goes with it."""
    if visit.state != "planned":
        raise ValidationError(ALREADY_ENDED[visit.state])
    if not FollowUpVisit.objects.still_planned().filter(pk=visit.pk).update(**fields):
        visit.refresh_from_db()
        raise ValidationError(
            ALREADY_ENDED.get(visit.state, _("This visit changed meanwhile. Reload the page."))
        )
    for name, value in fields.items():
        setattr(visit, name, value)
    _drop_unsent_digests(visit)


def mark_visit_held(*, visit: FollowUpVisit, held_by: User, note: str) -> None:
    """Record that the visit took place, once, with the clinician's short note, and keep
    its summary's table as it stands now: the chart of a past visit must not change as the
    patient goes on learning."""
    rows = selectors.visit_summary_rows(selectors.visit_records_with_teach_back(visit))
    _change_planned(
        visit,
        held_at=timezone.now(),
        held_by=held_by,
        held_note=note.strip(),
        summary_when_held=[row.as_held() for row in rows],
    )


def cancel_visit(*, visit: FollowUpVisit, cancelled_by: User, reason: str) -> None:
    """Call off a visit that has not taken place; the reason stays on the visit."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the visit is cancelled.")})
    if visit.state == "held":
        raise ValidationError(_("A visit that was held cannot be cancelled."))
    _change_planned(
        visit, cancelled_at=timezone.now(), cancelled_by=cancelled_by, cancel_reason=reason.strip()
    )


def mark_no_show(*, visit: FollowUpVisit, marked_by: User) -> None:
    """The patient did not come: only once the visit's time has come."""
    if visit.state == "planned" and visit.scheduled_at > timezone.now():
        raise ValidationError(_("A visit can be marked as missed only once its time has come."))
    _change_planned(visit, no_show_at=timezone.now(), no_show_by=marked_by)


@transaction.atomic
def reschedule_visit(
    *, visit: FollowUpVisit, scheduled_at: datetime.datetime, clinician: User, changed_by: User
) -> list[str]:
    """Move a planned visit to another time or clinician. Returns the names of the fields
    that changed, for the audit trail (names, never values)."""
    if visit.state != "planned":
        raise ValidationError(ALREADY_ENDED[visit.state])
    _refuse_past(scheduled_at, _("Choose a time in the future."))
    _refuse_outsiders(visit.patient, clinician, changed_by)
    changed = [
        name
        for name, before, after in (
            ("scheduled_at", visit.scheduled_at, scheduled_at),
            ("clinician", visit.clinician_id, clinician.pk),
        )
        if before != after
    ]
    if not changed:
        raise ValidationError(_("Nothing changed: choose another time or another clinician."))
    _change_planned(visit, scheduled_at=scheduled_at, clinician=clinician)
    return changed


def _drop_unsent_digests(visit: FollowUpVisit) -> None:
    """A digest planned for the old day, not yet sent, would announce a visit that is no
    longer tomorrow: the outbox row goes, and the planner plans the new day's."""
    Reminder.objects.pending().filter(visit=visit, claimed_at__isnull=True).delete()


# Teach-back --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeachBackEntry:
    assignment: Assignment
    outcome: str
    note: str = ""


def record_teach_back(
    *, visit: FollowUpVisit, entries: list[TeachBackEntry], recorded_by: User
) -> list[TeachBack]:
    """What the clinician checked with the patient, per module linked to the visit, from the
    visit's day on. Rows are only added: an entry equal to the newest one for its module at
    this visit (a form sent twice) adds nothing. Returns the rows added."""
    if refusal := teach_back_refusal(visit):
        raise ValidationError(refusal)
    linked = set(visit.assignments.values_list("pk", flat=True))
    if any(entry.assignment.pk not in linked for entry in entries):
        raise ValidationError(_("Teach-back can only be recorded for the modules linked to this visit."))
    if not entries:
        raise ValidationError(_("Choose an outcome for at least one module."))
    newest = {
        row.assignment_id: row for row in TeachBack.objects.filter(visit=visit).order_by("recorded_at", "pk")
    }
    now = timezone.now()
    rows = [
        TeachBack(
            visit=visit,
            assignment=entry.assignment,
            outcome=entry.outcome,
            note=entry.note.strip(),
            recorded_by=recorded_by,
            recorded_at=now,
        )
        for entry in entries
        if not _same_as(newest.get(entry.assignment.pk), entry)
    ]
    return TeachBack.objects.bulk_create(rows)


def teach_back_refusal(visit: FollowUpVisit) -> str:
    """Why teach-back cannot be recorded for the visit now, or "" when it can."""
    if visit.state in ("cancelled", "no_show"):
        return _("Teach-back is recorded for visits that took place.")
    zone = ZoneInfo(visit.patient.clinic.time_zone)
    if timezone.localdate(visit.scheduled_at, zone) > timezone.localdate(timezone.now(), zone):
        return _("Teach-back can be recorded from the day of the visit.")
    return ""


def _same_as(row: TeachBack | None, entry: TeachBackEntry) -> bool:
    return row is not None and (row.outcome, row.note) == (entry.outcome, entry.note.strip())


def assign_again(
    *, visit: FollowUpVisit, assignment: Assignment, assigned_by: User, due_date
) -> AssignResult:
    """The module whose teach-back needs review, assigned to the patient again (skipped if it
    is still open) and linked to the patient's next planned visit, if any."""
    if not TeachBack.objects.filter(visit=visit, assignment=assignment).exists():
        raise ValidationError(_("Record the teach-back for this module first."))
    with transaction.atomic():
        result = education_services.assign_modules(
            patients=[visit.patient], modules=[assignment.module], assigned_by=assigned_by, due_date=due_date
        )
        following = (
            FollowUpVisit.objects.filter(patient=visit.patient_id).upcoming().exclude(pk=visit.pk).first()
        )
        if following and result.created:
            link_assignments(visit=following, assignments=result.created)
    return result


# A patient's upkeep ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientChange:
    changed: list[str]  # the names of the fields that changed, for the audit trail
    invitation: account_services.SentInvitation | None = None  # sent when the address changed


def update_patient(
    *,
    patient: User,
    changed_by: User,
    full_name: str,
    email: str,
    date_of_birth,
    record_number: str,
    language: str | None = None,
) -> PatientChange:
    """Correct a patient's details. A new address must be proven before it signs in: the
    old password stops working and a one-time link goes to the new address."""
    _require_member(changed_by, patient.clinic_id)
    wanted = {
        "full_name": " ".join(full_name.split()),
        "email": User.objects.normalize_email(email),
        "date_of_birth": date_of_birth,
        "record_number": record_number.strip(),
        "language": language or patient.language,
    }
    changed = [name for name, value in wanted.items() if getattr(patient, name) != value]
    if not changed:
        raise ValidationError(_("Nothing changed."))
    if "email" in changed:
        account_services.refuse_existing_email(wanted["email"], patient.clinic, owner=patient)
    # Checked on a copy: refused details must not show on the page that explains why.
    edited = copy.copy(patient)
    for name in changed:
        setattr(edited, name, wanted[name])
    edited.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            User.objects.select_for_update().get(pk=patient.pk)
            link = _reverify(edited, changed_by) if "email" in changed else None
            edited.save(update_fields=[*changed, "updated_at", *(["password"] if link else [])])
            if "full_name" in changed:
                progress.refresh([patient.pk], only=("full_name",))
    except IntegrityError as error:
        # Another clinician gave the address or record number to someone a moment ago.
        raise ValidationError(
            _("Another patient was given these details a moment ago. Reload the page.")
        ) from error
    sent = account_services.send_invitation(*link, patient.clinic) if link else None
    return PatientChange(changed, sent)


def _reverify(patient: User, sent_by: User):
    """The password stops working until the patient proves the new address is theirs."""
    patient.set_unusable_password()
    return account_services.replace_invitation(invitee=patient, sent_by=sent_by)


def deactivate_patient(*, patient: User, changed_by: User) -> None:
    """Sign-in and reminders stop; every record stays. An unused invitation link is
    revoked, so it cannot be used to sign in either."""
    _require_member(changed_by, patient.clinic_id)
    with transaction.atomic():
        if not User.objects.filter(pk=patient.pk, is_active=True).update(
            is_active=False, updated_at=timezone.now()
        ):
            raise ValidationError(_("This patient is already inactive."))
        account_services.revoke_invitations(patient)
        caregiver_services.patient_deactivated(patient)
    patient.is_active = False


def reactivate_patient(*, patient: User, changed_by: User) -> None:
    """The patient can sign in again with their password, or be sent a new invitation."""
    _require_member(changed_by, patient.clinic_id)
    if not User.objects.filter(pk=patient.pk, is_active=False).update(
        is_active=True, updated_at=timezone.now()
    ):
        raise ValidationError(_("This patient is already active."))
    patient.is_active = True


@transaction.atomic
def transfer_patient(*, patient: User, to_clinic: Clinic, changed_by: User) -> Clinic:
    """Move the patient, with all their records, to another clinic the clinician works in;
    returns the clinic they left. Planned visits are with the old clinic's staff, so they
    are cancelled or held first."""
    _require_member(changed_by, patient.clinic_id)
    _require_member(changed_by, to_clinic.pk)
    if to_clinic.pk == patient.clinic_id:
        raise ValidationError({"clinic": _("The patient is already at this clinic.")})
    if FollowUpVisit.objects.filter(patient=patient).still_planned().exists():
        raise ValidationError(
            _(
                "This patient has planned visits at their current clinic. Cancel them or mark them "
                "as held or missed first."
            )
        )
    if (
        patient.record_number
        and User.objects.filter(clinic=to_clinic, record_number=patient.record_number).exists()
    ):
        raise ValidationError(
            {
                "clinic": _("Another patient of %(clinic)s has this record number. Change it first.")
                % {"clinic": to_clinic}
            }
        )
    left = patient.clinic
    patient.clinic = to_clinic
    patient.save(update_fields=["clinic", "updated_at"])
    # The dashboard's row follows; the clinics' rosters follow it by trigger.
    PatientProgress.objects.filter(patient=patient).update(clinic=to_clinic)
    return left


def _require_member(clinician: User, clinic_id: int) -> None:
    if not Membership.objects.filter(user=clinician, clinic=clinic_id).exists():
        raise ValidationError({"clinic": _("You can only change patients of clinics you work in.")})


# A clinic's staff -----------------------------------------------------------------------------


@transaction.atomic
def remove_from_staff(*, admin: User, membership: Membership) -> None:
    """Take a clinician off the clinic's staff: they no longer see its patients. Their
    planned visits there are moved to a colleague first, and the clinic keeps an admin."""
    account_services.require_clinic_admin(admin, membership.clinic)
    account_services.refuse_losing_last_admin(membership)
    planned = FollowUpVisit.objects.still_planned().filter(
        clinician=membership.user_id, patient__clinic=membership.clinic_id
    )
    if count := planned.count():
        raise ValidationError(
            ngettext(
                "%(name)s has %(count)s planned visit at this clinic. Move them to another clinician first.",
                "%(name)s has %(count)s planned visits at this clinic. Move them to another clinician first.",
                count,
            )
            % {"name": membership.user, "count": number_format(count, force_grouping=True)}
        )
    membership.delete()


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
    figures, _created = ClinicFigures.objects.update_or_create(
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
