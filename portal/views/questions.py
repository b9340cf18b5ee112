"""The clinician's side of a patient's questions for the visit: marking one answered."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import clinician_required
from accounts.forms import posted_next
from education import services as education_services
from education.access import get_question_for_clinician
from portal import audit
from portal.models import AuditEvent


@clinician_required
@require_POST
def question_answered(request, code):
    """Mark the question answered and go back to the page it was marked on (the visit
    summary or the patient's page)."""
    question = get_question_for_clinician(request, code)
    patient = question.assignment.patient
    try:
        education_services.mark_question_answered(question=question, clinician=request.user)
    except ValidationError as error:
        messages.info(request, error.messages[0])
    else:
        audit.record(AuditEvent.Action.QUESTION_ANSWERED, request=request, patient=patient)
        messages.success(request, _("The question is marked answered."))
    return redirect(posted_next(request) or reverse("portal:patient_detail", args=[patient.code]))
