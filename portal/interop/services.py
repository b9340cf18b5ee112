"""The rules of the record system's access: API clients and their tokens, the rate limit,
and clinical events turned into assignments by the clinic's rules."""

import datetime
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Clinic, User
from accounts.services import hash_token
from education import services as education_services
from education.models import Module
from portal.interop.models import ApiClient, ClinicalEvent, EventKind, EventRule

TOKEN_PREFIX = "cep_"  # noqa: S105  (marks a portal token, not a secret)


# API clients ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewClient:
    client: ApiClient
    token: str  # shown once, never stored


def create_client(
    *, clinic: Clinic, name: str, can_read: bool, can_write: bool, created_by: User
) -> NewClient:
    """A new API client of `clinic`, made by one of its clinic admins; the token is
    returned once."""
    _require_admin(created_by, clinic)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Name the record system, for example “Clinic EHR”.")})
    if not (can_read or can_write):
        raise ValidationError(_("Choose what the client may do: read records, send events, or both."))
    if ApiClient.objects.active().filter(clinic=clinic, name__iexact=name).exists():
        raise ValidationError({"name": _("An active API client of this clinic already has that name.")})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        clinic=clinic,
        name=name,
        can_read=can_read,
        can_write=can_write,
        token_hash=hash_token(token),
        token_hint=token[-4:],
        created_by=created_by,
    )
    return NewClient(client, token)


def revoke_client(*, client: ApiClient, revoked_by: User) -> None:
    """The token stops working at once; the client stays listed, with who revoked it."""
    _require_admin(revoked_by, client.clinic)
    if (
        not ApiClient.objects.active()
        .filter(pk=client.pk)
        .update(revoked_at=timezone.now(), revoked_by=revoked_by)
    ):
        raise ValidationError(_("This API client is already revoked."))


def _require_admin(user: User, clinic: Clinic) -> None:
    if not user.is_clinic_admin(clinic):
        raise ValidationError(_("Only a clinic admin of this clinic can manage its API clients."))


def client_for_token(token: str) -> ApiClient | None:
    """The active client holding `token`, with its clinic; None for anything else."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    return ApiClient.objects.active().select_related("clinic").filter(token_hash=hash_token(token)).first()


def over_rate_limit(client: ApiClient) -> bool:
    """Whether the client made more calls this minute than API_CALLS_PER_MINUTE allows.
    Counted in the cache: shared by every server process when CACHES is Redis (production),
    per process otherwise."""
    window = int(timezone.now().timestamp() // 60)
    key = f"api-calls:{client.pk}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        calls = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        calls = 1
    return calls > settings.API_CALLS_PER_MINUTE


# Rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    kind: str
    slugs: tuple[str, ...]
    due_in_days: int
    configured: bool  # the clinic's own choice, not the default


ALL_MODULES = ("*",)
DEFAULT_RULES = {
    EventKind.BENZODIAZEPINE_STARTED: (education_services.MODULE_SETS["starting"].slugs, 7),
    EventKind.DOSE_LOWERED: (education_services.MODULE_SETS["stopping"].slugs, 7),
    EventKind.OPIOID_ADDED: (("breathing-and-interactions",), 7),
    EventKind.ANNUAL_REVIEW: (ALL_MODULES, 14),
}


def rules_of(clinic: Clinic) -> dict[str, Rule]:
    """Each kind of event's rule at the clinic: its own where it set one, else the default."""
    rules = {kind: Rule(kind, slugs, days, False) for kind, (slugs, days) in DEFAULT_RULES.items()}
    for rule in EventRule.objects.filter(clinic=clinic).prefetch_related("modules"):
        slugs = tuple(sorted(module.slug for module in rule.modules.all()))
        rules[rule.kind] = Rule(rule.kind, slugs, rule.due_in_days, True)
    return rules


def set_rule(*, clinic: Clinic, kind: str, modules: list[Module], due_in_days: int, updated_by: User) -> None:
    _require_admin(updated_by, clinic)
    if kind not in EventKind.values:
        raise ValidationError(_("Unknown kind of event."))
    if not modules:
        raise ValidationError({"modules": _("Choose at least one module.")})
    if not 1 <= due_in_days <= 90:
        raise ValidationError({"due_in_days": _("Give between 1 and 90 days.")})
    with transaction.atomic():
        rule, _created = EventRule.objects.update_or_create(
            clinic=clinic, kind=kind, defaults={"due_in_days": due_in_days, "updated_by": updated_by}
        )
        rule.modules.set(modules)


def assignable_modules(slugs: tuple[str, ...], published: list[Module] | None = None) -> list[Module]:
    """The published modules a rule names, in library order ("*": all of them); from
    `published` when the caller has read them already."""
    if published is None:
        published = list(Module.objects.filter(current_version__isnull=False).order_by("title"))
    return [module for module in published if slugs == ALL_MODULES or module.slug in slugs]


# Clinical events -----------------------------------------------------------------------------


class UnknownPatient(Exception):
    """No active patient of the clinic has the identifier the event gave."""


class EventRefused(Exception):
    """The event is understood but cannot assign anything; the message says why."""


@dataclass(frozen=True)
class EventRequest:
    event_id: str
    kind: str
    occurred_on: datetime.date
    record_number: str = ""
    patient_code: str = ""


@dataclass(frozen=True)
class Received:
    event: ClinicalEvent
    created: bool  # False: the same event id came before, and nothing was assigned again


def receive_event(*, client: ApiClient, request: EventRequest) -> Received:
    """Assign the modules the clinic's rule names for the event, once per event id: a
    repeat, even at the same moment, finds the first event and changes nothing."""
    if not client.can_write:
        raise EventRefused(_("This API client may only read."))
    existing = ClinicalEvent.objects.filter(clinic=client.clinic_id, event_id=request.event_id).first()
    if existing:
        return Received(existing, created=False)
    patient = _patient_of(client.clinic, request)
    rule = rules_of(client.clinic)[request.kind]
    modules = assignable_modules(rule.slugs)
    if not modules:
        raise EventRefused(_("The clinic's rule for this event names no published module."))
    try:
        with transaction.atomic():
            # First, so that a concurrent repeat waits on the unique id and then finds it.
            event = ClinicalEvent.objects.create(
                clinic=client.clinic,
                client=client,
                event_id=request.event_id,
                kind=request.kind,
                patient=patient,
                occurred_on=request.occurred_on,
            )
            result = _assign(client, patient, modules, rule, event)
            event.assigned = [assignment.module.slug for assignment in result.created]
            event.already_open = [module.slug for _patient, module in result.skipped]
            ClinicalEvent.objects.filter(pk=event.pk).update(
                assigned=event.assigned, already_open=event.already_open
            )
    except IntegrityError:
        return Received(
            ClinicalEvent.objects.get(clinic=client.clinic_id, event_id=request.event_id), created=False
        )
    return Received(event, created=True)


def _patient_of(clinic: Clinic, request: EventRequest) -> User:
    patients = User.objects.patients().filter(clinic=clinic, is_active=True)
    if request.patient_code:
        patient = patients.filter(code=request.patient_code).first()
    else:
        patient = patients.filter(record_number=request.record_number).first()
    if patient is None:
        raise UnknownPatient(_("No active patient of this clinic has that identifier."))
    return patient


def _assign(client, patient, modules, rule, event) -> education_services.AssignResult:
    by_slug = {module.pk: module for module in modules}
    try:
        result = education_services.assign_modules(
            patients=[patient],
            modules=modules,
            assigned_by=client.created_by,
            due_date=client.clinic.today() + datetime.timedelta(days=rule.due_in_days),
            because=education_services.AssignedBecause(event.event_id, event.kind, event.occurred_on),
        )
    except ValidationError as error:
        raise EventRefused(
            _(
                "The modules could not be assigned: %(reason)s The clinic admin who created this "
                "API client may no longer work at the clinic; a clinic admin can create a new one."
            )
            % {"reason": " ".join(error.messages)}
        ) from error
    for assignment in result.created:
        assignment.module = by_slug[assignment.module_id]
    return result
