"""The one way views reach visits and clinic-admin records: only in the user's clinics."""

import functools
import uuid
from functools import wraps

from django.db import connection, connections
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.access import clinician_required
from accounts.models import Clinic, Membership, User
from education.compiled import AN_ID, CompiledObjects
from education.models import ModuleVersion
from portal.interop.models import ApiClient
from portal.models import FollowUpVisit


def get_visit_for_clinician(request, code) -> FollowUpVisit:
    """A visit of a patient in one of the signed-in clinician's clinics, or a 404."""
    try:
        code = uuid.UUID(str(code))
    except ValueError:
        raise Http404("No such visit.") from None
    stored = FollowUpVisit._meta.get_field("code").get_db_prep_value(code, connection)
    found = _clinicians_visit(connection.alias).objects(user=request.user.pk, code=stored)
    if not found:
        raise Http404("No such visit.")
    return found[0]


# Stands for the visit's code in the compiled statement (education.compiled).
A_VISIT_CODE = uuid.UUID(int=20261123)


@functools.cache
def _clinicians_visit(alias: str) -> CompiledObjects:
    """The visit pages' first query, compiled once per process: building its joins of four
    tables took longer than running it (a tenth of the visit summary's time)."""
    visits = (
        FollowUpVisit.objects.filter(patient__clinic__memberships__user=AN_ID, code=A_VISIT_CODE)
        .select_related("patient__clinic", "clinician")
        .order_by()
    )
    stored = FollowUpVisit._meta.get_field("code").get_db_prep_value(A_VISIT_CODE, connections[alias])
    return CompiledObjects.of(visits, alias, user=AN_ID, code=stored)


def clinic_admin_required(view):
    """Clinic admins only: anonymous users go to sign in, everyone else gets a 404."""

    @clinician_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not Clinic.objects.administered_by(request.user).exists():
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def get_patient_for_clinic_admin(request, code) -> User:
    """A patient of a clinic the signed-in user administers, or a 404."""
    return get_object_or_404(
        User.objects.patients().filter(clinic__in=Clinic.objects.administered_by(request.user)), code=code
    )


def get_membership_for_clinic_admin(request, clinic_code, user_code) -> Membership:
    """A place on the staff of a clinic the signed-in user administers, or a 404."""
    memberships = Membership.objects.select_related("user", "clinic").filter(
        clinic__in=Clinic.objects.administered_by(request.user)
    )
    return get_object_or_404(memberships, clinic__code=clinic_code, user__code=user_code)


def get_clinic_for_admin(request, clinic_code) -> Clinic:
    """A clinic the signed-in user administers, or a 404."""
    return get_object_or_404(Clinic.objects.administered_by(request.user), code=clinic_code)


def get_api_client_for_admin(request, clinic_code, code) -> ApiClient:
    """An API client of a clinic the signed-in user administers, or a 404."""
    clients = ApiClient.objects.select_related("clinic").filter(
        clinic__in=Clinic.objects.administered_by(request.user)
    )
    return get_object_or_404(clients, clinic__code=clinic_code, code=code)


def content_editor_required(view):
    """Content editors only: anonymous users go to sign in, everyone else gets a 404."""

    @clinician_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_content_editor:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def get_version_for_editor(request, code) -> ModuleVersion:
    """A module version, draft or decided, with its module, the version patients read now
    and its decision; for the content editors that content_editor_required lets in."""
    versions = ModuleVersion.objects.select_related(
        "module__current_version__review", "review__decided_by", "loaded_by"
    )
    return get_object_or_404(versions, code=code)
