"""The one way views reach a follow-up visit: only in the clinician's clinics."""

from django.shortcuts import get_object_or_404

from portal.models import FollowUpVisit


def get_visit_for_clinician(request, code) -> FollowUpVisit:
    """A visit of a patient in one of the signed-in clinician's clinics, or a 404."""
    visits = FollowUpVisit.objects.filter(
        patient__clinic__memberships__user=request.user,
    ).select_related("patient__clinic", "clinician", "held_by")
    return get_object_or_404(visits, code=code)
