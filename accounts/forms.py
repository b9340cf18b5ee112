from django import forms
from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Clinic, User


class PatientDetailsForm(forms.Form):
    """What the clinic keeps about a patient, validated and normalised; the services
    (`invite_patient`, `update_patient`) check the rest."""

    # Labels spelled out, as Django would derive them, so that they are translated.
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("Email address"), max_length=254)
    date_of_birth = forms.DateField(
        label=gettext_lazy("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Optional."),
    )
    record_number = forms.CharField(
        label=gettext_lazy("Record number"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("Optional. Unique within the clinic."),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        # Left out (an older page, a script), the portal's own language; a wrong one is refused.
        required=False,
        help_text=gettext_lazy("The portal, the modules and the emails come in this language."),
    )

    def clean_full_name(self):
        return tidy_name(self.cleaned_data["full_name"], _("Enter the patient's full name."))

    def clean_language(self):
        return self.cleaned_data["language"] or settings.LANGUAGE_CODE


def tidy_name(typed: str, when_empty: str) -> str:
    """A typed name with its spaces tidied; `when_empty` is the error for a blank one."""
    name = " ".join(typed.split())
    if not name:
        raise forms.ValidationError(when_empty)
    return name


class InvitePatientForm(PatientDetailsForm):
    clinic = forms.ModelChoiceField(
        label=gettext_lazy("Clinic"), queryset=Clinic.objects.none(), empty_label=None
    )

    def __init__(self, *args, clinician: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the clinician's own clinics are valid choices: a forged id is refused.
        self.fields["clinic"].queryset = Clinic.objects.of_member(clinician)
        self.order_fields(["clinic", "full_name", "email", "language", "date_of_birth", "record_number"])


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=settings.LANGUAGES,
        error_messages={"invalid_choice": gettext_lazy("Choose English or Spanish.")},
    )


def add_service_errors(form, error):
    """Show a service's ValidationError on the form: on its field where the form has
    one, otherwise at the top."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


def posted_next(request) -> str | None:
    """The page a form asked to return to (its "next" field), if it is on this site."""
    back = request.POST.get("next", "")
    on_this_site = url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return back if on_this_site else None


def posted_data(request):
    """The POST data to bind a form to, or None on GET. Unlike `request.POST or None`, an
    empty POST (a lone checkbox unticked) still binds, so it is saved, not ignored."""
    return request.POST if request.method == "POST" else None


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=gettext_lazy(
            "The 6-digit code from your authenticator app, or one of your recovery codes."
        ),
    )
