"""Writing the audit trail. Never health information: actions, people, counts, codes."""

import datetime
import functools

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import connection
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import User
from accounts.signals import access_changed, invitation_accepted, password_changed, second_step_changed
from portal.models import AuditEvent

Action = AuditEvent.Action


def _ip(request):
    return request.META.get("REMOTE_ADDR") if request is not None else None


def record(action, *, request=None, actor=None, patient=None, clinic_id=None, detail="") -> None:
    """One event. The actor defaults to the signed-in user; the clinic to the patient's."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    clinic_id = clinic_id or (patient.clinic_id if patient else None)
    _insert(action, actor, _ip(request), detail, [(patient.pk if patient else None, clinic_id)])


def questions_shown(questions) -> str:
    """What the trail says of the questions a page showed: how many, never their words."""
    return f"{len(questions)} question(s) for the visit shown"


def record_api_call(action, *, request, client, patients: list, detail: str) -> None:
    """A call of the record system's API client: one event per patient it concerned (or one
    for the clinic), with the client's name, in one INSERT per 500."""
    rows = [(pk, client.clinic_id) for pk in dict.fromkeys(patients)] or [(None, client.clinic_id)]
    _insert_in_batches(action, None, request, f"API client “{client.name}”: {detail}"[:200], rows)


def record_for_patients(action, *, request, patients, detail="") -> None:
    """One event per patient (`pk`, `clinic_id`), in one INSERT per 500."""
    _insert_in_batches(action, request.user, request, detail, [(p.pk, p.clinic_id) for p in patients])


def _insert_in_batches(action, actor, request, detail, patients_and_clinics) -> None:
    for start in range(0, len(patients_and_clinics), LISTED_PER_INSERT):
        _insert(action, actor, _ip(request), detail, patients_and_clinics[start : start + LISTED_PER_INSERT])


def _insert(action, actor, ip_address, detail, patients_and_clinics) -> None:
    """Events that differ only in patient and clinic, as one INSERT written as SQL: fifty
    model instances for bulk_create were 10 of the dashboard's 34 ms (cProfile), and a
    single event through the ORM twice what the insert itself costs."""
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    shared = [at, action, actor.pk if actor else None, ip_address, detail]
    patients, clinics = (list(column) for column in zip(*patients_and_clinics, strict=True))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Seven parameters however many patients: 350 for a dashboard page's 50 rows were
            # 2.5 ms of adapting and binding, more than the insert itself.
            cursor.execute(_insert_listed_sql(), [*shared, patients, clinics])
        else:
            params = [value for pair in patients_and_clinics for value in (*shared, *pair)]
            cursor.execute(_insert_events_sql(len(patients_and_clinics)), params)


LISTED_PER_INSERT = 500
COLUMNS = ("at", "action", "actor", "ip_address", "detail", "patient", "clinic")


def _table_and_columns() -> tuple[str, str]:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(AuditEvent._meta.get_field(f).column) for f in COLUMNS)
    return table, columns


def _insert_events_sql(rows: int) -> str:
    table, columns = _table_and_columns()
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * rows)
    # Reviewed: the table and column names come from the model, every value is a parameter.
    return f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608  # nosec B608


@functools.cache  # the same text on every dashboard page
def _insert_listed_sql() -> str:
    """PostgreSQL: the shared values once, patients and clinics as two arrays."""
    table, columns = _table_and_columns()
    shared = "%s::timestamptz, %s::varchar, %s::bigint, %s::inet, %s::varchar"
    # Reviewed: the table and column names come from the model, every value is a parameter.
    return (
        f"INSERT INTO {table} ({columns}) SELECT {shared}, listed.patient, listed.clinic "  # noqa: S608  # nosec B608
        "FROM unnest(%s::bigint[], %s::bigint[]) AS listed(patient, clinic)"
    )


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    record(Action.SIGN_IN, request=request, actor=user, clinic_id=user.clinic_id)


@receiver(user_login_failed)
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    # The typed address is not kept; the account it names is, when there is one.
    account = User.objects.filter(email=User.objects.normalize_email(credentials.get("username"))).first()
    record(
        Action.SIGN_IN_FAILED,
        request=request,
        actor=account,
        clinic_id=account.clinic_id if account else None,
        detail="" if account else "no such account",
    )


@receiver(invitation_accepted)
def _invitation_accepted(sender, request, user, **kwargs):
    if user.is_patient:
        record(Action.INVITATION_ACCEPTED, request=request, actor=user, patient=user)
        return
    if user.is_caregiver:
        # On the trail of each patient who shares their modules with them.
        for access in user.cared_for.live().filter(patient__is_active=True).select_related("patient"):
            record(Action.INVITATION_ACCEPTED, request=request, actor=user, patient=access.patient)
        return
    # A clinician joining: each clinic whose staff they joined sees it.
    for clinic_id in user.memberships.values_list("clinic_id", flat=True):
        record(Action.INVITATION_ACCEPTED, request=request, actor=user, clinic_id=clinic_id)


SECOND_STEP_ACTIONS = {
    "set_up": Action.SECOND_STEP_SET_UP,
    "passed": Action.SECOND_STEP_PASSED,
    "recovery_code_used": Action.RECOVERY_CODE_USED,
}


@receiver(second_step_changed)
def _second_step(sender, request, user, event, **kwargs):
    record(SECOND_STEP_ACTIONS[event], request=request, actor=user, clinic_id=user.clinic_id)


@receiver(password_changed)
def _password_changed(sender, request, user, **kwargs):
    record(Action.PASSWORD_CHANGED, request=request, actor=user, clinic_id=user.clinic_id)


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    account = User.objects.filter(email=User.objects.normalize_email(username)).first()
    record(
        Action.LOCKED_OUT, request=request, actor=account, clinic_id=account.clinic_id if account else None
    )


def emailed_link_allowed(request, account, *, requested, refused) -> bool:
    """Whether a password reset or sign-in link may be emailed to `account` (None: no such
    account) from this address; on the trail as `requested` or, over the limits, `refused`."""
    if reset_requests_exceed_limits(account=account, ip_address=_ip(request)):
        record(refused, request=request, actor=account)
        return False
    record(requested, request=request, actor=account)
    return True


def reset_requests_exceed_limits(*, account, ip_address) -> bool:
    """Too many password-reset or sign-in-link requests in the last hour for this account
    or from this address (one budget: both send a way in by email). Counted on the audit
    trail, so every web worker sees the same count."""
    recent = AuditEvent.objects.filter(
        action__in=[Action.PASSWORD_RESET_REQUESTED, Action.SIGN_IN_LINK_REQUESTED],
        at__gte=timezone.now() - datetime.timedelta(hours=1),
    )
    if (
        account is not None
        and recent.filter(actor=account).count() >= settings.PASSWORD_RESETS_PER_ACCOUNT_HOUR
    ):
        return True
    return recent.filter(ip_address=ip_address).count() >= settings.PASSWORD_RESETS_PER_ADDRESS_HOUR


def caregiver_invitations_allowed(request) -> bool:
    """Whether the signed-in user may invite another caregiver this hour (counted on the
    trail, so every web worker sees the same count)."""
    recent = AuditEvent.objects.filter(
        action=Action.CAREGIVER_INVITED,
        actor=request.user,
        at__gte=timezone.now() - datetime.timedelta(hours=1),
    )
    return recent.count() < settings.CAREGIVER_INVITATIONS_PER_HOUR


@receiver(access_changed)
def _access_changed(sender, request, user, clinic_ids, **kwargs):
    detail = f"account {user.code}" if user is not None else "clinic staff"
    for clinic_id in clinic_ids or [None]:
        record(Action.ACCESS_CHANGED, request=request, clinic_id=clinic_id, detail=detail)
