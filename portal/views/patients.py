"""A patient's upkeep by the clinicians of their clinic: details, deactivation, moving clinic."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import clinician_required, get_patient_for_clinician
from accounts.forms import add_service_errors, posted_data
from portal import audit, services
from portal.forms import PatientEditForm, TransferForm
from portal.models import AuditEvent
from portal.views import report_invitation

Action = AuditEvent.Action


@clinician_required
@require_http_methods(["GET", "POST"])
def patient_edit(request, code):
    patient = get_patient_for_clinician(request, code)
    form = PatientEditForm(posted_data(request), patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.update_patient(patient=patient, changed_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            # Which fields, never what they were or became.
            detail = f"changed: {', '.join(change.changed)}"
            audit.record(Action.PATIENT_EDITED, request=request, patient=patient, detail=detail)
            if change.invitation:
                audit.record(Action.INVITATION_SENT, request=request, patient=patient)
                report_invitation(request, change.invitation, "saved")
            else:
                messages.success(request, _("The patient's details are saved."))
            return redirect("portal:patient_detail", code=patient.code)
    status = 400 if form.errors else 200
    return render(request, "portal/patient_edit.html", {"form": form, "patient": patient}, status=status)


# What the clinician is told; lazy, so each is translated when shown.
DEACTIVATED = gettext_lazy(
    "%(name)s is inactive: they cannot sign in and get no reminders. Their records are kept."
)
REACTIVATED = gettext_lazy("%(name)s is active again.")


@clinician_required
@require_POST
def patient_deactivate(request, code):
    return _switch_sign_in(
        request, code, services.deactivate_patient, Action.PATIENT_DEACTIVATED, DEACTIVATED
    )


@clinician_required
@require_POST
def patient_reactivate(request, code):
    return _switch_sign_in(
        request, code, services.reactivate_patient, Action.PATIENT_REACTIVATED, REACTIVATED
    )


def _switch_sign_in(request, code, change, action, done):
    """Deactivate or reactivate: the change, its audit row, and what the clinician is told."""
    patient = get_patient_for_clinician(request, code)
    try:
        change(patient=patient, changed_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        audit.record(action, request=request, patient=patient)
        messages.success(request, done % {"name": patient.full_name})
    return redirect("portal:patient_detail", code=patient.code)


@clinician_required
@require_http_methods(["GET", "POST"])
def patient_transfer(request, code):
    patient = get_patient_for_clinician(request, code)
    form = TransferForm(posted_data(request), patient=patient, clinician=request.user)
    if request.method == "POST" and form.is_valid():
        to_clinic = form.cleaned_data["clinic"]
        try:
            left = services.transfer_patient(patient=patient, to_clinic=to_clinic, changed_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            # Both clinics' trails say so: the one the patient left and the one they joined.
            detail = f"from {left} to {to_clinic}"
            for clinic in (left, to_clinic):
                audit.record(
                    Action.PATIENT_TRANSFERRED,
                    request=request,
                    patient=patient,
                    clinic_id=clinic.pk,
                    detail=detail,
                )
            messages.success(
                request, _("%(name)s moved to %(clinic)s.") % {"name": patient.full_name, "clinic": to_clinic}
            )
            return redirect("portal:patient_detail", code=patient.code)
    status = 400 if form.errors else 200
    return render(request, "portal/patient_transfer.html", {"form": form, "patient": patient}, status=status)
