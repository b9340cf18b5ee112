"""The patient's receipt for an acknowledgment, as a PDF."""

from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from accounts.access import patient_required
from education import receipts
from education.access import get_receipt_for_patient
from portal.pdf import receipt_pdf


@patient_required
@require_GET
def receipt(request, code):
    found = get_receipt_for_patient(request, code)
    pdf = receipt_pdf(
        found,
        verification_code=receipts.shown(found.verification_code),
        time_zone=request.user.clinic.time_zone,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    # The file name says nothing about the module; the PDF is never cached.
    acknowledged = found.acknowledgment.acknowledged_at.astimezone(ZoneInfo(request.user.clinic.time_zone))
    response["Content-Disposition"] = f'attachment; filename="receipt-{acknowledged:%Y-%m-%d}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
