import uuid

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.forms import LanguageForm, PatientDetailsForm, tidy_name
from accounts.models import Clinic, Membership, User
from education import receipts
from education.models import Assignment, Module
from education.services import MODULE_SETS
from portal.models import FollowUpVisit, TeachBack
from portal.services import TeachBackEntry

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class ModuleCheckboxes(forms.CheckboxSelectMultiple):
    """A module with no approved version is shown, disabled, so the clinician sees why it
    cannot be picked rather than wondering where it went."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if getattr(value, "instance", None) is not None and not value.instance.current_version_id:
            option["attrs"]["disabled"] = True
        return option


class ModuleChoiceMixin(forms.Form):
    """Pick modules one by one, or a named set of them."""

    module_set = forms.ChoiceField(
        label=gettext_lazy("A set of modules"),
        required=False,
        choices=[("", gettext_lazy("None"))]
        + [(key, module_set.name) for key, module_set in MODULE_SETS.items()],
    )
    modules = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Or pick modules"),
        required=False,
        queryset=Module.objects.select_related("current_version__review"),
        widget=ModuleCheckboxes,
    )
    due_date = forms.DateField(label=gettext_lazy("Due date"), widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["modules"].label_from_instance = module_label

    def chosen_modules(self) -> list[Module]:
        """The modules picked or in the set; a module awaiting review is never assigned."""
        chosen = set(self.cleaned_data.get("modules") or [])
        if self.cleaned_data.get("module_set"):
            slugs = MODULE_SETS[self.cleaned_data["module_set"]].slugs
            chosen.update(self.fields["modules"].queryset.filter(slug__in=slugs))
        return sorted((m for m in chosen if m.current_version_id), key=lambda module: module.title)

    def clean_modules(self):
        waiting = [module.title for module in self.cleaned_data["modules"] if not module.current_version_id]
        if waiting:
            raise forms.ValidationError(
                _("%(modules)s cannot be assigned yet: no version has been approved by a reviewer.")
                % {"modules": ", ".join(waiting)}
            )
        return self.cleaned_data["modules"]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.chosen_modules():
            raise forms.ValidationError(_("Choose at least one module or a set of modules."))
        return cleaned


def offer_only(field: forms.ModelChoiceField, objects, label=str) -> None:
    """The field's choices drawn from records the page has read already, instead of the
    field's own query (the patient page read its visits, assignments and clinicians twice).
    What is posted back is still checked against the field's queryset."""
    empty = [("", field.empty_label)] if getattr(field, "empty_label", None) is not None else []
    field.choices = empty + [(item.pk, label(item)) for item in objects]


def module_label(module: Module) -> str:
    """The module's title with its sign-off, as clinicians see it when assigning; flagged
    when its content is due for a check, or not assignable while it waits for review."""
    version = module.current_version
    if version is None:
        return _("%(title)s: waiting for review, cannot be assigned yet") % {"title": module.title}
    review = getattr(version, "review", None)
    label = f"{module.title} · {review.signed}" if review else module.title
    return _("%(module)s · content check due") % {"module": label} if version.review_due else label


class AssignForm(ModuleChoiceMixin):
    visit = forms.ModelChoiceField(
        label=gettext_lazy("Talk about them at this visit"),
        required=False,
        queryset=FollowUpVisit.objects.none(),
        empty_label=gettext_lazy("No visit"),
    )

    def __init__(self, *args, patient: User, upcoming_visits=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visit"].queryset = (
            FollowUpVisit.objects.filter(patient=patient)
            .upcoming()
            .select_related("clinician", "patient__clinic")
        )
        self.fields["visit"].label_from_instance = FollowUpVisit.label
        if upcoming_visits is not None:
            offer_only(self.fields["visit"], upcoming_visits, FollowUpVisit.label)


MAX_TICKED_PATIENTS = 5000


class BulkAssignForm(ModuleChoiceMixin):
    """The patients ticked on the page, or every patient matching the dashboard's filter
    and search: then the selection travels as the filter, not as thousands of ids."""

    # The codes are checked in clean_patients: a choice field would compare each of 1,000
    # codes with all 1,000 choices.
    patients = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    all_matching = forms.BooleanField(required=False)
    status = forms.ChoiceField(choices=[], required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = DashboardFilterForm.STATUS_CHOICES

    def clean_patients(self):
        """Any UUID is accepted here; the view resolves them within the clinician's clinics."""
        codes = self.cleaned_data["patients"] or []
        if len(codes) > MAX_TICKED_PATIENTS:
            raise forms.ValidationError(
                _(
                    "Select at most %(count)s patients at a time, "
                    "or assign to all patients matching the filter."
                )
                % {"count": number_format(MAX_TICKED_PATIENTS, force_grouping=True)}
            )
        try:
            return [str(uuid.UUID(code)) for code in codes]
        except ValueError:
            raise forms.ValidationError(
                _("The selection is not valid. Reload the page and try again.")
            ) from None

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("all_matching") and not cleaned.get("patients") and "patients" not in self.errors:
            self.add_error("patients", _("Select at least one patient."))
        return cleaned


class VisitTimeForm(forms.Form):
    """When and with whom: scheduling a visit, and moving one."""

    scheduled_at = forms.DateTimeField(
        label=gettext_lazy("Date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=gettext_lazy("In the clinic's time zone."),
    )
    clinician = forms.ModelChoiceField(
        label=gettext_lazy("Clinician"), queryset=User.objects.none(), empty_label=None
    )

    def __init__(self, *args, patient: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = User.objects.clinicians().filter(
            memberships__clinic=patient.clinic_id, is_active=True
        )
        # Read once: rendering the select asks for its choices more than once.
        offer_only(self.fields["clinician"], list(self.fields["clinician"].queryset))


class VisitForm(VisitTimeForm):
    assignments = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Modules to talk about"),
        required=False,
        queryset=Assignment.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, patient: User, open_assignments=None, **kwargs):
        super().__init__(*args, patient=patient, **kwargs)
        self.fields["assignments"].queryset = (
            Assignment.objects.filter(patient=patient).not_cancelled().select_related("module")
        )
        self.fields["assignments"].label_from_instance = lambda assignment: assignment.module.title
        if open_assignments is not None:
            offer_only(
                self.fields["assignments"], open_assignments, lambda assignment: assignment.module.title
            )


class VisitCancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why is the visit cancelled?"),
        max_length=200,
        help_text=gettext_lazy(
            "For example: the patient asked to cancel. Up to 200 characters; it stays on the visit."
        ),
    )


class TeachBackForm(forms.Form):
    """One outcome and an optional note per module linked to the visit. A module left at
    "Not recorded now" is not recorded; the fields are named by the assignment's code."""

    def __init__(self, *args, records: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = records
        # Translated once for every module's menu: each lazy label rendered in the loop was a
        # translation lookup of its own, most of what the visit summary's menus cost.
        outcomes = [
            ("", _("Not recorded now")),
            *((value, str(label)) for value, label in TeachBack.Outcome.choices),
        ]
        for record in records:
            code, title = record.assignment.code, record.assignment.module.title
            self.fields[f"outcome_{code}"] = forms.ChoiceField(
                label=_("Teach-back: %(title)s") % {"title": title}, required=False, choices=outcomes
            )
            self.fields[f"note_{code}"] = forms.CharField(
                label=_("Note on %(title)s") % {"title": title}, max_length=300, required=False
            )

    def rows(self) -> list[tuple]:
        """(record, outcome field, note field) per module, for the summary's table."""
        return [
            (record, self[f"outcome_{record.assignment.code}"], self[f"note_{record.assignment.code}"])
            for record in self.records
        ]

    def clean(self):
        cleaned = super().clean()
        for record in self.records:
            code = record.assignment.code
            if cleaned.get(f"note_{code}") and not cleaned.get(f"outcome_{code}"):
                self.add_error(f"outcome_{code}", _("Choose how it went, or clear the note."))
        return cleaned

    def entries(self) -> list[TeachBackEntry]:
        return [
            TeachBackEntry(
                assignment=record.assignment,
                outcome=self.cleaned_data[f"outcome_{record.assignment.code}"],
                note=self.cleaned_data[f"note_{record.assignment.code}"],
            )
            for record in self.records
            if self.cleaned_data.get(f"outcome_{record.assignment.code}")
        ]


class VisitHeldForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Short note"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("What you talked about. Up to 2,000 characters."),
    )


class DashboardFilterForm(forms.Form):
    """Filters that carry no health information, so they may sit in the URL."""

    STATUS_CHOICES = [
        ("", gettext_lazy("All patients")),
        ("not_started", gettext_lazy("Not started")),
        ("in_progress", gettext_lazy("In progress")),
        ("completed", gettext_lazy("Completed")),
        ("overdue", gettext_lazy("Overdue")),
        ("visit_soon", gettext_lazy("Visit in the next 7 days")),
        ("inactive", gettext_lazy("Inactive (deactivated)")),
    ]
    SORT_CHOICES = [
        ("due", gettext_lazy("Next due date")),
        ("activity", gettext_lazy("Last activity")),
        ("name", gettext_lazy("Name")),
    ]

    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=STATUS_CHOICES, required=False)
    sort = forms.ChoiceField(label=gettext_lazy("Sort"), choices=SORT_CHOICES, required=False)


class SearchForm(forms.Form):
    """Posted, not put in the URL: a patient's name must not land in access logs."""

    q = forms.CharField(label=gettext_lazy("Search by name or email"), max_length=100, required=False)


class PatientSettingsForm(LanguageForm):
    reminder_emails = forms.BooleanField(
        label=gettext_lazy("Remind me when a module is due soon or overdue"),
        required=False,
        help_text=gettext_lazy("Reminders only say that something is waiting, never what it is about."),
    )
    reminder_channel = forms.ChoiceField(
        label=gettext_lazy("Send reminders"),
        choices=[("email", gettext_lazy("By email")), ("sms", gettext_lazy("By text message"))],
        widget=forms.RadioSelect,
        required=False,
    )
    phone = forms.CharField(
        label=gettext_lazy("Mobile number"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("For text messages only. Add the country code if it is not a US number."),
    )
    sms_consent = forms.BooleanField(required=False)

    def __init__(self, *args, consent_wording="", **kwargs):
        super().__init__(*args, **kwargs)
        # Left out (an older page, a script), the language and the channel stay as they are.
        self.fields["language"].required = False
        self.fields["sms_consent"].label = consent_wording


class AuditFilterForm(forms.Form):
    """Filters carry record codes and dates only, never a name."""

    patient = forms.UUIDField(required=False, widget=forms.HiddenInput)
    actor = forms.UUIDField(required=False, widget=forms.HiddenInput)
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=DATE_INPUT)
    until = forms.DateField(label=gettext_lazy("To"), required=False, widget=DATE_INPUT)


class ApproveVersionForm(forms.Form):
    reviewer_name = forms.CharField(label=gettext_lazy("Reviewer's name"), max_length=150)
    credential = forms.CharField(
        label=gettext_lazy("Credential"),
        max_length=60,
        help_text=gettext_lazy("For example PharmD, RN or MD."),
    )
    reviewed_on = forms.DateField(label=gettext_lazy("Date of the review"), widget=DATE_INPUT)
    what_changed = forms.CharField(
        label=gettext_lazy("What changed, for patients"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Required for a material change: patients who acknowledged the earlier version "
            "see this when they are asked to acknowledge again. Plain words, no health details of anyone."
        ),
    )
    quiz_required_again = forms.BooleanField(
        label=gettext_lazy("Patients who passed the earlier quiz must pass this one too"), required=False
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the record"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectVersionForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why it is rejected"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


# Django fills in %(show_value)d, the length typed.
HASH_LENGTH_ERROR = gettext_lazy("A SHA-256 has 64 letters and digits; this has %(show_value)d.")


class ReceiptCheckForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Verification code"),
        max_length=20,
        help_text=gettext_lazy("As printed on the receipt, for example 7K2QD-M9XTA."),
        error_messages={"required": gettext_lazy("Type the verification code printed on the receipt.")},
    )
    printed_hash = forms.CharField(
        label=gettext_lazy("Text SHA-256 on the receipt (optional)"),
        required=False,
        max_length=64,
        min_length=64,
        help_text=gettext_lazy("The 64 letters and digits after “Text SHA-256”, to check they match too."),
        error_messages={
            "min_length": HASH_LENGTH_ERROR,
            "max_length": HASH_LENGTH_ERROR,
        },
    )

    def clean_code(self):
        code = receipts.normalized(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(
                _(
                    "A verification code has ten letters and digits, such as 7K2QD-M9XTA. "
                    "Check it against the receipt."
                )
            )
        return code

    def clean_printed_hash(self):
        printed = self.cleaned_data["printed_hash"].strip().lower()
        if printed and any(char not in "0123456789abcdef" for char in printed):
            raise forms.ValidationError(_("A SHA-256 has only the digits 0 to 9 and the letters a to f."))
        return printed


class PatientEditForm(PatientDetailsForm):
    """The patient's details as they are, to correct."""

    def __init__(self, *args, patient: User, **kwargs):
        super().__init__(*args, initial={name: getattr(patient, name) for name in self.base_fields}, **kwargs)
        self.fields["email"].help_text = _(
            "A new address is checked first: the patient gets a new invitation there and signs in "
            "again once they accept it."
        )


class TransferForm(forms.Form):
    clinic = forms.ModelChoiceField(
        label=gettext_lazy("Move to"),
        queryset=Clinic.objects.none(),
        empty_label=None,
        help_text=gettext_lazy(
            "Clinics you work in. The patient's records go with them; this clinic's staff no longer see them."
        ),
    )

    def __init__(self, *args, patient: User, clinician: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the clinician's other clinics: a forged id is refused.
        self.fields["clinic"].queryset = Clinic.objects.of_member(clinician).exclude(pk=patient.clinic_id)


class StaffInviteForm(forms.Form):
    # Labels spelled out, as Django would derive them, so that they are translated.
    clinic = forms.TypedChoiceField(label=gettext_lazy("Clinic"), coerce=int)
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("Email address"), max_length=254)
    role = forms.ChoiceField(
        label=gettext_lazy("Role"), choices=Membership.Role.choices, initial=Membership.Role.CLINICIAN
    )

    def __init__(self, *args, clinics: list[Clinic], **kwargs):
        """`clinics`: those the admin runs, as the page has read them. Only these are valid
        choices, so a forged id is refused."""
        super().__init__(*args, **kwargs)
        self.clinics = {clinic.pk: clinic for clinic in clinics}
        self.fields["clinic"].choices = [(clinic.pk, clinic.name) for clinic in clinics]

    def clean_clinic(self):
        return self.clinics[self.cleaned_data["clinic"]]

    def clean_full_name(self):
        return tidy_name(self.cleaned_data["full_name"], _("Enter the clinician's full name."))


class StaffRoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Membership.Role.choices)
