import uuid
from zoneinfo import ZoneInfo

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Clinic, User
from education.models import Assignment


class FollowUpVisitQuerySet(models.QuerySet):
    def still_planned(self):
        """Neither held, cancelled nor missed: a visit that may still change or take place."""
        return self.filter(held_at__isnull=True, cancelled_at__isnull=True, no_show_at__isnull=True)

    def upcoming(self, now=None):
        return self.still_planned().filter(scheduled_at__gte=now or timezone.now())


class FollowUpVisit(models.Model):
    """A visit where the clinician goes over the patient's modules. Assignments are linked
    from here, so the education app never depends on the clinic's workflow."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="visits")
    clinician = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    scheduled_at = models.DateTimeField()
    assignments = models.ManyToManyField(Assignment, related_name="visits", blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    held_at = models.DateTimeField(null=True, blank=True)
    held_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    held_note = models.TextField(max_length=2000, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cancel_reason = models.CharField(max_length=200, blank=True)
    no_show_at = models.DateTimeField(null=True, blank=True, help_text="When it was marked as missed.")
    no_show_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The summary's table as it stood when the visit was held (selectors.SummaryRow), so the
    # chart of a past visit shows what the clinician saw then, not today's results.
    summary_when_held = models.JSONField(null=True, blank=True, editable=False)

    objects = FollowUpVisitQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_at"]
        constraints = [
            # A visit ends one way only: held, cancelled or missed.
            models.CheckConstraint(
                condition=models.Q(held_at__isnull=True, cancelled_at__isnull=True)
                | models.Q(held_at__isnull=True, no_show_at__isnull=True)
                | models.Q(cancelled_at__isnull=True, no_show_at__isnull=True),
                name="visit_ends_one_way",
            ),
        ]
        indexes = [
            # Dashboard and patient page: a patient's next visit.
            models.Index(fields=["patient", "scheduled_at"], name="visit_patient_when"),
        ]

    def __str__(self):
        return f"Visit {self.code}"

    @property
    def state(self) -> str:
        if self.held_at:
            return "held"
        if self.cancelled_at:
            return "cancelled"
        if self.no_show_at:
            return "no_show"
        return "planned"

    @property
    def state_label(self) -> str:
        return {
            "held": "Held",
            "cancelled": "Cancelled",
            "no_show": "Missed (no-show)",
            "planned": "Planned",
        }[self.state]

    def label(self) -> str:
        """How pickers and lists name it: "Mon 1 Dec 2026, 18:00 with Dr Alex Morgan", in
        the clinic's time zone. Needs patient__clinic and clinician loaded."""
        local = timezone.localtime(self.scheduled_at, ZoneInfo(self.patient.clinic.time_zone))
        return f"{local:%a} {local.day} {local:%b %Y, %H:%M} with {self.clinician}"


class ReminderQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(sent_at__isnull=True, failed_at__isnull=True, skipped_at__isnull=True)

    def claimable(self, now, lease):
        """Pending and not claimed by a delivery that is still within its lease."""
        return self.pending().filter(models.Q(claimed_at__isnull=True) | models.Q(claimed_at__lt=now - lease))


class Reminder(models.Model):
    """One reminder that must go out once: the outbox row is written before the email is
    sent and marked sent after, so a crash in between is retried, never lost, and the
    unique constraints make a second sweep or a second worker plan nothing new."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("Due within two days")
        OVERDUE = "overdue", _("One day overdue")
        STILL_OVERDUE = "still_overdue", _("Seven days overdue")
        VISIT_DIGEST = "visit_digest", _("Visits tomorrow (clinician digest)")
        UPDATED = "updated", _("A module was updated: acknowledge again")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="reminders")
    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, null=True, blank=True, related_name="reminders"
    )
    visit = models.ForeignKey(
        FollowUpVisit, on_delete=models.PROTECT, null=True, blank=True, related_name="reminders"
    )
    created_at = models.DateTimeField(default=timezone.now)
    claim = models.UUIDField(null=True, blank=True, help_text="The delivery working on it now.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    skipped_at = models.DateTimeField(
        null=True, blank=True, help_text="No longer due when it came to be sent."
    )
    failed_at = models.DateTimeField(null=True, blank=True, help_text="The mail server refused the address.")
    # For "updated": which update it is about, so a later update gets its own reminder.
    update_at = models.DateTimeField(null=True, blank=True)
    # For a digest: the visit time it announces, so a visit moved after its digest went out
    # gets one for its new day.
    visit_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "kind"],
                condition=models.Q(assignment__isnull=False) & ~models.Q(kind="updated"),
                name="one_reminder_per_assignment_and_kind",
            ),
            models.UniqueConstraint(
                fields=["assignment", "update_at"],
                condition=models.Q(kind="updated"),
                name="one_reminder_per_update",
            ),
            models.UniqueConstraint(
                fields=["visit", "visit_at"],
                condition=models.Q(visit__isnull=False),
                name="one_digest_per_visit_time",
            ),
            models.CheckConstraint(
                condition=models.Q(assignment__isnull=False, visit__isnull=True)
                | models.Q(assignment__isnull=True, visit__isnull=False),
                name="reminder_is_about_an_assignment_or_a_visit",
            ),
        ]
        indexes = [
            # Delivery: the pending reminders of one recipient.
            models.Index(
                fields=["recipient"],
                condition=models.Q(sent_at__isnull=True, failed_at__isnull=True, skipped_at__isnull=True),
                name="reminder_pending_by_recipient",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} reminder {self.code}"


def _named(to, *, indexed_alone=True) -> models.ForeignKey:
    """A person or clinic the audit trail names, without a foreign-key constraint in the
    database: the dashboard writes a row per listed patient, and the three key checks and
    two redundant single-column indexes per row were a third of that insert (50 rows:
    2.4 ms, 1.5 ms without). PROTECT still stops Django deleting whom the trail names."""
    return models.ForeignKey(
        to,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=indexed_alone,
    )


class AuditEvent(models.Model):
    """Who saw or changed which patient's record, when, from where. Append-only: the
    application only inserts, and on PostgreSQL a trigger refuses UPDATE and DELETE.
    `detail` never holds health information: counts and record codes only."""

    class Action(models.TextChoices):
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        LOCKED_OUT = "locked_out", _("Sign-in locked after repeated failures")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_RESET_REQUESTED = "password_reset_requested", _("Password reset requested")
        PASSWORD_RESET_THROTTLED = "password_reset_throttled", _("Password reset refused: too many requests")
        INVITATION_SENT = "invitation_sent", _("Invitation sent")
        INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
        PATIENT_VIEWED = "patient_viewed", _("Patient page opened")
        VISIT_SUMMARY_VIEWED = "visit_summary_viewed", _("Visit summary opened")
        VISIT_PDF_DOWNLOADED = "visit_pdf_downloaded", _("Visit summary PDF downloaded")
        VISIT_SCHEDULED = "visit_scheduled", _("Visit scheduled")
        VISIT_RESCHEDULED = "visit_rescheduled", _("Visit moved")
        VISIT_CANCELLED = "visit_cancelled", _("Visit cancelled")
        VISIT_NO_SHOW = "visit_no_show", _("Visit marked as missed")
        VISIT_HELD = "visit_held", _("Visit marked as held")
        TEACH_BACK_RECORDED = "teach_back_recorded", _("Teach-back recorded")
        EXPORT_DOWNLOADED = "export_downloaded", _("Assignments exported")
        AUDIT_EXPORTED = "audit_exported", _("Patient's audit trail exported")
        ASSIGNMENT_CREATED = "assignment_created", _("Modules assigned")
        ASSIGNMENT_CANCELLED = "assignment_cancelled", _("Assignment cancelled")
        ACCESS_CHANGED = "access_changed", _("Role, group or clinic membership changed")
        DRAFTS_LOADED = "drafts_loaded", _("Module drafts loaded from the library files")
        VERSION_APPROVED = "version_approved", _("Module version approved")
        VERSION_REJECTED = "version_rejected", _("Module version rejected")
        SECOND_STEP_SET_UP = "second_step_set_up", _("Two-step sign-in set up")
        SECOND_STEP_PASSED = "second_step_passed", _("Two-step sign-in passed")
        RECOVERY_CODE_USED = "recovery_code_used", _("Two-step sign-in with a recovery code")
        LISTED_ON_DASHBOARD = "listed_on_dashboard", _("Shown on a clinician's patient list")
        QUESTION_ANSWERED = "question_answered", _("Patient's question marked answered")
        RECEIPT_VERIFIED = "receipt_verified", _("Acknowledgment receipt checked")
        PATIENT_EDITED = "patient_edited", _("Patient's details changed")
        PATIENT_DEACTIVATED = "patient_deactivated", _("Patient deactivated")
        PATIENT_REACTIVATED = "patient_reactivated", _("Patient reactivated")
        PATIENT_TRANSFERRED = "patient_transferred", _("Patient moved to another clinic")
        STAFF_INVITED = "staff_invited", _("Clinician invited to the staff")
        STAFF_ROLE_CHANGED = "staff_role_changed", _("Staff role changed")
        STAFF_REMOVED = "staff_removed", _("Clinician removed from the staff")
        API_READ = "api_read", _("Read by the record system (API)")
        API_EVENT_RECEIVED = "api_event_received", _("Clinical event received from the record system")
        API_CLIENT_CREATED = "api_client_created", _("API client created")
        API_CLIENT_REVOKED = "api_client_revoked", _("API client revoked")
        EVENT_RULE_CHANGED = "event_rule_changed", _("Clinical event rule changed")
        SIGN_IN_LINK_REQUESTED = "sign_in_link_requested", _("Sign-in link requested")
        SIGN_IN_LINK_THROTTLED = "sign_in_link_throttled", _("Sign-in link refused: too many requests")
        CAREGIVER_INVITED = "caregiver_invited", _("Caregiver given access to the modules")
        CAREGIVER_REVOKED = "caregiver_revoked", _("Caregiver's access ended")
        CAREGIVER_VIEWED = "caregiver_viewed", _("Modules opened by a caregiver")
        CAREGIVER_QUIZ = "caregiver_quiz", _("A caregiver's own quiz opened")
        CAREGIVER_CONFIRMATION = "caregiver_confirmation", _("A caregiver's own confirmation opened")

    CAREGIVER_PAGES = (Action.CAREGIVER_VIEWED, Action.CAREGIVER_QUIZ, Action.CAREGIVER_CONFIRMATION)

    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=32, choices=Action.choices)
    actor = _named(User)
    patient = _named(User, indexed_alone=False)  # audit_patient_at leads with it
    clinic = _named("accounts.Clinic", indexed_alone=False)  # audit_clinic_at leads with it
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            # The clinic admin's trail page, newest first, filtered by patient or actor.
            models.Index(fields=["clinic", "-at"], name="audit_clinic_at"),
            # One patient's accounting of disclosures.
            models.Index(fields=["patient", "-at"], name="audit_patient_at"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def by_caregiver(self) -> bool:
        """A caregiver's page, whoever the caregiver is (a patient may help another)."""
        return self.action in self.CAREGIVER_PAGES


class ClinicFigures(models.Model):
    """The clinic overview's figures for one clinic, as of a time: per module, assignments
    and completions; per question, wrong answers and answers. Summarised every few minutes
    (portal.tasks.summarise_clinics), so the overview reads one row per clinic instead of
    aggregating every record of the clinic on each view."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, primary_key=True, related_name="+")
    as_of = models.DateTimeField()
    # {module id: [assigned, completed]} and {question id: [missed, answered]}, ids as text (JSON).
    modules = models.JSONField(default=dict)
    questions = models.JSONField(default=dict)

    def __str__(self):
        return f"Figures of clinic {self.clinic_id} as of {self.as_of:%Y-%m-%d %H:%M}"


class TeachBack(models.Model):
    """What the clinician checked with the patient at a visit, for one module: did the
    patient explain it back in their own words? Append-only (a trigger on PostgreSQL): a
    correction is a newer row, and the newest for a visit and module is the one shown."""

    class Outcome(models.TextChoices):
        EXPLAINED = "explained", _("Explained back correctly")
        NEEDS_REVIEW = "needs_review", _("Needs review")
        NOT_DISCUSSED = "not_discussed", _("Not discussed")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    visit = models.ForeignKey(FollowUpVisit, on_delete=models.PROTECT, related_name="teach_backs")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # A visit's records, and the patient's through their visits.
            models.Index(fields=["visit", "recorded_at"], name="teachback_visit_at"),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()} ({self.recorded_at:%Y-%m-%d})"


class SmsConsent(models.Model):
    """A patient's choice about text-message reminders, as they made it: the number, the
    words they were shown, when, and how (the settings page, or a STOP reply). Append-only:
    the newest row is the current choice, and User.reminder_channel follows it."""

    class Source(models.TextChoices):
        SETTINGS = "settings", _("Settings page")
        STOP_REPLY = "stop_reply", _("STOP reply to a text message")

    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    given = models.BooleanField(help_text="True: agreed to texts; False: stopped them.")
    phone = models.CharField(max_length=20)
    wording = models.TextField(blank=True, help_text="The consent statement shown, as shown.")
    source = models.CharField(max_length=12, choices=Source.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{'Agreed to' if self.given else 'Stopped'} texts at {self.at:%Y-%m-%d %H:%M}"
