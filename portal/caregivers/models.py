import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from education.models import Module, ModuleVersion


class CaregiverAccessQuerySet(models.QuerySet):
    def live(self):
        return self.filter(revoked_at__isnull=True)

    def of_patient(self, patient):
        """Who has, or had, access to `patient`'s modules, live ones first, newest first."""
        return (
            self.filter(patient=patient)
            .select_related("caregiver", "invited_by", "revoked_by")
            .order_by(models.F("revoked_at").desc(nulls_first=True), "-invited_at")
        )


class CaregiverAccess(models.Model):
    """A patient's permission for one caregiver to read the modules assigned to them (never
    their scores, answers, questions or visits). Given by the patient, or by a clinician of
    the patient's clinic with the patient's consent; `consent` says how and `consent_wording`
    keeps the statement as shown. Revoking it ends the caregiver's access at once; the row
    stays, so the patient and the clinic can see who had access when."""

    class Consent(models.TextChoices):
        PATIENT = "patient", _("Given by the patient in the portal")
        IN_PERSON = "in_person", _("Patient agreed in person")
        BY_PHONE = "by_phone", _("Patient agreed by phone")
        IN_WRITING = "in_writing", _("Patient agreed in writing")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="caregiver_accesses")
    caregiver = models.ForeignKey(User, on_delete=models.PROTECT, related_name="cared_for")
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    invited_at = models.DateTimeField(default=timezone.now)
    consent = models.CharField(max_length=12, choices=Consent.choices)
    consent_wording = models.TextField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = CaregiverAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-invited_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "caregiver"],
                condition=Q(revoked_at__isnull=True),
                name="one_live_access_per_patient_and_caregiver",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_by__isnull=True)
                | Q(revoked_at__isnull=False, revoked_by__isnull=False),
                name="caregiver_access_revoked_by_someone",
            ),
        ]

    def __str__(self):
        return f"Caregiver access {self.code}"


class CaregiverQuizAttempt(models.Model):
    """A caregiver's own quiz on a module they read through `access`: what was asked, in
    the order shown, and what they chose. Never the patient's record. Append-only."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    access = models.ForeignKey(CaregiverAccess, on_delete=models.PROTECT, related_name="attempts")
    version = models.ForeignKey(ModuleVersion, on_delete=models.PROTECT, related_name="+")
    # The signed draw's key: the same page submitted twice records one attempt.
    submission_key = models.UUIDField()
    # [[question id, [choice id, ...], chosen choice id, correct], ...] in the order shown.
    answers = models.JSONField()
    correct_count = models.PositiveSmallIntegerField()
    question_count = models.PositiveSmallIntegerField()
    passed = models.BooleanField()
    language = models.CharField(max_length=8, default="en")
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["access", "submission_key"], name="one_caregiver_attempt_per_draw"
            ),
        ]

    def __str__(self):
        return f"Caregiver quiz attempt {self.code}"


class CaregiverAcknowledgment(models.Model):
    """A caregiver's statement that they read a version, with what was shown and what they
    typed, like a patient's acknowledgment but theirs. Append-only."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    access = models.ForeignKey(CaregiverAccess, on_delete=models.PROTECT, related_name="acknowledgments")
    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(ModuleVersion, on_delete=models.PROTECT, related_name="+")
    content_hash = models.CharField(max_length=64)
    language = models.CharField(max_length=8, default="en")
    statement = models.TextField()
    typed_name = models.CharField(max_length=150)
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["access", "version"], name="one_caregiver_acknowledgment_per_version"
            ),
        ]

    def __str__(self):
        return f"Caregiver acknowledgment {self.code}"
