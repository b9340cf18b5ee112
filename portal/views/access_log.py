"""The patient's own accounting of who looked at or changed their record (HIPAA's
accounting of disclosures): the audit rows about them, newest first."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import patient_required
from portal.models import AuditEvent

EVENTS_PER_PAGE = 50


@patient_required
@require_GET
def access_log(request):
    # Only rows about this patient: the query is the access rule.
    events = AuditEvent.objects.filter(patient=request.user).select_related("actor", "clinic")
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/access_log.html", {"page": page})
