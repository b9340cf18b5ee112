"""Read queries for the clinician's pages, written once so each page costs a fixed
number of queries however many patients a clinic has."""

import datetime

from django.core.paginator import Paginator
from django.db.models import Count, F, IntegerField, Max, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, NullIf
from django.utils import timezone

from accounts.models import Clinic, User
from education.models import Acknowledgment, Answer, Assignment, Module, QuizAttempt
from portal.models import AuditEvent, FollowUpVisit

# Stands in for "never" inside Greatest(), which returns NULL on SQLite if any value is.
NEVER = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
VISIT_SOON = datetime.timedelta(days=7)


def _per_patient(queryset, aggregate):
    """A correlated subquery: `aggregate` over `queryset` rows of the outer patient."""
    rows = queryset.order_by().values("patient").annotate(value=aggregate).values("value")
    return Subquery(rows[:1])


def _count(queryset):
    return Coalesce(_per_patient(queryset, Count("pk")), Value(0), output_field=IntegerField())


def _latest(model_queryset, field, patient_path):
    rows = model_queryset.filter(**{patient_path: OuterRef("pk")}).order_by("-submitted_at").values(field)
    return Subquery(rows[:1])


def _last(queryset, field):
    rows = queryset.filter(assignment__patient=OuterRef("pk")).order_by().values("assignment__patient")
    return Coalesce(Subquery(rows.annotate(value=Max(field)).values("value")[:1]), Value(NEVER))


def _stat_expressions(today: datetime.date, now: datetime.datetime) -> dict:
    """What the dashboard shows for each patient: modules completed of assigned, overdue
    count, next due date, latest quiz result, last activity, next visit."""
    assigned = Assignment.objects.filter(patient=OuterRef("pk")).not_cancelled()
    still_open = assigned.filter(completed_at__isnull=True)
    next_visit = FollowUpVisit.objects.filter(patient=OuterRef("pk")).upcoming(now).order_by("scheduled_at")
    return {
        "assigned_count": _count(assigned),
        "completed_count": _count(assigned.filter(completed_at__isnull=False)),
        "opened_count": _count(assigned.filter(opened_at__isnull=False)),
        "overdue_count": _count(still_open.filter(due_date__lt=today)),
        "next_due": Subquery(still_open.order_by("due_date").values("due_date")[:1]),
        "latest_score": _latest(QuizAttempt.objects, "score", "assignment__patient"),
        "latest_passed": _latest(QuizAttempt.objects, "passed", "assignment__patient"),
        "last_activity": NullIf(
            Greatest(
                Coalesce(_per_patient(assigned, Max("opened_at")), Value(NEVER)),
                _last(QuizAttempt.objects, "submitted_at"),
                _last(Acknowledgment.objects, "acknowledged_at"),
            ),
            Value(NEVER),
        ),
        "next_visit": Subquery(next_visit.values("scheduled_at")[:1]),
        # Since when a module the patient had acknowledged was updated and awaits a new one.
        "reacknowledge_since": _per_patient(assigned, Min("reacknowledge_since")),
    }


STATUS_FILTERS = {
    "not_started": Q(assigned_count__gt=0, opened_count=0, completed_count=0),
    "in_progress": Q(opened_count__gt=0, completed_count__lt=F("assigned_count")),
    "completed": Q(assigned_count__gt=0, completed_count=F("assigned_count")),
    "overdue": Q(overdue_count__gt=0),
}
STATUS_NEEDS = {
    "not_started": {"assigned_count", "opened_count", "completed_count"},
    "in_progress": {"assigned_count", "opened_count", "completed_count"},
    "completed": {"assigned_count", "completed_count"},
    "overdue": {"overdue_count"},
    "visit_soon": {"next_visit"},
}
ORDERINGS = {
    "due": ([F("next_due").asc(nulls_last=True), "full_name", "pk"], {"next_due"}),
    "activity": ([F("last_activity").desc(nulls_last=True), "full_name", "pk"], {"last_activity"}),
    "name": (["full_name", "pk"], set()),
}


def dashboard_page(clinician: User, *, search="", status="", sort="due", page_number=1, per_page=50):
    """One page of the clinician's patients, filtered and sorted, with every figure.

    Two steps keep a deep page as cheap as the first: the page's ids are chosen with
    only the figures the filter and sort need (a deep OFFSET would otherwise compute
    every figure for every skipped row), then all figures are computed for those ids."""
    now, today = timezone.now(), timezone.localdate()
    expressions = _stat_expressions(today, now)
    ordering, sort_needs = ORDERINGS.get(sort, ORDERINGS["due"])
    needed = sort_needs | STATUS_NEEDS.get(status, set())
    patients = User.objects.visible_to(clinician).annotate(**{name: expressions[name] for name in needed})
    if search:
        patients = patients.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    if status == "visit_soon":
        patients = patients.filter(next_visit__lte=now + VISIT_SOON)
    elif status in STATUS_FILTERS:
        patients = patients.filter(STATUS_FILTERS[status])
    page = Paginator(patients.order_by(*ordering).values_list("pk", flat=True), per_page).get_page(
        page_number
    )
    ids = list(page.object_list)
    rows = (
        User.objects.filter(pk__in=ids).select_related("clinic").with_account_status().annotate(**expressions)
    ).in_bulk()
    page.object_list = [rows[pk] for pk in ids]
    return page


def module_completion(clinics):
    """Per module: assignments (not cancelled) in `clinics`, how many completed, the rate."""
    in_clinics = Q(assignments__patient__clinic__in=clinics, assignments__cancelled_at__isnull=True)
    modules = Module.objects.annotate(
        assigned=Count("assignments", filter=in_clinics),
        completed=Count("assignments", filter=in_clinics & Q(assignments__completed_at__isnull=False)),
    ).order_by("title")
    for module in modules:
        module.rate = round(100 * module.completed / module.assigned) if module.assigned else 0
    return modules


def most_missed_questions(clinics, limit=10):
    """The questions answered wrong most often in `clinics`, with how often each was
    answered at all: two queries."""
    answers = Answer.objects.filter(attempt__assignment__patient__clinic__in=clinics)
    missed = list(
        answers.filter(is_correct=False)
        .values("question", "question__text", "question__version__module__title", "question__version__number")
        .annotate(missed=Count("pk"))
        .order_by("-missed", "question")[:limit]
    )
    totals = dict(
        answers.filter(question__in=[row["question"] for row in missed])
        .values("question")
        .annotate(total=Count("pk"))
        .values_list("question", "total")
    )
    for row in missed:
        row["answered"] = totals[row["question"]]
        row["rate"] = round(100 * row["missed"] / row["answered"])
    return missed


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
