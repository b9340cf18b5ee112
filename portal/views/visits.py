"""Follow-up visits: scheduling, the summary (screen and PDF), and how a visit ends or moves."""

import datetime
import uuid
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import clinician_required, get_patient_for_clinician
from accounts.forms import add_service_errors, posted_data
from portal import audit, selectors, services
from portal.access import get_visit_for_clinician
from portal.forms import TeachBackForm, VisitCancelForm, VisitForm, VisitHeldForm, VisitTimeForm
from portal.models import AuditEvent
from portal.pdf import visit_summary_pdf
from portal.views import _patient_page
from portal.wording import grouped

Action = AuditEvent.Action


@clinician_required
@require_POST
def visit_new(request, code):
    patient = get_patient_for_clinician(request, code)
    with timezone.override(ZoneInfo(patient.clinic.time_zone)):
        form = VisitForm(request.POST, patient=patient)
        if form.is_valid():
            try:
                visit = services.schedule_visit(patient=patient, created_by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                _audit_visit(request, Action.VISIT_SCHEDULED, visit)
                messages.success(request, _("Scheduled the visit on %(visit)s.") % {"visit": visit.label()})
                # Back where the clinician was, with the new visit in the list.
                return redirect("portal:patient_detail", code=patient.code)
    return _patient_page(request, patient, visit_form=form, status=400)


@clinician_required
@require_GET
def visit_summary(request, code):
    return _visit_page(request, get_visit_for_clinician(request, code))


def _visit_page(request, visit, *, held_form=None, teach_back_form=None, status=200):
    """The visit summary; each time it is shown to a clinician, on the trail."""
    questions = _agenda(visit)
    records = teach_back_form.records if teach_back_form else selectors.visit_records_with_teach_back(visit)
    if status == 200:
        audit.record(
            Action.VISIT_SUMMARY_VIEWED,
            request=request,
            patient=visit.patient,
            detail=f"visit {visit.code}; {audit.questions_shown(questions)}",
        )
    context = {
        "visit": visit,
        "questions": questions,
        "records": records,
        "rows": selectors.visit_summary_rows(records, visit),
        "held_form": held_form or VisitHeldForm(),
        "teach_back_form": teach_back_form or TeachBackForm(records=records, prefix="teach_back"),
        "time_has_come": visit.scheduled_at <= timezone.now(),
        "teach_back_refusal": services.teach_back_refusal(visit),
    }
    return render(request, "portal/visit_summary.html", context, status=status)


def _agenda(visit) -> list:
    """The visit's agenda: the patient's open questions, in the order asked."""
    return selectors.visit_agenda(visit.patient_id)


@clinician_required
@require_GET
def visit_pdf(request, code):
    visit = get_visit_for_clinician(request, code)
    questions = _agenda(visit)
    audit.record(
        Action.VISIT_PDF_DOWNLOADED,
        request=request,
        patient=visit.patient,
        detail=f"visit {visit.code}; {audit.questions_shown(questions)}",
    )
    rows = selectors.visit_summary_rows(selectors.visit_records_with_teach_back(visit), visit)
    pdf = visit_summary_pdf(visit, rows, questions)
    response = HttpResponse(pdf, content_type="application/pdf")
    # The file name says nothing about the patient; the PDF is never cached.
    response["Content-Disposition"] = (
        f'attachment; filename="visit-summary-{visit.scheduled_at:%Y-%m-%d}.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


@clinician_required
@require_POST
def visit_held(request, code):
    visit = get_visit_for_clinician(request, code)
    form = VisitHeldForm(request.POST)
    if form.is_valid():
        try:
            services.mark_visit_held(visit=visit, held_by=request.user, note=form.cleaned_data["note"])
        except ValidationError as error:
            # The visit ended another way: the page no longer shows the form to carry it.
            messages.error(request, " ".join(error.messages))
        else:
            _audit_visit(request, Action.VISIT_HELD, visit)
            messages.success(request, _("The visit is marked as held."))
            return redirect("portal:visit_summary", code=visit.code)
    return _visit_page(request, visit, held_form=form, status=400)


@clinician_required
@require_POST
def visit_no_show(request, code):
    visit = get_visit_for_clinician(request, code)
    try:
        services.mark_no_show(visit=visit, marked_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        _audit_visit(request, Action.VISIT_NO_SHOW, visit)
        messages.success(request, _("The visit is marked as missed."))
    return redirect("portal:visit_summary", code=visit.code)


@clinician_required
@require_http_methods(["GET", "POST"])
def visit_cancel(request, code):
    visit = get_visit_for_clinician(request, code)
    if request.method == "GET" and visit.state != "planned":
        return _already_ended(request, visit)
    form = VisitCancelForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_visit(visit=visit, cancelled_by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            _audit_visit(request, Action.VISIT_CANCELLED, visit)
            messages.success(request, _("Cancelled the visit on %(visit)s.") % {"visit": visit.label()})
            return redirect("portal:patient_detail", code=visit.patient.code)
    return _change_page(request, visit, form, "portal/visit_cancel.html")


@clinician_required
@require_http_methods(["GET", "POST"])
def visit_reschedule(request, code):
    visit = get_visit_for_clinician(request, code)
    if request.method == "GET" and visit.state != "planned":
        return _already_ended(request, visit)
    with timezone.override(ZoneInfo(visit.patient.clinic.time_zone)):
        initial = {"scheduled_at": timezone.localtime(visit.scheduled_at), "clinician": visit.clinician_id}
        form = VisitTimeForm(posted_data(request), patient=visit.patient, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                changed = services.reschedule_visit(visit=visit, changed_by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                _audit_visit(request, Action.VISIT_RESCHEDULED, visit, changed=changed)
                messages.success(request, _("The visit is now on %(visit)s.") % {"visit": visit.label()})
                return redirect("portal:visit_summary", code=visit.code)
        return _change_page(request, visit, form, "portal/visit_reschedule.html")


def _already_ended(request, visit):
    ended = services.ALREADY_ENDED[visit.state]
    messages.error(request, _("%(ended)s It can no longer be changed.") % {"ended": ended})
    return redirect("portal:visit_summary", code=visit.code)


def _change_page(request, visit, form, template):
    """Moving or cancelling: a page of its own, 400 when the form was refused."""
    status = 400 if form.is_bound else 200
    return render(request, template, {"visit": visit, "form": form}, status=status)


def _audit_visit(request, action, visit, *, changed=()) -> None:
    """The trail names the visit and which fields changed, never their values."""
    detail = f"visit {visit.code}" + (f"; changed {', '.join(changed)}" if changed else "")
    audit.record(action, request=request, patient=visit.patient, detail=detail)


@clinician_required
@require_POST
def visit_teach_back(request, code):
    visit = get_visit_for_clinician(request, code)
    form = TeachBackForm(
        request.POST, records=selectors.visit_records_with_teach_back(visit), prefix="teach_back"
    )
    if form.is_valid():
        try:
            added = services.record_teach_back(visit=visit, entries=form.entries(), recorded_by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _audit_visit(request, Action.TEACH_BACK_RECORDED, visit, changed=[f"{len(added)} module(s)"])
            messages.success(request, _recorded(len(added)))
            return redirect(f"{reverse('portal:visit_summary', args=[visit.code])}#teach-back")
    return _visit_page(request, visit, teach_back_form=form, status=400)


@clinician_required
@require_POST
def visit_assign_again(request, code):
    """One click from a teach-back that needs review: the module assigned again."""
    visit = get_visit_for_clinician(request, code)
    try:
        assignment = _linked_assignment(visit, request.POST.get("assignment", ""))
        result = services.assign_again(
            visit=visit, assignment=assignment, assigned_by=request.user, due_date=_due_in_two_weeks(visit)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if result.created:
            audit.record(
                Action.ASSIGNMENT_CREATED, request=request, patient=visit.patient, detail="1 module(s)"
            )
            messages.success(
                request, _("Assigned “%(module)s” again, due in two weeks.") % {"module": assignment.module}
            )
        else:
            messages.info(
                request,
                _("“%(module)s” is still assigned and not yet done: nothing to add.")
                % {"module": assignment.module},
            )
    return redirect(f"{reverse('portal:visit_summary', args=[visit.code])}#teach-back")


def _recorded(count: int) -> str:
    return ngettext(
        "Recorded teach-back for %(count)s module.", "Recorded teach-back for %(count)s modules.", count
    ) % {"count": grouped(count)}


def _linked_assignment(visit, code):
    """A module linked to this visit, by its assignment's code. The visit is the clinician's
    already, so a code that is not one of its modules says so rather than answering 404."""
    try:
        return visit.assignments.select_related("module").get(code=uuid.UUID(code))
    except (ValueError, ObjectDoesNotExist):
        raise ValidationError(
            _("That module is not linked to this visit. Reload the page and try again.")
        ) from None


def _due_in_two_weeks(visit):
    return visit.patient.clinic.today() + datetime.timedelta(days=14)
