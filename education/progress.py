"""Each patient's progress row (PatientProgress): what the dashboard shows and sorts on.

The services that change a figure's inputs call `refresh` in their own transaction, so
the row never disagrees with the records; `rebuild` recomputes every row from the records
(`manage.py rebuild_progress`), and a test proves the two give the same rows."""

import datetime
import functools
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, F, IntegerField, Max, Min, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, NullIf
from django.dispatch import receiver

from accounts.models import User
from accounts.signals import patient_added
from education import compiled
from education.compiled import AnyOf, CompiledRows, CompiledUpdate
from education.models import Acknowledgment, Assignment, ClinicRoster, PatientProgress, QuizAttempt

# Stands in for "never" inside Greatest(), which returns NULL on SQLite if any value is.
NEVER = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
REBUILD_BATCH_SIZE = 2000


def _per_patient(queryset, aggregate):
    """A correlated subquery: `aggregate` over `queryset` rows of the outer patient."""
    rows = queryset.order_by().values("patient").annotate(value=aggregate).values("value")
    return Subquery(rows[:1])


def _count(queryset):
    return Coalesce(_per_patient(queryset, Count("pk")), Value(0), output_field=IntegerField())


def _latest_attempt(field):
    attempts = QuizAttempt.objects.filter(assignment__patient=OuterRef("patient_id")).order_by(
        "-submitted_at"
    )
    return Subquery(attempts.values(field)[:1])


def _last(model, field):
    rows = (
        model.objects.filter(assignment__patient=OuterRef("patient_id"))
        .order_by()
        .values("assignment__patient")
    )
    return Coalesce(Subquery(rows.annotate(value=Max(field)).values("value")[:1]), Value(NEVER))


def _figures() -> dict:
    """Every column of the row, computed from the records of the outer row's patient."""
    patient = User.objects.filter(pk=OuterRef("patient_id")).order_by()
    assigned = Assignment.objects.filter(patient=OuterRef("patient_id")).not_cancelled()
    still_open = assigned.filter(completed_at__isnull=True)
    return {
        "clinic_id": Subquery(patient.values("clinic_id")[:1]),
        "full_name": Subquery(patient.values("full_name")[:1]),
        "assigned_count": _count(assigned),
        "opened_count": _count(assigned.filter(opened_at__isnull=False)),
        "completed_count": _count(assigned.filter(completed_at__isnull=False)),
        "next_due": Subquery(still_open.order_by("due_date").values("due_date")[:1]),
        "last_activity": NullIf(
            Greatest(
                Coalesce(_per_patient(assigned, Max("opened_at")), Value(NEVER)),
                _last(QuizAttempt, "submitted_at"),
                _last(Acknowledgment, "acknowledged_at"),
            ),
            Value(NEVER),
        ),
        "latest_score": _latest_attempt("score"),
        "latest_passed": _latest_attempt("passed"),
        "latest_module_id": _latest_attempt("assignment__module_id"),
        # Since when a module the patient had acknowledged was updated and awaits a new one.
        "reacknowledge_since": _per_patient(assigned, Min("reacknowledge_since")),
    }


def refresh(patients: Iterable[int] | QuerySet, *, only: tuple[str, ...] = ()) -> None:
    """Recompute the rows of `patients` (ids, or a query of ids) from their records: one
    UPDATE however many, plus an insert for patients who have no row yet. `only` names the
    columns a change can affect, for a change made to thousands of rows at once."""
    if isinstance(patients, QuerySet):
        figures = _figures()
        columns = {name: figures[name] for name in only} if only else figures
        PatientProgress.objects.filter(patient__in=patients).update(**columns)
        return
    ids = set(patients)
    if not ids:
        return
    # No savepoint inside the caller's transaction: a quiz answer would pay two statements.
    with transaction.atomic(savepoint=False):
        # Wait for any other transaction refreshing these rows to commit, so that the UPDATE
        # below (a new statement, a new snapshot) counts that transaction's records too. An
        # UPDATE that waited on the row lock itself would recompute from its older snapshot.
        _lock(ids)
        if _update(ids, only) < len(ids):
            # A patient written around invite_patient, as the demo does: start the row, and
            # fill every column of it.
            _start_rows(ids)
            _update(ids)


def _lock(ids: set[int]) -> None:
    if len(ids) > 1:
        list(
            PatientProgress.objects.filter(AnyOf(F("patient"), ids))
            .select_for_update()
            .order_by("pk")
            .values_list("pk")
        )
    else:
        _one_row_lock(connection.alias).rows(patient=next(iter(ids)))


def _update(ids: set[int], only: tuple[str, ...] = ()) -> int:
    if len(ids) > 1 or only:
        figures = _figures()
        columns = {name: figures[name] for name in only} if only else figures
        # The ids as one array on PostgreSQL: 1,000 of them as parameters took psycopg
        # longer to bind than the lock took to run.
        return PatientProgress.objects.filter(AnyOf(F("patient"), ids)).update(**columns)
    return _one_row_update(connection.alias).run(patient=next(iter(ids)))


@functools.cache
def _one_row_update(alias: str) -> CompiledUpdate:
    """The UPDATE of one patient's row, compiled once per process (education.compiled):
    nothing in it depends on the time or the patient except the id."""
    rows = PatientProgress.objects.filter(patient=compiled.AN_ID)
    return CompiledUpdate.of(rows, _figures(), alias, patient=compiled.AN_ID)


@functools.cache
def _one_row_lock(alias: str) -> CompiledRows:
    """SELECT … FOR UPDATE of one patient's row, compiled once per process (first compiled
    inside the refresh's transaction, as select_for_update requires)."""
    rows = PatientProgress.objects.filter(patient=compiled.AN_ID).select_for_update().order_by()
    return CompiledRows.of(rows.values_list("pk"), alias, patient=compiled.AN_ID)


def _start_rows(ids) -> None:
    """Empty rows for the patients among `ids` that have none; `refresh` fills them."""
    missing = (
        User.objects.patients()
        .filter(pk__in=ids, progress__isnull=True)
        .exclude(clinic=None)
        .values_list("pk", "clinic_id")
    )
    PatientProgress.objects.bulk_create(
        [PatientProgress(patient_id=pk, clinic_id=clinic_id) for pk, clinic_id in missing],
        ignore_conflicts=True,
    )


def start(patients: list[User]) -> None:
    """Rows for new patients, who have no records yet: one insert."""
    PatientProgress.objects.bulk_create(
        PatientProgress(patient=patient, clinic_id=patient.clinic_id, full_name=patient.full_name)
        for patient in patients
    )


@receiver(patient_added)
def _start_tracking(sender, patient, **kwargs):
    """A new patient appears on the dashboard at once, with nothing assigned yet."""
    start([patient])


def analyze_sources() -> None:
    """Planner statistics for the tables the rows are computed from (PostgreSQL). Without
    them, tables filled in bulk since the last ANALYZE look empty, and each row's
    subqueries scan every assignment: 2,000 rows took minutes instead of a second."""
    if connection.vendor == "postgresql":
        tables = [model._meta.db_table for model in (User, Assignment, QuizAttempt, Acknowledgment)]
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables)}")


def rebuild() -> int:
    """Every patient's row recomputed from the records, and the clinics' rosters counted
    again; returns how many patients."""
    count = rebuild_rows()
    _recount_rosters()
    return count


def rebuild_rows() -> int:
    """Every patient's row recomputed from the records, in batches; returns how many."""
    analyze_sources()
    ids = list(User.objects.patients().exclude(clinic=None).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), REBUILD_BATCH_SIZE):
        refresh(ids[start : start + REBUILD_BATCH_SIZE])
    return len(ids)


def _recount_rosters() -> None:
    """The triggers keep the rosters; a restore or a hand-written fix may not have."""
    counts = list(PatientProgress.objects.order_by().values("clinic").annotate(rows=Count("pk")))
    ClinicRoster.objects.exclude(clinic__in=[count["clinic"] for count in counts]).update(patients=0)
    ClinicRoster.objects.bulk_create(
        [ClinicRoster(clinic_id=count["clinic"], patients=count["rows"]) for count in counts],
        update_conflicts=True,
        unique_fields=["clinic"],
        update_fields=["patients"],
    )
