"""API clients of a clinic's record system, the rules that turn its clinical events into
assignments, and the events received."""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Clinic, User
from education.models import Module


class ApiClientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiClient(models.Model):
    """A record system allowed to call the API for one clinic. Its token is shown once
    when created; only its SHA-256 is kept."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="api_clients")
    name = models.CharField(max_length=100)
    can_read = models.BooleanField(default=True, help_text="Read the clinic's records (FHIR).")
    can_write = models.BooleanField(default=False, help_text="Send clinical events that assign modules.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(max_length=8, editable=False, help_text="The token's last characters.")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = ApiClientQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(can_read=True) | Q(can_write=True), name="api_client_has_a_scope"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def scopes(self) -> list[str]:
        return [scope for scope, allowed in (("read", self.can_read), ("write", self.can_write)) if allowed]


class EventKind(models.TextChoices):
    """The clinical events the record system can send, as it sends them."""

    BENZODIAZEPINE_STARTED = "benzodiazepine-started", _("started a benzodiazepine")
    DOSE_LOWERED = "dose-lowered", _("dose lowered")
    OPIOID_ADDED = "opioid-added", _("opioid added")
    ANNUAL_REVIEW = "annual-review", _("annual review")


class EventRule(models.Model):
    """A clinic's choice of modules for one kind of event; without one, the portal's
    default (interop.services.DEFAULT_RULES) applies."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    modules = models.ManyToManyField(Module, related_name="+")
    due_in_days = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(90)])
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "kind"], name="one_rule_per_clinic_and_kind")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.clinic}"


class ClinicalEvent(models.Model):
    """An event the record system sent, once: its id is unique in the clinic, so a repeat
    (a retry, or twenty at once) finds this row and assigns nothing again."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="events")
    event_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    occurred_on = models.DateField()
    received_at = models.DateTimeField(default=timezone.now)
    # What it did: the slugs of the modules assigned, and of those already open (left as they were).
    assigned = models.JSONField(default=list)
    already_open = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "event_id"], name="one_event_per_clinic_and_id"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.event_id})"
