import datetime
import logging
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from kombu import Connection

from accounts import services as account_services
from accounts.access import clinician_required, get_patient_for_clinician, patient_required
from accounts.forms import InvitePatientForm, add_service_errors, posted_data
from accounts.middleware import speak
from accounts.models import Clinic, Membership, User
from education import services as education_services
from education.access import get_assignment_for_clinician
from education.models import VisitQuestion
from education.selectors import patient_records
from portal import audit, reminders, selectors, services, sms
from portal.access import (
    clinic_admin_required,
    get_patient_for_clinic_admin,
)
from portal.exports import AUDIT_HEADER, assignment_rows, audit_rows, csv_lines
from portal.forms import (
    AssignForm,
    AuditFilterForm,
    BulkAssignForm,
    DashboardFilterForm,
    PatientSettingsForm,
    SearchForm,
    VisitForm,
)
from portal.models import AuditEvent
from portal.wording import grouped

logger = logging.getLogger(__name__)
Action = AuditEvent.Action


@require_GET
def home(request):
    """Send each person to the page they come for."""
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    if request.user.is_patient:
        return redirect("education:my_modules")
    if request.user.is_caregiver:
        return redirect("caregivers:home")
    return redirect("portal:dashboard")


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
    if checks["database"]:
        # For operators' alerts, not the load balancer: a stuck outbox does not stop pages.
        outbox = reminders.outbox_health()
        body["outbox"] = {"stale_claims": outbox.stale_claims, "overdue": outbox.overdue}
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
@require_http_methods(["GET", "POST"])
def patient_new(request):
    form = InvitePatientForm(posted_data(request), clinician=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            sent = account_services.invite_patient(clinician=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            audit.record(Action.INVITATION_SENT, request=request, patient=sent.invitation.invitee)
            report_invitation(request, sent, "added")
            return redirect("portal:patient_detail", code=sent.invitation.invitee.code)
    return render(request, "portal/patient_new.html", {"form": form})


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
        audit.record(Action.INVITATION_SENT, request=request, patient=patient)
        report_invitation(request, sent, "resent")
    return redirect("portal:patient_detail", code=patient.code)


# Whole sentences per action, as a translation needs them: (email left, email failed).
INVITATION_REPORTS = {
    "added": (
        gettext_lazy("You added %(name)s. The invitation email is on its way."),
        gettext_lazy(
            "You added %(name)s, but the invitation email could not be sent. "
            "Try “Send a new invitation” in a few minutes."
        ),
    ),
    "resent": (
        gettext_lazy("You sent a new invitation to %(name)s. The invitation email is on its way."),
        gettext_lazy(
            "You sent a new invitation to %(name)s, but the invitation email could not be sent. "
            "Try “Send a new invitation” in a few minutes."
        ),
    ),
    "invited": (
        gettext_lazy("You invited %(name)s. The invitation email is on its way."),
        gettext_lazy(
            "You invited %(name)s, but the invitation email could not be sent. "
            "Try “Send a new invitation” in a few minutes."
        ),
    ),
    "saved": (
        gettext_lazy("You saved the details of %(name)s. The invitation email is on its way."),
        gettext_lazy(
            "You saved the details of %(name)s, but the invitation email could not be sent. "
            "Try “Send a new invitation” in a few minutes."
        ),
    ),
}


def report_invitation(request, sent, action: str):
    """Whether the invitation email left, and what to do if it did not."""
    left, failed = INVITATION_REPORTS[action]
    name = {"name": sent.invitation.invitee.full_name}
    if sent.email_sent:
        messages.success(request, left % name)
    else:
        messages.warning(request, failed % name)


# The dashboard ---------------------------------------------------------------------------

PATIENTS_PER_PAGE = 50
SEARCH_SESSION_KEY = "dashboard_search"


@clinician_required
@require_GET
def dashboard(request):
    filters = DashboardFilterForm(request.GET)
    status, sort = "", "due"
    if filters.is_valid():
        status, sort = filters.cleaned_data["status"], filters.cleaned_data["sort"] or "due"
    search = request.session.get(SEARCH_SESSION_KEY, "")
    page = selectors.dashboard_page(
        request.user,
        search=search,
        status=status,
        sort=sort,
        page_number=request.GET.get("page"),
        per_page=PATIENTS_PER_PAGE,
    )
    context = {
        "page": page,
        "bulk_form_key": _bulk_form_key(),
        "filters": filters,
        "status": status,
        "filter_query": urlencode({"status": status, "sort": sort}),
        "search": search,
        "search_form": SearchForm(initial={"q": search}),
        # Built only when its cached markup is missing.
        "bulk_form": SimpleLazyObject(lambda: BulkAssignForm(initial={"due_date": _default_due_date()})),
    }
    # A list of names and progress is a look at each record on it: one row per patient
    # shown, in one insert, so each patient's access log says so.
    audit.record_for_patients(Action.LISTED_ON_DASHBOARD, request=request, patients=page.object_list)
    return render(request, "portal/dashboard.html", context)


def _bulk_form_key() -> str:
    """What the bulk-assign form's markup depends on: the library, and today (the default
    due date, content checks due). The markup is cached under it: crispy-forms drew it on
    every view, 31% of rendering."""
    return f"{_default_due_date()}:{selectors.library_key()}"


@clinician_required
@require_POST
def dashboard_search(request):
    form = SearchForm(request.POST)
    if form.is_valid():
        request.session[SEARCH_SESSION_KEY] = " ".join(form.cleaned_data["q"].split())
    else:
        messages.error(request, _("Search for at most 100 characters."))
    return redirect("portal:dashboard")


@clinician_required
@require_POST
def bulk_assign(request):
    form = BulkAssignForm(request.POST)
    if not form.is_valid():
        _report_form_errors(request, form)
        return _back_to_dashboard(form)
    if form.cleaned_data["all_matching"]:
        patients = selectors.matching_patients(
            request.user,
            search=request.session.get(SEARCH_SESSION_KEY, ""),
            status=form.cleaned_data["status"],
        )
    else:
        codes = set(form.cleaned_data["patients"])
        patients = list(User.objects.visible_to(request.user).filter(code__in=codes))
        if len(patients) != len(codes):
            messages.error(
                request, _("Some selected patients are not in your clinics. Nothing was assigned.")
            )
            return _back_to_dashboard(form)
    try:
        result = education_services.assign_modules(
            patients=patients,
            modules=form.chosen_modules(),
            assigned_by=request.user,
            due_date=form.cleaned_data["due_date"],
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        assigned = {assignment.patient_id for assignment in result.created}
        audit.record_for_patients(
            Action.ASSIGNMENT_CREATED, request=request, patients=[p for p in patients if p.pk in assigned]
        )
        _report_assignments(request, result)
    return _back_to_dashboard(form)


def _back_to_dashboard(form):
    """The dashboard with the filter the clinician was looking at."""
    status, url = form.cleaned_data.get("status", ""), reverse("portal:dashboard")
    return redirect(f"{url}?{urlencode({'status': status})}" if status else url)


# A patient's page -------------------------------------------------------------------------


@clinician_required
@require_GET
def patient_detail(request, code):
    patient = get_patient_for_clinician(request, code)
    return _patient_page(request, patient, audited=True)


def _patient_page(request, patient, *, assign_form=None, visit_form=None, status=200, audited=False):
    """The patient's page: twelve queries at most, whatever the length of their history
    (tests/portal/test_patient_page_queries.py). The forms offer what the page has read."""
    questions = list(VisitQuestion.objects.for_clinicians(patient))
    if audited:
        audit.record(
            Action.PATIENT_VIEWED, request=request, patient=patient, detail=audit.questions_shown(questions)
        )
    visits, teach_backs = selectors.visits_and_teach_backs(patient.pk)
    records = selectors.add_teach_back(patient_records(patient.pk), teach_backs)
    with timezone.override(ZoneInfo(patient.clinic.time_zone)):
        context = {
            "patient": patient,
            "open_questions": [question for question in questions if question.is_open],
            "answered_questions": sorted(
                (question for question in questions if question.answered_at),
                key=lambda question: question.answered_at,
                reverse=True,
            )[:10],
            # Shown only while the patient has no password of their own.
            "invitation": None if patient.has_usable_password() else patient.invitations.first(),
            "records": records,
            "visits": visits,
            "assign_form": assign_form
            or AssignForm(
                patient=patient,
                initial={"due_date": _default_due_date()},
                upcoming_visits=sorted(_upcoming(visits), key=lambda visit: visit.scheduled_at),
            ),
            "visit_form": visit_form
            or VisitForm(
                patient=patient,
                initial={"clinician": request.user.pk},
                open_assignments=[r.assignment for r in records if not r.assignment.cancelled_at],
            ),
            "is_clinic_admin": patient.viewer_role == Membership.Role.ADMIN,
        }
        return render(request, "portal/patient_detail.html", context, status=status)


def _upcoming(visits):
    now = timezone.now()
    return [visit for visit in visits if visit.state == "planned" and visit.scheduled_at >= now]


@clinician_required
@require_POST
def patient_assign(request, code):
    patient = get_patient_for_clinician(request, code)
    form = AssignForm(request.POST, patient=patient)
    if form.is_valid():
        try:
            with transaction.atomic():
                result = education_services.assign_modules(
                    patients=[patient],
                    modules=form.chosen_modules(),
                    assigned_by=request.user,
                    due_date=form.cleaned_data["due_date"],
                )
                if form.cleaned_data["visit"]:
                    services.link_assignments(visit=form.cleaned_data["visit"], assignments=result.created)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if result.created:
                audit.record(
                    Action.ASSIGNMENT_CREATED,
                    request=request,
                    patient=patient,
                    detail=f"{len(result.created)} module(s)",
                )
            _report_assignments(request, result)
            return redirect("portal:patient_detail", code=patient.code)
    return _patient_page(request, patient, assign_form=form, status=400)


@clinician_required
@require_POST
def assignment_cancel(request, code):
    assignment = get_assignment_for_clinician(request, code)
    try:
        education_services.cancel_assignment(assignment=assignment, cancelled_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        audit.record(
            Action.ASSIGNMENT_CANCELLED,
            request=request,
            patient=assignment.patient,
            detail=f"assignment {assignment.code}",
        )
        messages.success(
            request,
            _("Cancelled “%(module)s”. It stays on the record as cancelled.") % {"module": assignment.module},
        )
    return redirect("portal:patient_detail", code=assignment.patient.code)


def _default_due_date():
    return timezone.localdate() + datetime.timedelta(days=14)


def _report_assignments(request, result):
    patients = {assignment.patient_id for assignment in result.created}
    modules, people = len(result.created), len(patients)
    messages.success(
        request,
        _("Assigned %(modules)s to %(patients)s.")
        % {
            "modules": ngettext("%(count)s module", "%(count)s modules", modules)
            % {"count": grouped(modules)},
            "patients": ngettext("%(count)s patient", "%(count)s patients", people)
            % {"count": grouped(people)},
        },
    )
    if result.skipped:
        examples = ", ".join(f"{patient} – {module}" for patient, module in result.skipped[:5])
        extra = max(len(result.skipped) - 5, 0)
        more = (
            ngettext(" and %(count)s more", " and %(count)s more", extra) % {"count": extra}
            if extra > 0
            else ""
        )
        skipped = {"count": len(result.skipped), "examples": examples, "more": more}
        messages.info(request, _("Skipped %(count)s already open: %(examples)s%(more)s.") % skipped)


def _report_form_errors(request, form):
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


# The clinic ------------------------------------------------------------------------------------


@clinician_required
@require_GET
def overview(request):
    clinics = list(Clinic.objects.of_member(request.user))
    figures = services.current_figures(clinics)
    modules = selectors.module_completion(figures)
    missed = selectors.most_missed_questions(figures)
    context = {
        "clinics": clinics,
        "as_of": min((clinic.as_of for clinic in figures), default=None),
        "modules": modules,
        "missed": missed,
        "completion_chart": [(module.title, module.rate) for module in modules],
        "missed_chart": [(f"{n}. {row['text']}", row["rate"]) for n, row in enumerate(missed, 1)],
        "is_clinic_admin": Clinic.objects.administered_by(request.user).exists(),
    }
    return render(request, "portal/overview.html", context)


@clinician_required
@require_GET
def export_assignments(request):
    for clinic_id in Clinic.objects.of_member(request.user).values_list("pk", flat=True):
        audit.record(Action.EXPORT_DOWNLOADED, request=request, clinic_id=clinic_id)
    rows = selectors.assignment_export_rows(request.user, today=timezone.localdate())
    response = StreamingHttpResponse(csv_lines(assignment_rows(rows)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="assignments-{timezone.localdate()}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


# Reminder emails --------------------------------------------------------------------------------


@patient_required
@require_http_methods(["GET", "POST"])
def patient_settings(request):
    patient = request.user
    form = PatientSettingsForm(
        posted_data(request),
        initial={
            "reminder_emails": patient.reminder_emails,
            "language": patient.language,
            "reminder_channel": patient.reminder_channel,
            "phone": patient.phone,
            "sms_consent": patient.reminder_channel == "sms",
        },
        consent_wording=sms.consent_wording(patient),
    )
    if request.method == "POST" and form.is_valid() and _channel_chosen(form, patient):
        reminders.set_reminder_emails(patient=patient, enabled=form.cleaned_data["reminder_emails"])
        account_services.set_language(patient, form.cleaned_data["language"] or patient.language)
        # The confirmation already speaks the language just chosen.
        speak(request, patient.language)
        messages.success(request, _("Your settings are saved."))
        return redirect("portal:patient_settings")
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/patient_settings.html", {"form": form}, status=status)


def _channel_chosen(form, patient) -> bool:
    """Email or texts as the form says (an older form without the choice changes nothing);
    a bad number or a missing consent is shown on the form, and nothing is saved."""
    data = form.cleaned_data
    try:
        sms.choose_channel(
            patient=patient,
            channel=data["reminder_channel"] or patient.reminder_channel,
            phone=data["phone"] or patient.phone,
            agreed=data["sms_consent"],
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return False
    return True


@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """From the link in a reminder email, without signing in. GET asks, POST acts, so a
    mail scanner that follows links does not unsubscribe anyone."""
    try:
        patient = (reminders.unsubscribe if request.method == "POST" else reminders.patient_for_unsubscribe)(
            token
        )
    except reminders.UnsubscribeLinkExpired:
        return render(request, "portal/unsubscribe.html", {"expired": True}, status=410)
    if patient is None:
        return render(request, "portal/unsubscribe.html", {"invalid": True}, status=404)
    return render(request, "portal/unsubscribe.html", {"done": request.method == "POST"})


# The audit trail (clinic admins) --------------------------------------------------------------

AUDIT_EVENTS_PER_PAGE = 50


@clinic_admin_required
@require_GET
def audit_trail(request):
    form = AuditFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    events = selectors.audit_events(request.user, **filters)
    context = {
        "form": form,
        "page": Paginator(events, AUDIT_EVENTS_PER_PAGE).get_page(request.GET.get("page")),
        "filter_query": urlencode({k: v for k, v in request.GET.items() if k != "page"}),
    }
    return render(request, "portal/audit_trail.html", context)


@clinic_admin_required
@require_GET
def audit_patient_csv(request, code):
    """One patient's trail: an accounting of who looked at and changed their record."""
    patient = get_patient_for_clinic_admin(request, code)
    audit.record(Action.AUDIT_EXPORTED, request=request, patient=patient)
    rows = audit_rows(AuditEvent.objects.filter(patient=patient))
    response = StreamingHttpResponse(
        csv_lines(rows, header=AUDIT_HEADER), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{timezone.localdate()}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


# Password reset, throttled ------------------------------------------------------------------------


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset, limited per account and per address. Over the limit, the page is
    the same "check your email" page and nothing is sent, so it reveals nothing."""

    def form_valid(self, form):
        account = User.objects.filter(email=User.objects.normalize_email(form.cleaned_data["email"])).first()
        allowed = audit.emailed_link_allowed(
            self.request,
            account,
            requested=Action.PASSWORD_RESET_REQUESTED,
            refused=Action.PASSWORD_RESET_THROTTLED,
        )
        return super().form_valid(form) if allowed else redirect(self.get_success_url())
