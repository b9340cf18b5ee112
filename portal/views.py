import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from kombu import Connection

from accounts import services as account_services
from accounts.access import clinician_required, get_patient_for_clinician
from accounts.forms import InvitePatientForm, add_service_errors
from accounts.models import User

logger = logging.getLogger(__name__)

PATIENTS_PER_PAGE = 50


@require_GET
def home(request):
    """Send each person to the page they come for."""
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    if request.user.is_patient:
        return redirect("education:my_modules")
    return redirect("portal:patient_list")


@never_cache
@require_GET
def healthz(request):
    """200 when the database, and the broker if one is configured, answer; 503 if not."""
    checks = {"database": _database_answers()}
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _broker_answers(settings.CELERY_BROKER_URL)
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if up else "down" for name, up in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)


def _database_answers():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("Health check: the database did not answer", exc_info=True)
        return False


def _broker_answers(url):
    try:
        with Connection(url, connect_timeout=2) as broker:
            # One quick try: a probe that waits on retries makes the load balancer wait too.
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
        return True
    except Exception:
        logger.warning("Health check: the broker did not answer", exc_info=True)
        return False


@clinician_required
@require_GET
def patient_list(request):
    patients = (
        User.objects.visible_to(request.user)
        .select_related("clinic")
        .with_account_status()
        .order_by("full_name", "pk")
    )
    page = Paginator(patients, PATIENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/patient_list.html", {"page": page})


@clinician_required
@require_http_methods(["GET", "POST"])
def patient_new(request):
    form = InvitePatientForm(request.POST or None, clinician=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            sent = account_services.invite_patient(clinician=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            _report_invitation(request, sent, "added")
            return redirect("portal:patient_detail", code=sent.invitation.patient.code)
    return render(request, "portal/patient_new.html", {"form": form})


@clinician_required
@require_GET
def patient_detail(request, code):
    patient = get_patient_for_clinician(request, code)
    invitation = patient.invitations.first()
    context = {"patient": patient, "invitation": invitation}
    return render(request, "portal/patient_detail.html", context)


@clinician_required
@require_POST
def patient_resend_invitation(request, code):
    patient = get_patient_for_clinician(request, code)
    try:
        sent = account_services.resend_invitation(patient=patient, sent_by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        _report_invitation(request, sent, "sent a new invitation to")
    return redirect("portal:patient_detail", code=patient.code)


def _report_invitation(request, sent, verb):
    patient = sent.invitation.patient
    if sent.email_sent:
        messages.success(request, f"You {verb} {patient.full_name}. The invitation email is on its way.")
    else:
        messages.warning(
            request,
            f"You {verb} {patient.full_name}, but the invitation email could not be sent. "
            "Try “Send a new invitation” in a few minutes.",
        )
