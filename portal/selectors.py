"""Read queries for the clinician's pages, written once so each page costs a fixed
number of queries however many patients a clinic has."""

import dataclasses
import datetime
import functools
import uuid
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, F, IntegerField, Max, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Clinic, Membership, User
from education.compiled import AN_ID, NOW, TODAY, AnyOf, CompiledObjects, CompiledRows
from education.models import (
    Acknowledgment,
    Assignment,
    Module,
    PatientProgress,
    Question,
    QuizAttempt,
    VisitQuestion,
)
from education.selectors import visit_records
from portal.models import AuditEvent, ClinicFigures, FollowUpVisit, TeachBack

VISIT_SOON = datetime.timedelta(days=7)

STATUS_FILTERS = {
    "not_started": Q(assigned_count__gt=0, opened_count=0, completed_count=0),
    "in_progress": Q(opened_count__gt=0, completed_count__lt=F("assigned_count")),
    "completed": Q(assigned_count__gt=0, completed_count=F("assigned_count")),
}
# Each matches one index on PatientProgress (clinic first).
ORDERINGS = {
    "due": [F("next_due").asc(nulls_last=True), "full_name", "patient"],
    "activity": [F("last_activity").desc(nulls_last=True), "full_name", "patient"],
    "name": ["full_name", "patient"],
}


def dashboard_page(clinician: User, *, search="", status="", sort="due", page_number=1, per_page=50):
    """One page of the clinician's patients, filtered and sorted, with every figure.

    The page's ids come from the patients' progress rows in index order, so a page costs
    what a page costs whatever the clinic's size; the figures that depend on today (modules
    overdue, the next visit) are computed for the page's 50 patients only."""
    now, today = timezone.now(), timezone.localdate()
    # The clinics as values, not a subquery: with one clinic the planner walks the index.
    rosters = dict(_rosters(connection.alias).rows(clinician=clinician.pk))
    rows = _matching(list(rosters), search=search, status=status, now=now, today=today)
    ordering = ORDERINGS.get(sort, ORDERINGS["due"])
    paginator = Paginator(rows.order_by(*ordering).values_list("patient", flat=True), per_page)
    if not _narrows(search, status):
        # All the clinics' patients: their rosters count them, where COUNT(*) read every row.
        paginator.count = sum(count or 0 for count in rosters.values())
    page = paginator.get_page(page_number)
    ids = _page_ids(page)
    # Padded to a full page with an id no one has, so one compiled statement serves them all.
    padded = tuple(ids) + (NO_ONE,) * (per_page - len(ids))
    columns = _page_columns(connection.alias, per_page).rows(ids=padded, now=now, today=today)
    rows = {row.pk: row for row in (DashboardRow(*values) for values in columns)}
    page.object_list = [rows[pk] for pk in ids]
    return page


NO_ONE = 0  # ids start at 1


@functools.cache
def _rosters(alias: str) -> CompiledRows:
    """The clinician's clinics and how many patients each has, compiled once per process
    (building and compiling it took longer than running it)."""
    rosters = Clinic.objects.of_member(AN_ID).values_list("pk", "roster__patients")
    return CompiledRows.of(rosters, alias, clinician=AN_ID)


def _page_ids(page) -> list[int]:
    """The page's patient ids. A page past the middle is read from the far end of the index,
    backwards: an OFFSET reads every entry it skips, so the last of 200 pages read 9,950
    entries (2-3 ms) to return 50. A page in the middle still reads half the clinic's."""
    count, size = page.paginator.count, page.paginator.per_page
    skipped = (page.number - 1) * size
    if skipped <= count // 2:
        return list(page.object_list)
    from_the_end = count - page.end_index()
    backwards = page.paginator.object_list.reverse()
    return list(reversed(backwards[from_the_end : count - skipped]))


@functools.cache
def _page_columns(alias: str, per_page: int) -> CompiledRows:
    """The page's patients with their progress rows and the figures of the day, compiled
    once per process and page size: building and compiling this query took 5.3 of the
    6.7 ms it cost (in-process timing on the bench database, 10,000 patients)."""
    ids = tuple(range(-2_000_000 - per_page, -2_000_000))
    columns = (
        User.objects.filter(AnyOf(F("pk"), ids))
        .with_account_status(now=NOW)
        .annotate(**_figures_of_the_day(TODAY, NOW))
        .order_by()
        .values_list(*DASHBOARD_COLUMNS)
    )
    return CompiledRows.of(columns, alias, ids=ids, now=NOW, today=TODAY)


@dataclass(frozen=True, slots=True)
class DashboardRow:
    """One patient as the dashboard lists them. Plain values: three model instances per
    patient (user, clinic, progress) were a tenth of the page's time."""

    pk: int
    code: uuid.UUID
    full_name: str
    clinic_id: int
    clinic_name: str
    account_status: str
    language: str
    assigned_count: int
    completed_count: int
    next_due: datetime.date | None
    latest_score: int | None
    latest_passed: bool | None
    latest_module_title: str | None
    last_activity: datetime.datetime | None
    reacknowledge_since: datetime.datetime | None
    overdue_count: int
    next_visit: datetime.datetime | None


DASHBOARD_COLUMNS = (
    "pk",
    "code",
    "full_name",
    "clinic_id",
    "clinic__name",
    "account_status",
    "language",
    "progress__assigned_count",
    "progress__completed_count",
    "progress__next_due",
    "progress__latest_score",
    "progress__latest_passed",
    "progress__latest_module__title",
    "progress__last_activity",
    "progress__reacknowledge_since",
    "overdue_count",
    "next_visit",
)


def library_key() -> str:
    """A key for markup that lists the library (the dashboard's bulk-assign form): it
    changes when a module is added or shows another version. One small query, compiled
    once per process: building and compiling it took four times what running it took."""
    return ",".join(f"{pk}-{version}" for pk, version in _library(connection.alias).rows())


@functools.cache
def _library(alias: str) -> CompiledRows:
    return CompiledRows.of(Module.objects.library_versions(), alias)


def visit_agenda(patient_id: int) -> list[VisitQuestion]:
    """A patient's open questions for their visit, in the order asked, with their module:
    one query, compiled once per process (building it took twice what running it took)."""
    return _agenda(connection.alias).objects(patient=patient_id)


@functools.cache
def _agenda(alias: str) -> CompiledObjects:
    return CompiledObjects.of(VisitQuestion.objects.for_clinicians(AN_ID).open(), alias, patient=AN_ID)


def matching_patients(clinician: User, *, search="", status="") -> list[User]:
    """Every patient the dashboard lists for this search and filter, on all its pages."""
    clinic_ids = list(Clinic.objects.of_member(clinician).values_list("pk", flat=True))
    rows = _matching(clinic_ids, search=search, status=status, now=timezone.now(), today=timezone.localdate())
    return list(User.objects.filter(pk__in=rows.values("patient")))


def _narrows(search: str, status: str) -> bool:
    """Whether the search or filter leaves out some of the clinics' patients."""
    return bool(search) or status in ("visit_soon", "overdue", "inactive", *STATUS_FILTERS)


def _matching(clinic_ids: list[int], *, search, status, now, today):
    """The progress rows of the clinics' patients that the search and filter keep."""
    rows = PatientProgress.objects.filter(clinic__in=clinic_ids)
    if search:
        rows = rows.filter(Q(full_name__icontains=search) | Q(patient__email__icontains=search))
    if status == "visit_soon":
        soon = FollowUpVisit.objects.upcoming(now).filter(scheduled_at__lte=now + VISIT_SOON)
        rows = rows.filter(patient__in=soon.values("patient"))
    elif status == "overdue":
        rows = rows.filter(next_due__lt=today)
    elif status == "inactive":
        rows = rows.filter(patient__is_active=False)
    elif status in STATUS_FILTERS:
        rows = rows.filter(STATUS_FILTERS[status])
    return rows


def _figures_of_the_day(today: datetime.date, now: datetime.datetime) -> dict:
    """Per patient, what depends on the date: modules overdue and the next visit."""
    overdue = (
        Assignment.objects.open()
        .filter(patient=OuterRef("pk"), due_date__lt=today)
        .order_by()
        .values("patient")
        .annotate(value=Count("pk"))
        .values("value")
    )
    next_visit = FollowUpVisit.objects.filter(patient=OuterRef("pk")).upcoming(now).order_by("scheduled_at")
    return {
        "overdue_count": Coalesce(Subquery(overdue[:1]), Value(0), output_field=IntegerField()),
        "next_visit": Subquery(next_visit.values("scheduled_at")[:1]),
    }


def module_completion(figures: list[ClinicFigures]) -> list[Module]:
    """Every module, with assignments (not cancelled) and completions summed over the
    clinics' stored figures and the completion rate: one query, for the titles."""
    modules = list(Module.objects.order_by("title"))
    for module in modules:
        counts = [clinic.modules.get(str(module.pk), [0, 0]) for clinic in figures]
        module.assigned = sum(assigned for assigned, _ in counts)
        module.completed = sum(completed for _, completed in counts)
        module.rate = round(100 * module.completed / module.assigned) if module.assigned else 0
    return modules


def most_missed_questions(figures: list[ClinicFigures], limit=10) -> list[dict]:
    """The questions answered wrong most often in the clinics' stored figures, with how
    often each was answered at all: one query, for the questions' text."""
    totals: dict[int, list[int]] = {}
    for clinic in figures:
        for question_id, (missed, answered) in clinic.questions.items():
            total = totals.setdefault(int(question_id), [0, 0])
            total[0] += missed
            total[1] += answered
    top = sorted((q for q, (missed, _) in totals.items() if missed), key=lambda q: (-totals[q][0], q))[:limit]
    questions = Question.objects.select_related("version__module").in_bulk(top)
    return [
        {
            "text": questions[question_id].text,
            "module_title": questions[question_id].version.module.title,
            "version_number": questions[question_id].version.number,
            "missed": totals[question_id][0],
            "answered": totals[question_id][1],
            "rate": round(100 * totals[question_id][0] / totals[question_id][1]),
        }
        for question_id in top
    ]


def assignment_export_rows(clinician: User, *, today: datetime.date):
    """Every assignment of the clinician's clinics as export tuples, read in chunks."""
    acknowledged = Acknowledgment.objects.filter(assignment=OuterRef("pk")).order_by("-acknowledged_at")
    best = QuizAttempt.objects.filter(assignment=OuterRef("pk")).order_by().values("assignment")
    return (
        Assignment.objects.filter(patient__clinic__memberships__user=clinician)
        .with_status(today)
        .annotate(
            version_acknowledged=Subquery(acknowledged.values("version__number")[:1]),
            best_score=Subquery(best.annotate(best=Max("score")).values("best")[:1]),
        )
        .order_by("patient__full_name", "patient_id", "module__title", "assigned_at")
        .values_list(
            "patient__full_name",
            "patient__email",
            "patient__record_number",
            "patient__clinic__name",
            "module__title",
            "version_acknowledged",
            "status",
            "assigned_at",
            "due_date",
            "completed_at",
            "best_score",
            "patient__clinic__time_zone",
        )
        # 100 rows a fetch keeps a 50,000-row export at the memory of a 50-row one
        # (benchmarks/export_memory.py: 1.35x); larger chunks raise the plateau, not the speed.
        .iterator(chunk_size=100)
    )


def audit_events(admin: User, *, patient=None, actor=None, since=None, until=None):
    """The audit trail of the clinics `admin` administers, newest first: events about
    their patients, and events of their staff and patients (sign-ins, password changes)."""
    clinics = Clinic.objects.administered_by(admin)
    members = User.objects.filter(Q(clinic__in=clinics) | Q(memberships__clinic__in=clinics))
    events = AuditEvent.objects.filter(Q(clinic__in=clinics) | Q(actor__in=members)).select_related(
        "actor", "patient", "clinic"
    )
    if patient:
        events = events.filter(patient__code=patient)
    if actor:
        events = events.filter(actor__code=actor)
    if since:
        events = events.filter(at__date__gte=since)
    if until:
        events = events.filter(at__date__lte=until)
    return events.order_by("-at", "-pk")


# A visit's teach-back rows as columns of the visit's row: a page reads both in one query
# (the patient page was at 18 queries; the issue asks for 12 at most).
TEACH_BACK_COLUMNS = {
    "tb_pk": "teach_backs__pk",
    "tb_assignment": "teach_backs__assignment_id",
    "tb_module": "teach_backs__assignment__module_id",
    "tb_outcome": "teach_backs__outcome",
    "tb_note": "teach_backs__note",
    "tb_at": "teach_backs__recorded_at",
    "tb_by_name": "teach_backs__recorded_by__full_name",
    "tb_by_email": "teach_backs__recorded_by__email",
}


def staff_of_clinics(admin: User) -> list[Clinic]:
    """The clinics `admin` runs, each with its staff by name: two queries."""
    staff = Membership.objects.select_related("user").order_by("user__full_name", "user__email")
    clinics = Clinic.objects.administered_by(admin).prefetch_related(Prefetch("memberships", queryset=staff))
    return list(clinics)


def visits_and_teach_backs(patient_id: int) -> tuple[list[FollowUpVisit], list[TeachBack]]:
    """The patient's visits, newest first, and every teach-back recorded at them, oldest
    first, from one query: each visit joined with its teach-back rows, or with none.
    Compiled once per process: compiling its joins took 1.6 of its 2.4 ms (issue 17's bench)."""
    visits, found = {}, []
    for row in _visits_with_teach_backs(connection.alias).objects(patient=patient_id):
        visit = visits.setdefault(row.pk, row)
        if row.tb_pk is not None:
            found.append(_teach_back_of(visit, row))
    return list(visits.values()), sorted(found, key=lambda row: (row.recorded_at, row.pk))


@functools.cache
def _visits_with_teach_backs(alias: str) -> CompiledObjects:
    rows = (
        FollowUpVisit.objects.filter(patient=AN_ID)
        .select_related("clinician", "patient__clinic")
        .annotate(**{name: F(path) for name, path in TEACH_BACK_COLUMNS.items()})
        .order_by("-scheduled_at", "-pk", "tb_at", "tb_pk")
    )
    return CompiledObjects.of(rows, alias, patient=AN_ID)


def _teach_back_of(visit: FollowUpVisit, row) -> TeachBack:
    teach_back = TeachBack(
        pk=row.tb_pk,
        visit_id=visit.pk,
        assignment_id=row.tb_assignment,
        outcome=row.tb_outcome,
        note=row.tb_note,
        recorded_at=row.tb_at,
    )
    teach_back.module_id, teach_back.visit_scheduled_at = row.tb_module, visit.scheduled_at
    teach_back.recorded_by_name = row.tb_by_name or row.tb_by_email
    return teach_back


def visit_records_with_teach_back(visit: FollowUpVisit) -> list:
    """The modules linked to the visit with their quiz results and teach-back."""
    _visits, teach_backs = visits_and_teach_backs(visit.patient_id)
    return add_teach_back(visit_records(visit), teach_backs, visit)


def add_teach_back(records: list, teach_backs: list[TeachBack], visit: FollowUpVisit | None = None) -> list:
    """Beside each module's quiz results: its newest teach-back at this visit (on the
    patient's page, at any visit), and at a visit, the newest from an earlier visit about
    the same module, which may have been another assignment of it."""
    for record in records:
        assignment = record.assignment
        record.teach_back = _newest(
            row
            for row in teach_backs
            if row.assignment_id == assignment.pk and (visit is None or row.visit_id == visit.pk)
        )
        record.earlier_teach_back = visit and _newest(
            row
            for row in teach_backs
            if row.module_id == assignment.module_id
            and row.visit_id != visit.pk
            and row.visit_scheduled_at < visit.scheduled_at
        )
    return records


def _newest(rows) -> TeachBack | None:
    return max(rows, key=lambda row: (row.recorded_at, row.pk), default=None)


@dataclass
class SummaryRow:
    """One module in the visit summary's table, as the screen and the PDF show it: plain
    values, so a held visit can keep its table as it stood (`as_held`, `held_rows`)."""

    assignment: str  # the assignment's code
    title: str
    status_label: str
    needs_attention: bool
    acknowledged: str
    scores: str
    talking_points: list[str]
    # The live record (education.selectors.LearningRecord with teach_back added): teach-back
    # is recorded at or after the visit. None when a held visit's module is no longer linked.
    record: object = dataclasses.field(default=None, compare=False)

    def as_held(self) -> dict:
        return {
            kept.name: getattr(self, kept.name) for kept in dataclasses.fields(self) if kept.name != "record"
        }


def visit_summary_rows(records: list, visit: FollowUpVisit | None = None) -> list[SummaryRow]:
    """The modules linked to a visit, those that need attention first (overdue or not
    done, an update to acknowledge, safety points not yet shown, a teach-back that needs
    review), then by title. A held visit shows its table as it was when held."""
    if visit is not None and visit.summary_when_held is not None:
        return held_rows(visit.summary_when_held, records)
    rows = [_summary_row(record) for record in records]
    return sorted(rows, key=lambda row: (not row.needs_attention, row.title))


def held_rows(kept: list[dict], records: list) -> list[SummaryRow]:
    live = {str(record.assignment.code): record for record in records}
    return [SummaryRow(**row, record=live.get(row["assignment"])) for row in kept]


def _summary_row(record) -> SummaryRow:
    teach_back = getattr(record, "teach_back", None)
    needs_attention = bool(
        record.to_do
        or record.still_missed
        or (teach_back and teach_back.outcome == TeachBack.Outcome.NEEDS_REVIEW)
    )
    return SummaryRow(
        assignment=str(record.assignment.code),
        title=record.assignment.module.title,
        status_label=str(record.status_label),
        needs_attention=needs_attention and not record.assignment.cancelled_at,
        acknowledged=_acknowledged(record),
        scores=_scores(record),
        talking_points=[str(concept.label) for concept in record.still_missed],
        record=record,
    )


# The summary's words are kept in the language of the clinician who marked the visit held
# (`as_held`), as they read them then.
def _acknowledged(record) -> str:
    if record.assignment.reacknowledge_since:
        return _("Needs to re-acknowledge")
    acknowledgment = record.acknowledgment
    if not acknowledgment:
        return _("Not yet")
    number = {"number": acknowledgment.version.number}
    if record.acknowledged_earlier_version:
        return _("Version %(number)s (earlier version)") % number
    return _("Version %(number)s") % number


def _scores(record) -> str:
    if record.latest_attempt is None:
        return _("No quiz yet")
    return f"{record.best_score}% / {record.latest_attempt.score}%"
