"""The one way views reach a patient's record. Anything not theirs is a 404, so an
outsider cannot even learn that a record exists."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User


def clinician_required(view):
    """Signed-in clinicians only: anonymous users go to sign in, patients get a 404."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_clinician:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def patient_required(view):
    """Signed-in patients only: anonymous users go to sign in, clinicians get a 404."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_patient:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def get_patient_for_clinician(request, code) -> User:
    """The patient with `code` if the signed-in clinician belongs to their clinic, with
    `viewer_role`: the clinician's role there (read from the join that grants access)."""
    patients = (
        User.objects.visible_to(request.user)
        .select_related("clinic")
        .annotate(viewer_role=F("clinic__memberships__role"))
    )
    return get_object_or_404(patients, code=code)
