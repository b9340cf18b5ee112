"""Who may see a patient's modules: the patient's own page, and the clinician's page for a
patient of their clinic. Both list every access, past and present, invite and revoke."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import clinician_required, get_patient_for_clinician, patient_required
from accounts.forms import add_service_errors, posted_data
from portal import audit
from portal.caregivers import services
from portal.caregivers.access import get_access_for_clinician, get_access_for_patient
from portal.caregivers.forms import ClinicianInviteCaregiverForm, InviteCaregiverForm
from portal.caregivers.models import CaregiverAccess
from portal.models import AuditEvent

Action = AuditEvent.Action

TOO_MANY = gettext_lazy(
    "You have sent several invitations in the last hour. Nothing was sent; please try again later."
)


@patient_required
@require_http_methods(["GET", "POST"])
def my_caregivers(request):
    form = InviteCaregiverForm(posted_data(request))
    consent = CaregiverAccess.Consent.PATIENT
    if request.method == "POST" and form.is_valid() and _invited(request, form, request.user, consent):
        return redirect("portal:caregivers")
    return _page(request, request.user, form, for_clinician=False)


@clinician_required
@require_http_methods(["GET", "POST"])
def patient_caregivers(request, code):
    patient = get_patient_for_clinician(request, code)
    form = ClinicianInviteCaregiverForm(posted_data(request))
    if request.method == "GET":
        audit.record(Action.PATIENT_VIEWED, request=request, patient=patient, detail="caregivers page")
    elif form.is_valid() and _invited(request, form, patient, form.cleaned_data["consent"]):
        return redirect("portal:patient_caregivers", code=patient.code)
    return _page(request, patient, form, for_clinician=True)


def _invited(request, form, patient, consent) -> bool:
    if not audit.caregiver_invitations_allowed(request):
        form.add_error(None, TOO_MANY)
        return False
    try:
        invited = services.invite_caregiver(
            patient=patient,
            invited_by=request.user,
            full_name=form.cleaned_data["full_name"],
            email=form.cleaned_data["email"],
            consent=consent,
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return False
    detail = f"caregiver access {invited.access.code}"
    audit.record(Action.CAREGIVER_INVITED, request=request, patient=patient, detail=detail)
    # The name as typed: the page does not show what another account calls itself.
    name = {"name": " ".join(form.cleaned_data["full_name"].split())}
    if invited.resent:
        messages.success(request, _("We sent %(name)s a new link to set up their account.") % name)
    elif invited.email_sent:
        messages.success(
            request, _("%(name)s can now see the modules. We emailed them how to sign in.") % name
        )
    else:
        messages.warning(
            request,
            _("%(name)s can now see the modules, but the email to them could not be sent. Try again later.")
            % name,
        )
    return True


def _page(request, patient, form, *, for_clinician):
    context = {
        "patient": patient,
        "accesses": CaregiverAccess.objects.of_patient(patient),
        "form": form,
        "for_clinician": for_clinician,
        "statement": services.consent_wording(),
    }
    return render(request, "portal/caregivers.html", context, status=400 if form.errors else 200)


@patient_required
@require_POST
def my_caregiver_revoke(request, code):
    access = get_access_for_patient(request, code)
    _revoke(request, access)
    return redirect("portal:caregivers")


@clinician_required
@require_POST
def patient_caregiver_revoke(request, code):
    access = get_access_for_clinician(request, code)
    _revoke(request, access)
    return redirect("portal:patient_caregivers", code=access.patient.code)


def _revoke(request, access) -> None:
    name = {"name": access.caregiver.full_name}
    if services.revoke_access(access=access, revoked_by=request.user):
        detail = f"caregiver access {access.code}"
        audit.record(Action.CAREGIVER_REVOKED, request=request, patient=access.patient, detail=detail)
        messages.success(request, _("%(name)s can no longer see the modules.") % name)
    else:
        messages.info(request, _("%(name)s's access had already ended.") % name)
