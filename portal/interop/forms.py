"""The small JSON form of a clinical event (docs/integration.md), checked by a Django form."""

import datetime

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from education.models import Module
from portal.interop.models import EventKind
from portal.interop.services import EventRequest

# The record system's own id for the event: letters, digits and . _ : - only, so that no
# free text (and no health information) rides in it.
EVENT_ID = RegexValidator(r"^[A-Za-z0-9._:-]{1,64}$", "event_id: 1 to 64 letters, digits, or . _ : -")


class EventForm(forms.Form):
    event_id = forms.CharField(max_length=64, validators=[EVENT_ID])
    type = forms.ChoiceField(choices=EventKind.choices)
    occurred_on = forms.DateField(input_formats=["%Y-%m-%d"])
    patient_identifier = forms.CharField(max_length=50, required=False)
    patient_id = forms.UUIDField(required=False)

    @classmethod
    def from_json(cls, body) -> "EventForm":
        if not isinstance(body, dict):
            body = {}
        patient = body.get("patient") if isinstance(body.get("patient"), dict) else {}
        data = {
            "event_id": body.get("event_id"),
            "type": body.get("type"),
            "occurred_on": body.get("occurred_on"),
            "patient_identifier": patient.get("identifier"),
            "patient_id": patient.get("id"),
        }
        return cls({name: value for name, value in data.items() if isinstance(value, str)})

    def clean_occurred_on(self):
        day = self.cleaned_data["occurred_on"]
        if day > timezone.localdate() + datetime.timedelta(days=1):
            raise forms.ValidationError("occurred_on cannot be in the future.")
        return day

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("patient_identifier") or cleaned.get("patient_id")):
            raise forms.ValidationError(
                'patient: give {"identifier": "<record number>"} or {"id": "<the portal\'s patient id>"}.'
            )
        return cleaned

    def problems(self) -> str:
        """Every problem, one sentence each, named by the JSON field."""
        names = {"patient_identifier": "patient.identifier", "patient_id": "patient.id", "type": "type"}
        lines = []
        for field, errors in self.errors.items():
            label = "" if field == "__all__" else f"{names.get(field, field)}: "
            lines += [f"{label}{error}" for error in errors]
        allowed = ", ".join(EventKind.values)
        if "type" in self.errors:
            lines.append(f"type must be one of: {allowed}.")
        return " ".join(lines)

    def event_request(self) -> EventRequest:
        data = self.cleaned_data
        return EventRequest(
            event_id=data["event_id"],
            kind=data["type"],
            occurred_on=data["occurred_on"],
            record_number=data["patient_identifier"] or "",
            patient_code=str(data["patient_id"]) if data["patient_id"] else "",
        )


class ApiClientForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the record system"), max_length=100, help_text=_("For example “Clinic EHR”.")
    )
    can_read = forms.BooleanField(
        label=_("May read the clinic's records (FHIR)"), required=False, initial=True
    )
    can_write = forms.BooleanField(label=_("May send clinical events that assign modules"), required=False)


class EventRuleForm(forms.Form):
    modules = forms.ModelMultipleChoiceField(
        label=_("Modules to assign"),
        queryset=Module.objects.filter(current_version__isnull=False).order_by("title"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one module.")},
    )
    due_in_days = forms.IntegerField(label=_("Due in (days)"), min_value=1, max_value=90)
