import uuid

from django.db import models
from django.utils import timezone

from accounts.models import User
from education.models import Assignment


class FollowUpVisitQuerySet(models.QuerySet):
    def upcoming(self, now=None):
        return self.filter(held_at__isnull=True, scheduled_at__gte=now or timezone.now())


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

    objects = FollowUpVisitQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_at"]
        indexes = [
            # Dashboard and patient page: a patient's next visit.
            models.Index(fields=["patient", "scheduled_at"], name="visit_patient_when"),
        ]

    def __str__(self):
        return f"Visit {self.code}"
