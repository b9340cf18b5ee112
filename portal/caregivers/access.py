"""The one way views reach caregivers' records. A caregiver reaches a patient's modules
only through a live access the patient has not revoked; the patient and the clinicians of
the patient's clinic reach the accesses to that patient. Anything else is a 404."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404

from education.models import Module
from portal.caregivers import services
from portal.caregivers.models import CaregiverAccess, CaregiverQuizAttempt


def caregiver_required(view):
    """Signed-in caregivers, and patients (a patient may help another): anonymous users go
    to sign in, staff get a 404. What each sees is only what is shared with them."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_caregiver or request.user.is_patient):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def live_accesses_of(caregiver):
    """The accesses a caregiver holds now: not revoked, to patients still active."""
    return CaregiverAccess.objects.live().filter(caregiver=caregiver, patient__is_active=True)


def get_access_for_caregiver(request, code) -> CaregiverAccess:
    """A live access of the signed-in caregiver, with its patient and their clinic, or a
    404: a revoked access ends at the caregiver's next request, whatever their session."""
    accesses = live_accesses_of(request.user).select_related("patient__clinic", "caregiver")
    return get_object_or_404(accesses, code=code)


def get_module_for_caregiver(access: CaregiverAccess, version_code) -> Module:
    """A module the access lets the caregiver read, by its current version's code, or a 404
    (also for a version since replaced: the caregiver's list links to the current one)."""
    modules = services.readable_modules(access).defer(None).select_related("current_version__review")
    return get_object_or_404(modules, current_version__code=version_code)


def get_attempt_for_caregiver(request, code) -> CaregiverQuizAttempt:
    """One of the signed-in caregiver's own quiz attempts, through a live access, on a
    module the access still lets them read (not one the care team cancelled), or a 404."""
    attempts = CaregiverQuizAttempt.objects.filter(access__in=live_accesses_of(request.user)).select_related(
        "access__patient__clinic", "version__module"
    )
    attempt = get_object_or_404(attempts, code=code)
    if not services.readable_modules(attempt.access).filter(pk=attempt.version.module_id).exists():
        raise Http404("No such quiz result.")
    return attempt


def get_access_for_patient(request, code) -> CaregiverAccess:
    """An access to the signed-in patient's own modules, or a 404."""
    accesses = CaregiverAccess.objects.filter(patient=request.user).select_related("caregiver")
    return get_object_or_404(accesses, code=code)


def get_access_for_clinician(request, code) -> CaregiverAccess:
    """An access to a patient of one of the signed-in clinician's clinics, or a 404."""
    accesses = CaregiverAccess.objects.filter(patient__clinic__memberships__user=request.user).select_related(
        "caregiver", "patient__clinic"
    )
    return get_object_or_404(accesses, code=code)
