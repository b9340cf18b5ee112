"""A clinic's staff, managed by its clinic admins: invite, change role, remove."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import services as account_services
from accounts.forms import add_service_errors
from portal import audit, selectors, services
from portal.access import clinic_admin_required, get_membership_for_clinic_admin
from portal.forms import StaffInviteForm, StaffRoleForm
from portal.models import AuditEvent
from portal.views import report_invitation

Action = AuditEvent.Action


@clinic_admin_required
@require_GET
def staff_list(request):
    clinics = selectors.staff_of_clinics(request.user)
    return _staff_page(request, clinics, StaffInviteForm(clinics=clinics))


def _staff_page(request, clinics, invite_form, status=200):
    context = {
        "clinics": clinics,
        "invite_form": invite_form,
        "roles": StaffRoleForm.base_fields["role"].choices,
    }
    return render(request, "portal/staff.html", context, status=status)


@clinic_admin_required
@require_POST
def staff_invite(request):
    clinics = selectors.staff_of_clinics(request.user)
    form = StaffInviteForm(request.POST, clinics=clinics)
    if form.is_valid():
        try:
            sent = account_services.invite_clinician(admin=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            _audit_staff(request, Action.STAFF_INVITED, sent.invitation.invitee, form.cleaned_data["clinic"])
            report_invitation(request, sent, "invited")
            return redirect("portal:staff")
    return _staff_page(request, clinics, form, status=400)


@clinic_admin_required
@require_POST
def staff_resend(request, clinic, code):
    membership = get_membership_for_clinic_admin(request, clinic, code)
    try:
        sent = account_services.resend_staff_invitation(admin=request.user, membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        _audit_staff(request, Action.INVITATION_SENT, membership.user, membership.clinic)
        report_invitation(request, sent, "resent")
    return redirect("portal:staff")


@clinic_admin_required
@require_POST
def staff_role(request, clinic, code):
    membership = get_membership_for_clinic_admin(request, clinic, code)
    form = StaffRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose clinician or clinic admin."))
        return redirect("portal:staff")
    try:
        changed = account_services.change_staff_role(
            admin=request.user, membership=membership, role=form.cleaned_data["role"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if changed:
            _audit_staff(
                request, Action.STAFF_ROLE_CHANGED, membership.user, membership.clinic, membership.role
            )
            role = membership.get_role_display().lower()
            messages.success(
                request, _("%(name)s is now %(role)s.") % {"name": membership.user, "role": role}
            )
    return redirect("portal:staff")


@clinic_admin_required
@require_POST
def staff_remove(request, clinic, code):
    membership = get_membership_for_clinic_admin(request, clinic, code)
    try:
        services.remove_from_staff(admin=request.user, membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        _audit_staff(request, Action.STAFF_REMOVED, membership.user, membership.clinic)
        messages.success(
            request,
            _("%(name)s is no longer on the staff of %(clinic)s.")
            % {"name": membership.user, "clinic": membership.clinic},
        )
    return redirect("portal:staff")


def _audit_staff(request, action, clinician, clinic, role=""):
    """On the clinic's trail: the account by its code, and the role it now has."""
    detail = f"account {clinician.code}" + (f"; role {role}" if role else "")
    audit.record(action, request=request, clinic_id=clinic.pk, detail=detail)
