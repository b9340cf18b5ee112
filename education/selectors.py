"""What a clinician reads about a patient's learning, built in a fixed number of queries."""

import datetime
import difflib
import functools
from dataclasses import dataclass, field
from functools import cached_property

from django.db import connection
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from education import services
from education.banks import QuizBank, quiz_banks
from education.compiled import AN_ID, TODAY, CompiledObjects, CompiledRows
from education.models import VERSION_TEXT, Acknowledgment, Answer, Assignment, Choice, Question, QuizAttempt
from education.services import counting_floors_of


@dataclass(frozen=True)
class Event:
    at: datetime.datetime
    text: str


@dataclass(frozen=True)
class ShownAnswer:
    """One question of an attempt as the patient saw it: its choices in the order shown,
    the one picked, and the right one."""

    number: int
    question: Question
    choices: list[Choice]
    chosen: Choice
    is_correct: bool
    section_title: str = ""
    language: str = "en"  # the language the question was asked in

    @property
    def right_choice(self) -> Choice:
        return next(choice for choice in self.choices if choice.is_correct)

    @property
    def chosen_letter(self) -> str:
        return "ABCDEFGH"[self.choices.index(self.chosen)]


@dataclass
class ConceptResult:
    """What the patient's answers show about one safety point: the latest answer that
    asked it decides (mastered when it was right)."""

    key: str
    label: str
    latest: ShownAnswer
    times_missed: int = 0

    @cached_property
    def mastered(self) -> bool:
        return self.latest.is_correct


@dataclass
class LearningRecord:
    """One assignment as the clinician sees it. Its figures are computed once: a page asks
    each several times (the talking points three times per module)."""

    assignment: Assignment
    attempts: list[QuizAttempt]
    acknowledgment: Acknowledgment | None
    acknowledged_earlier_version: bool
    events: list[Event] = field(default_factory=list)
    concepts: list[ConceptResult] = field(default_factory=list)

    @cached_property
    def mastered(self) -> list[ConceptResult]:
        return [concept for concept in self.concepts if concept.mastered]

    @cached_property
    def still_missed(self) -> list[ConceptResult]:
        """The talking points of the visit: concepts whose latest answer was wrong, most
        often missed first. A point answered right since is no longer one."""
        missed = [concept for concept in self.concepts if not concept.mastered]
        return sorted(missed, key=lambda concept: -concept.times_missed)

    @cached_property
    def not_yet_asked(self) -> list[str]:
        """Concepts of the current bank that no attempt has asked yet."""
        current = self.assignment.module.current_version
        asked = {concept.key for concept in self.concepts}
        return [label for key, label in (current.concepts if current else {}).items() if key not in asked]

    @cached_property
    def attempts_to_pass(self) -> int | None:
        """How many attempts it took to pass the first time; None if not passed yet."""
        oldest_first = list(reversed(self.attempts))
        return next((n for n, attempt in enumerate(oldest_first, 1) if attempt.passed), None)

    @cached_property
    def best_score(self):
        return max((attempt.score for attempt in self.attempts), default=None)

    @property
    def latest_attempt(self):
        return self.attempts[0] if self.attempts else None

    @cached_property
    def passed(self):
        return any(attempt.passed for attempt in self.attempts)

    @cached_property
    def status_label(self):
        """Where the assignment stands, in the clinician's words."""
        assignment = self.assignment
        if assignment.cancelled_at:
            return _("Cancelled")
        if assignment.reacknowledge_since:
            updated = dateformat.format(assignment.reacknowledge_since, "j M Y")
            return _("Needs to re-acknowledge (updated %(date)s)") % {"date": updated}
        if assignment.completed_at:
            return (
                _("Completed, on an earlier version") if self.acknowledged_earlier_version else _("Completed")
            )
        if assignment.due_date < timezone.localdate():
            return _("Overdue")
        return _("In progress") if assignment.opened_at else _("Not started")

    @cached_property
    def to_do(self):
        """What is not done yet, in words, for an open assignment or one asked to
        acknowledge an update."""
        if self.assignment.cancelled_at:
            return []
        if self.assignment.reacknowledge_since:
            return [_("acknowledge the updated version")]
        if self.assignment.completed_at:
            return []
        steps = [] if self.assignment.opened_at else [_("not opened")]
        if not self.passed:
            steps.append(_("quiz not passed"))
        if not self.acknowledgment or self.acknowledged_earlier_version:
            steps.append(_("not acknowledged"))
        return steps


# What a record shows of an assignment's module and people: a visit summary's widest query,
# four tables of which it needs a few columns each.
ASSIGNMENT_FIELDS = (
    *(field.name for field in Assignment._meta.concrete_fields),
    "module__title",
    "module__current_version__number",
    "module__current_version__concepts",
    "module__current_version__published_at",
    "module__current_version__module",
    "assigned_by__full_name",
    "assigned_by__email",
    "cancelled_by__full_name",
    "cancelled_by__email",
)


@dataclass(frozen=True)
class MyModules:
    """The patient's list: what is still to do, soonest due first (so overdue first), and
    what is done, most recent first; each assignment with its `step`."""

    to_do: list[Assignment]
    done: list[Assignment]

    @property
    def total(self) -> int:
        return len(self.to_do) + len(self.done)

    @property
    def next(self) -> Assignment | None:
        return self.to_do[0] if self.to_do else None


def my_modules(patient, today: datetime.date) -> MyModules:
    """The patient's list on My modules (Assignment.objects.for_my_modules), compiled once
    per process: its status annotation took longer to build and compile than to run."""
    assignments = _my_modules(connection.alias).objects(patient=patient.pk, today=today)
    past = _past_attempts(patient.pk) if any(a.attempted for a in assignments) else {}
    for assignment in assignments:
        assignment.step = _step(assignment)
        assignment.past_attempts = past.get(assignment.pk, [])
    done = [a for a in assignments if a.completed_at and not a.reacknowledge_since]
    to_do = [a for a in assignments if not (a.completed_at and not a.reacknowledge_since)]
    to_do.sort(key=lambda a: (a.due_date, a.assigned_at))
    done.sort(key=lambda a: a.completed_at, reverse=True)
    return MyModules(to_do=to_do, done=done)


def _past_attempts(patient_id: int) -> dict[int, list[services.PastAttempt]]:
    """Each assignment's quiz attempts, newest first, in one query for all of them."""
    past: dict[int, list[services.PastAttempt]] = {}
    for assignment_id, code, submitted_at, score, passed in _attempts_of(connection.alias).rows(
        patient=patient_id
    ):
        attempt = services.PastAttempt(code=code, submitted_at=submitted_at, score=score, passed=passed)
        past.setdefault(assignment_id, []).append(attempt)
    return past


@functools.cache
def _attempts_of(alias: str) -> CompiledRows:
    """Compiled once per process: building and compiling it took three times what it took
    PostgreSQL to run (in-process timing on the bench database)."""
    rows = (
        QuizAttempt.objects.filter(assignment__patient=AN_ID)
        .order_by("-submitted_at", "-pk")
        .values_list("assignment_id", "code", "submitted_at", "score", "passed")
    )
    return CompiledRows.of(rows, alias, patient=AN_ID)


def _step(assignment: Assignment) -> str:
    """The card's one action. An updated module is reviewed first: the reader shows what
    changed, and leads on to confirming it again."""
    if assignment.reacknowledge_since:
        return services.Step.REVIEW
    floors = counting_floors_of(assignment.module)
    return services.next_step(
        assignment,
        passed=(assignment.passed_number or 0) >= max(floors["quiz"], 1),
        acknowledged=(assignment.acknowledged_number or 0) >= max(floors["acknowledgment"], 1),
        attempted=assignment.attempted,
    )


@functools.cache
def _my_modules(alias: str) -> CompiledObjects:
    rows = Assignment.objects.for_my_modules(AN_ID, TODAY)
    return CompiledObjects.of(rows, alias, patient=AN_ID, today=TODAY)


def patient_records(patient_id: int) -> list[LearningRecord]:
    """Every assignment of a patient, newest first, as records."""
    return _records(_patient_assignments(connection.alias).objects(patient=patient_id), patient_id)


def visit_records(visit) -> list[LearningRecord]:
    """The assignments linked to a visit, by module title, as records."""
    return _records(_visit_assignments(connection.alias).objects(visit=visit.pk), visit.patient_id)


def _records(assignments: list[Assignment], patient_id: int) -> list[LearningRecord]:
    """Records for a patient's assignments: four queries with the assignments' own (three
    when none has a quiz attempt), however many assignments, each compiled once per process
    (education.compiled); building and compiling them was most of a visit summary's time.
    The patient's attempts and acknowledgments are read whole and kept for these
    assignments; a version's questions come from the per-process bank."""
    wanted = {assignment.pk for assignment in assignments}
    statements = _record_statements(connection.alias)
    attempts = _by_assignment(statements["attempts"].objects(patient=patient_id), wanted)
    acknowledgments = _by_assignment(statements["acknowledgments"].objects(patient=patient_id), wanted)
    kept = [attempt for group in attempts.values() for attempt in group]
    if kept:
        _add_answers_as_shown(kept, statements["answers"].objects(patient=patient_id))
    return [
        _record(assignment, attempts.get(assignment.pk, []), acknowledgments.get(assignment.pk, []))
        for assignment in assignments
    ]


def _assignments_with_people():
    return Assignment.objects.select_related("module__current_version", "assigned_by", "cancelled_by").only(
        *ASSIGNMENT_FIELDS
    )


@functools.cache
def _patient_assignments(alias: str) -> CompiledObjects:
    rows = _assignments_with_people().filter(patient=AN_ID).order_by("-assigned_at", "-pk")
    return CompiledObjects.of(rows, alias, patient=AN_ID)


@functools.cache
def _visit_assignments(alias: str) -> CompiledObjects:
    rows = _assignments_with_people().filter(visits=AN_ID).order_by("module__title", "pk")
    return CompiledObjects.of(rows, alias, visit=AN_ID)


@functools.cache
def _record_statements(alias: str) -> dict[str, CompiledObjects]:
    """A patient's attempts and acknowledgments, newest first, and their answers. Their
    versions come without their bodies and citations: tens of kilobytes each, never shown
    here, one per attempt and acknowledgment."""
    without_text = [f"version__{field}" for field in VERSION_TEXT]
    attempts = (
        QuizAttempt.objects.filter(assignment__patient=AN_ID)
        .select_related("version", "draw")
        .defer(*without_text)
        .order_by("-submitted_at", "-pk")
    )
    acknowledgments = (
        Acknowledgment.objects.filter(assignment__patient=AN_ID)
        .select_related("version")
        .defer(*without_text)
        .order_by("-acknowledged_at", "-pk")
    )
    answers = Answer.objects.filter(attempt__assignment__patient=AN_ID).order_by()
    return {
        name: CompiledObjects.of(rows, alias, patient=AN_ID)
        for name, rows in (("attempts", attempts), ("acknowledgments", acknowledgments), ("answers", answers))
    }


def _by_assignment(records, wanted: set[int]) -> dict[int, list]:
    """The records (attempts or acknowledgments) of the wanted assignments, per assignment."""
    grouped: dict[int, list] = {}
    for record in records:
        if record.assignment_id in wanted:
            grouped.setdefault(record.assignment_id, []).append(record)
    return grouped


def _add_answers_as_shown(attempts: list[QuizAttempt], answers: list[Answer]) -> None:
    """Sets `shown` on each attempt from its answers and its version's bank."""
    by_attempt: dict[int, list[Answer]] = {}
    for answer in answers:
        by_attempt.setdefault(answer.attempt_id, []).append(answer)
    banks = quiz_banks({attempt.version for attempt in attempts})
    for attempt in attempts:
        attempt.shown = _as_shown(attempt, by_attempt.get(attempt.pk, []), banks[attempt.version_id])


def _record(assignment: Assignment, attempts: list, acknowledgments: list) -> LearningRecord:
    acknowledgment = acknowledgments[0] if acknowledgments else None
    floor = counting_floors_of(assignment.module)["acknowledgment"]
    return LearningRecord(
        assignment=assignment,
        attempts=attempts,
        acknowledgment=acknowledgment,
        acknowledged_earlier_version=bool(acknowledgment and acknowledgment.version.number < floor),
        events=_events(assignment, attempts, acknowledgments),
        concepts=_concepts(attempts),
    )


def _events(assignment, attempts, acknowledgments) -> list[Event]:
    events = [Event(assignment.assigned_at, _("Assigned by %(name)s") % {"name": assignment.assigned_by})]
    if assignment.opened_at:
        events.append(Event(assignment.opened_at, _("Opened")))
    for attempt in attempts:
        events.append(Event(attempt.submitted_at, _quiz_event(attempt)))
    for ack in acknowledgments:
        acknowledged = _("Acknowledged version %(number)s") % {"number": ack.version.number}
        events.append(Event(ack.acknowledged_at, acknowledged))
    if assignment.completed_at:
        events.append(Event(assignment.completed_at, _("Completed")))
    if assignment.cancelled_at:
        cancelled = _("Cancelled by %(name)s") % {"name": assignment.cancelled_by}
        events.append(Event(assignment.cancelled_at, cancelled))
    return sorted(events, key=lambda event: event.at)


def _quiz_event(attempt) -> str:
    values = {"number": attempt.version.number, "score": attempt.score}
    if attempt.passed:
        return _("Quiz on version %(number)s: %(score)s%%, passed") % values
    return _("Quiz on version %(number)s: %(score)s%%, not passed") % values


def answers_as_shown(attempt: QuizAttempt) -> list[ShownAnswer]:
    """The attempt's questions and choices in the order the patient saw them (one query,
    and one for its version's bank the first time in a process)."""
    _add_answers_as_shown([attempt], list(Answer.objects.filter(attempt=attempt).order_by()))
    return attempt.shown


def _as_shown(attempt: QuizAttempt, answers: list[Answer], bank: QuizBank) -> list[ShownAnswer]:
    """In the stored draw's order; attempts from before question banks asked every
    question with its choices in file order, which is what those patients saw."""
    answers = {answer.question_id: answer for answer in answers}
    if attempt.draw_id:
        layout = attempt.draw.layout
    else:
        asked = sorted((bank.questions[question_id] for question_id in answers), key=lambda q: q.position)
        layout = [[q.pk, [c.pk for c in bank.choices[q.pk]]] for q in asked]
    shown = []
    for number, (question_id, choice_ids) in enumerate(layout, 1):
        answer, question = answers[question_id], bank.questions[question_id]
        by_id = {choice.pk: choice for choice in bank.choices[question_id]}
        shown.append(
            ShownAnswer(
                number=number,
                question=question,
                choices=[by_id[choice_id] for choice_id in choice_ids],
                chosen=by_id[answer.choice_id],
                is_correct=answer.is_correct,
                section_title=attempt.version.sections.get(question.section, ""),
                language=attempt.language,
            )
        )
    return shown


def _concepts(attempts) -> list[ConceptResult]:
    """Per concept, the latest answer that asked it and how often it was missed.
    `attempts` come newest first, each with `shown`."""
    results: dict[str, ConceptResult] = {}
    for attempt in attempts:
        for shown in attempt.shown:
            key = shown.question.concept_key
            if key not in results:
                label = attempt.version.concepts.get(shown.question.concept) or shown.question.text
                results[key] = ConceptResult(key=key, label=label, latest=shown)
            results[key].times_missed += not shown.is_correct
    return list(results.values())


# What changed between two versions, for the editors' review ----------------------------------


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side comparison: "same", "changed", "removed", "added" or "gap"
    (unchanged lines left out, `left` says how many)."""

    kind: str
    left: str = ""
    right: str = ""
    left_number: int | None = None
    right_number: int | None = None


def side_by_side(old: list[str], new: list[str], context: int = 2) -> list[DiffRow]:
    """The two texts line by line, unchanged stretches cut down to `context` lines."""
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += _unchanged(old, i1, i2, j1, context)
            continue
        for offset in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + offset, j1 + offset
            left, right = (old[i] if i < i2 else None), (new[j] if j < j2 else None)
            kind = (
                "changed"
                if left is not None and right is not None
                else "removed"
                if right is None
                else "added"
            )
            rows.append(
                DiffRow(
                    kind,
                    left or "",
                    right or "",
                    i + 1 if left is not None else None,
                    j + 1 if right is not None else None,
                )
            )
    return rows


def _unchanged(old, i1, i2, j1, context) -> list[DiffRow]:
    same = [DiffRow("same", old[i], old[i], i + 1, j1 + (i - i1) + 1) for i in range(i1, i2)]
    if len(same) <= 2 * context + 1:
        return same
    hidden = len(same) - 2 * context
    gap = ngettext("%(count)s unchanged line", "%(count)s unchanged lines", hidden) % {"count": hidden}
    return [*same[:context], DiffRow("gap", gap), *same[-context:]]


def bank_lines(versions) -> dict[int, list[str]]:
    """Each version's quiz bank as lines of text to compare (one query for all)."""
    lines: dict[int, list[str]] = {version.pk: [] for version in versions}
    choices = (
        Choice.objects.filter(question__version__in=versions)
        .select_related("question")
        .order_by("question__version", "question__position", "position")
    )
    current = None
    for choice in choices:
        question = choice.question
        if question.pk != current:
            current = question.pk
            lines[question.version_id].append(f"Q{question.position} [{question.concept}] {question.text}")
        mark = _("right") if choice.is_correct else _("wrong")
        lines[question.version_id].append(f"    ({mark}) {choice.text}")
        lines[question.version_id].append(f"        {choice.explanation}")
    return lines
