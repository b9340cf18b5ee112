"""FHIR searches over one clinic's records: the parameters a record system polls with
(`patient`, `_lastUpdated`, `_count`), and pages that follow a cursor instead of an offset,
so the hundredth page costs what the first does."""

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core import signing
from django.db.models import Q
from django.utils.dateparse import parse_date, parse_datetime

from accounts.models import User
from education.banks import quiz_banks
from education.models import VERSION_TEXT, Acknowledgment, Answer, Assignment, ModuleVersion, QuizAttempt
from portal.interop import fhir

PAGE_SIZE = 100
CURSOR_SALT = "portal.interop.search.cursor"


class BadSearch(ValueError):
    """A parameter the search cannot honour; the message says which and why."""


@dataclass(frozen=True)
class Kind:
    """One resource type: the clinic's rows, the column `_lastUpdated` reads, the path to
    the patient's code (None: not about a patient), and the resources a page of rows makes."""

    name: str
    rows: Callable
    updated: str
    patient: str | None
    resources: Callable[[list], list[tuple[dict, str]]]
    params: frozenset[str] = frozenset()
    patient_pk: Callable = lambda row: row.assignment.patient_id  # for the audit trail


def _patients(clinic):
    return User.objects.patients().filter(clinic=clinic).select_related("clinic")


def _tasks(clinic):
    return Assignment.objects.filter(patient__clinic=clinic).select_related(
        "patient__clinic", "module", "assigned_by"
    )


def _without_text(path: str) -> list[str]:
    # A version's body and translations are tens of kilobytes each; no resource shows them.
    return [f"{path}{field}" for field in VERSION_TEXT]


def _attempts(clinic):
    # Only what the resource shows: the version's other columns (its concepts and sections,
    # JSON) and the patient's were most of a page's time to read (benchmarks/fhir_pull.py).
    return (
        QuizAttempt.objects.filter(assignment__patient__clinic=clinic)
        .select_related("assignment__patient", "version")
        .only(
            *(field.name for field in QuizAttempt._meta.concrete_fields),
            "assignment__code",
            "assignment__patient__code",
            "assignment__patient__full_name",
            "version__code",
        )
    )


def _acknowledgments(clinic):
    return (
        Acknowledgment.objects.filter(assignment__patient__clinic=clinic)
        .select_related("assignment__patient", "assignment__module", "version")
        .defer(*_without_text("version__"))
    )


def _questionnaires(_clinic):
    # The library is the same for every clinic, and holds no one's health information.
    return ModuleVersion.objects.approved().select_related("module").defer(*_without_text(""))


def _matches(build) -> Callable[[list], list[tuple[dict, str]]]:
    return lambda rows: [(build(row), "match") for row in rows]


def _questionnaire_resources(versions) -> list[tuple[dict, str]]:
    banks = quiz_banks(versions)
    return [(fhir.questionnaire(version, banks[version.pk]), "match") for version in versions]


def _response_resources(attempts) -> list[tuple[dict, str]]:
    """The page's answers in one query; the banks (question and choice words) come from
    the process's cache (education.banks)."""
    answers: dict[int, list] = {attempt.pk: [] for attempt in attempts}
    # Rows, not model instances: building 900 Answers a page was a fifth of a pull's time.
    rows = Answer.objects.filter(attempt__in=list(answers)).order_by("attempt", "pk")
    for answer in rows.values_list("attempt_id", "question_id", "choice_id", "is_correct", named=True):
        answers[answer.attempt_id].append(answer)
    banks = quiz_banks({attempt.version for attempt in attempts})
    return [
        (fhir.questionnaire_response(attempt, answers[attempt.pk], banks[attempt.version_id]), "match")
        for attempt in attempts
    ]


def _document_resources(acknowledgments) -> list[tuple[dict, str]]:
    """Each acknowledgment, then the Provenance of each (search mode "include")."""
    documents = [(fhir.acknowledgment_document(row), "match") for row in acknowledgments]
    return documents + [(fhir.provenance(row), "include") for row in acknowledgments]


KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            "Patient",
            _patients,
            "updated_at",
            "code",
            _matches(fhir.patient),
            frozenset({"identifier"}),
            patient_pk=lambda row: row.pk,
        ),
        Kind(
            "Task",
            _tasks,
            "updated_at",
            "patient__code",
            _matches(fhir.task),
            patient_pk=lambda row: row.patient_id,
        ),
        Kind("Questionnaire", _questionnaires, "published_at", None, _questionnaire_resources),
        Kind(
            "QuestionnaireResponse",
            _attempts,
            "submitted_at",
            "assignment__patient__code",
            _response_resources,
        ),
        Kind(
            "DocumentReference",
            _acknowledgments,
            "acknowledged_at",
            "assignment__patient__code",
            _document_resources,
        ),
    )
}
# A Provenance is read by its id (the acknowledgment's); searches include it with its DocumentReference.
PROVENANCE = Kind(
    "Provenance", _acknowledgments, "acknowledged_at", "assignment__patient__code", _matches(fhir.provenance)
)
COMMON_PARAMS = frozenset({"_lastUpdated", "_count", "_cursor"})


@dataclass(frozen=True)
class Page:
    rows: list
    next_cursor: str | None


def search(kind: Kind, clinic, params) -> Page:
    """One page of `kind`'s rows of the clinic that match `params` (a QueryDict), oldest
    change first; a cursor to the next page when there is one."""
    allowed = (
        COMMON_PARAMS | kind.params | ({"patient"} if kind.patient and kind.name != "Patient" else set())
    )
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadSearch(f"Unknown search parameter for {kind.name}: {', '.join(unknown)}.")
    rows = kind.rows(clinic).filter(_last_updated(kind, params.getlist("_lastUpdated")))
    if "patient" in params:
        rows = rows.filter(**{kind.patient: _code(params["patient"], "Patient/")})
    if "identifier" in params:
        rows = rows.filter(record_number=params["identifier"].rpartition("|")[2])
    if "_cursor" in params:
        rows = rows.filter(_after(kind, params["_cursor"]))
    count = _count(params.get("_count"))
    found = list(rows.order_by(kind.updated, "pk")[: count + 1])
    if len(found) <= count:
        return Page(found, None)
    last = found[count - 1]
    return Page(found[:count], _cursor(getattr(last, kind.updated), last.pk))


def read(kind: Kind, clinic, code: uuid.UUID):
    return kind.rows(clinic).filter(code=code).first()


def next_url(path: str, params, cursor: str) -> str:
    kept = [(name, value) for name, values in params.lists() if name != "_cursor" for value in values]
    return f"{fhir.base()}{path}?{urlencode([*kept, ('_cursor', cursor)])}"


def self_url(path: str, params) -> str:
    query = urlencode([(name, value) for name, values in params.lists() for value in values])
    return f"{fhir.base()}{path}" + (f"?{query}" if query else "")


def _count(value) -> int:
    if value is None:
        return PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= PAGE_SIZE:
        raise BadSearch(f"_count must be a whole number from 1 to {PAGE_SIZE}.")
    return int(value)


def _code(value: str, prefix: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.removeprefix(prefix).removeprefix(fhir.base() + "/" + prefix))
    except ValueError as error:
        raise BadSearch(f"“{value[:60]}” is not a patient id such as Patient/<id>.") from error


_COMPARISONS = {"gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}


def _last_updated(kind: Kind, values: list[str]) -> Q:
    """_lastUpdated=ge2026-12-01T00:00:00Z (also gt, lt, le; a date means its start in UTC)."""
    condition = Q()
    for value in values:
        prefix, moment = value[:2], value[2:]
        if prefix not in _COMPARISONS:
            raise BadSearch(
                "_lastUpdated needs a prefix: gt, ge, lt or le, as in _lastUpdated=gt2026-12-01T08:00:00Z."
            )
        at, whole_day = _moment(moment)
        lookup = _COMPARISONS[prefix]
        if whole_day and prefix in ("gt", "le"):
            # After (or up to the end of) a day: from the start of the next one.
            at, lookup = at + datetime.timedelta(days=1), "gte" if prefix == "gt" else "lt"
        condition &= Q(**{f"{kind.updated}__{lookup}": at})
    return condition


def _moment(text: str) -> tuple[datetime.datetime, bool]:
    try:
        # A date alone first: parse_datetime reads "2026-12-01" as a midnight without a zone.
        day = parse_date(text) if len(text) == len("2026-12-01") else None
        parsed = None if day else parse_datetime(text)
    except ValueError:
        parsed = day = None
    if parsed and parsed.tzinfo:
        return parsed, False
    if day:
        return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC), True
    raise BadSearch(
        f"_lastUpdated: “{text[:40]}” is not a date or a time with its zone, such as 2026-12-01T08:00:00Z."
    )


def _cursor(updated: datetime.datetime, pk: int) -> str:
    return signing.dumps([updated.isoformat(), pk], salt=CURSOR_SALT, compress=True)


def _after(kind: Kind, cursor: str) -> Q:
    try:
        updated, pk = signing.loads(cursor, salt=CURSOR_SALT)
        updated = datetime.datetime.fromisoformat(updated)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise BadSearch("The page link is not valid. Start the search again from its first page.") from error
    # The `>=` bounds the index scan: without it PostgreSQL reads the index from its start
    # and filters, and each page costs more than the one before.
    later = Q(**{f"{kind.updated}__gt": updated}) | Q(pk__gt=pk)
    return Q(**{f"{kind.updated}__gte": updated}) & later
