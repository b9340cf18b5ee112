"""The clinic admins' record-system page: API clients (create, show the token once,
revoke) and the rules that turn clinical events into assignments."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import add_service_errors
from accounts.models import Clinic
from portal import audit
from portal.access import clinic_admin_required, get_api_client_for_admin, get_clinic_for_admin
from portal.interop import services
from portal.interop.forms import ApiClientForm, EventRuleForm
from portal.interop.models import ApiClient, EventKind
from portal.models import AuditEvent

Action = AuditEvent.Action


@clinic_admin_required
@require_GET
def integration(request):
    return _integration_page(request)


def _integration_page(request, *, new_token=None, client_form=None, rule_form=None, status=200):
    """Each clinic the admin runs, with its clients and rules. A form that failed is shown
    with its errors in its own clinic's section (`client_form`/`rule_form`: (clinic, form)
    or (clinic, kind, form))."""
    clinics = list(Clinic.objects.administered_by(request.user).order_by("name"))
    clients = ApiClient.objects.filter(clinic__in=clinics).select_related("created_by", "revoked_by")
    published = services.assignable_modules(services.ALL_MODULES)
    sections = []
    for clinic in clinics:
        rules = services.rules_of(clinic)
        sections.append(
            {
                "clinic": clinic,
                "clients": [client for client in clients if client.clinic_id == clinic.pk],
                "client_form": client_form[1]
                if client_form and client_form[0] == clinic
                else ApiClientForm(),
                "rules": [_rule_row(clinic, rules[kind], rule_form, published) for kind in EventKind.values],
            }
        )
    context = {"sections": sections, "new_token": new_token, "kinds": EventKind}
    return render(request, "portal/integration.html", context, status=status)


def _rule_row(clinic, rule, failed, published) -> dict:
    if failed and failed[0] == clinic and failed[1] == rule.kind:
        form = failed[2]
    else:
        modules = services.assignable_modules(rule.slugs, published)
        form = EventRuleForm(initial={"modules": modules, "due_in_days": rule.due_in_days}, prefix=rule.kind)
    return {
        "kind": rule.kind,
        "label": EventKind(rule.kind).label,
        "configured": rule.configured,
        "form": form,
    }


@never_cache  # the page shows the new token once: no copy kept by a browser or proxy
@clinic_admin_required
@require_POST
def integration_client_new(request, clinic):
    clinic = get_clinic_for_admin(request, clinic)
    form = ApiClientForm(request.POST)
    if form.is_valid():
        try:
            new = services.create_client(clinic=clinic, created_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            audit.record(
                Action.API_CLIENT_CREATED,
                request=request,
                clinic_id=clinic.pk,
                detail=f"API client {new.client.code}",
            )
            return _integration_page(request, new_token=new)
    return _integration_page(request, client_form=(clinic, form), status=400)


@clinic_admin_required
@require_POST
def integration_client_revoke(request, clinic, code):
    client = get_api_client_for_admin(request, clinic, code)
    try:
        services.revoke_client(client=client, revoked_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        audit.record(
            Action.API_CLIENT_REVOKED,
            request=request,
            clinic_id=client.clinic_id,
            detail=f"API client {client.code}",
        )
        messages.success(request, _("Revoked “%(name)s”: its token no longer works.") % {"name": client.name})
    return redirect("portal:integration")


@clinic_admin_required
@require_POST
def integration_rule(request, clinic, kind):
    clinic = get_clinic_for_admin(request, clinic)
    if kind not in EventKind.values:
        raise Http404
    form = EventRuleForm(request.POST, prefix=kind)
    if form.is_valid():
        try:
            services.set_rule(clinic=clinic, kind=kind, updated_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            audit.record(
                Action.EVENT_RULE_CHANGED, request=request, clinic_id=clinic.pk, detail=f"rule {kind}"
            )
            messages.success(request, _("Saved the rule for “%(kind)s”.") % {"kind": EventKind(kind).label})
            return redirect("portal:integration")
    return _integration_page(request, rule_form=(clinic, kind, form), status=400)
