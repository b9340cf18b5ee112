from django import forms
from django.utils.translation import gettext_lazy

from education.forms import QuizForm
from portal.caregivers.models import CaregiverAccess
from portal.caregivers.services import CLINICIAN_CONSENTS, NO_CONSENT


class CaregiverQuizForm(QuizForm):
    """The patients' quiz form, carrying its draw signed instead of by a stored code."""

    draw = forms.CharField(widget=forms.HiddenInput, max_length=4000)


class InviteCaregiverForm(forms.Form):
    """The patient's invitation: who, and their agreement to the statement shown."""

    full_name = forms.CharField(
        label=gettext_lazy("Their name"),
        max_length=150,
        error_messages={"required": gettext_lazy("Enter the caregiver's name.")},
    )
    email = forms.EmailField(
        label=gettext_lazy("Their email address"),
        error_messages={
            "required": gettext_lazy("Enter the caregiver's email address."),
            "invalid": gettext_lazy("Enter an email address like name@example.org."),
        },
    )
    agree = forms.BooleanField(
        label=gettext_lazy("I agree to the statement above."),
        error_messages={"required": gettext_lazy("Tick the box to agree, or do not invite anyone.")},
    )


class ClinicianInviteCaregiverForm(InviteCaregiverForm):
    """A clinician's invitation for a patient: how the patient gave their consent."""

    agree = None
    consent = forms.ChoiceField(
        label=gettext_lazy("How did the patient agree?"),
        choices=[(c.value, c.label) for c in CaregiverAccess.Consent if c in CLINICIAN_CONSENTS],
        widget=forms.RadioSelect,
        error_messages={"required": NO_CONSENT},
    )
