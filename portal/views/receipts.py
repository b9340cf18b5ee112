"""Checking a patient's acknowledgment receipt: a clinician types the code printed on it."""

from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.access import clinician_required
from accounts.forms import posted_data
from education import receipts
from education import services as education_services
from education.access import find_receipt_for_clinician
from portal import audit
from portal.forms import ReceiptCheckForm
from portal.models import AuditEvent

NOT_FOUND = gettext_lazy(
    "No receipt in your clinics has this code. Check it against the paper: it has ten letters "
    "and digits, such as 7K2QD-M9XTA."
)


@clinician_required
@require_http_methods(["GET", "POST"])
def verify_receipt(request):
    form = ReceiptCheckForm(posted_data(request))
    check = None
    if request.method == "POST" and form.is_valid():
        receipt = find_receipt_for_clinician(request, form.cleaned_data["code"])
        if receipt is None:
            form.add_error("code", NOT_FOUND)
        else:
            check = education_services.check_receipt(receipt, form.cleaned_data["printed_hash"])
            patient = receipt.acknowledgment.assignment.patient
            audit.record(AuditEvent.Action.RECEIPT_VERIFIED, request=request, patient=patient)
    context = {
        "form": form,
        "check": check,
        "shown_code": receipts.shown(check.receipt.verification_code) if check else "",
    }
    return render(request, "portal/verify_receipt.html", context, status=400 if form.errors else 200)
