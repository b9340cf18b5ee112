"""What a clinician reads about a patient's learning, built in a fixed number of queries."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Max, Prefetch
from django.utils import timezone

from education.models import Acknowledgment, Answer, Assignment, Choice, ModuleVersion, Question, QuizAttempt


@dataclass(frozen=True)
class Event:
    at: datetime.datetime
    text: str


@dataclass
class MissedQuestion:
    question: Question
    right_choice: Choice
    times: int = 1


@dataclass
class LearningRecord:
    """One assignment as the clinician sees it."""

    assignment: Assignment
    attempts: list[QuizAttempt]
    acknowledgment: Acknowledgment | None
    acknowledged_earlier_version: bool
    events: list[Event] = field(default_factory=list)
    missed: list[MissedQuestion] = field(default_factory=list)

    @property
    def best_score(self):
        return max((attempt.score for attempt in self.attempts), default=None)

    @property
    def latest_attempt(self):
        return self.attempts[0] if self.attempts else None

    @property
    def passed(self):
        return any(attempt.passed for attempt in self.attempts)

    @property
    def status_label(self):
        """Where the assignment stands, in the clinician's words."""
        assignment = self.assignment
        if assignment.cancelled_at:
            return "Cancelled"
        if assignment.completed_at:
            return "Completed, on an earlier version" if self.acknowledged_earlier_version else "Completed"
        if assignment.due_date < timezone.localdate():
            return "Overdue"
        return "In progress" if assignment.opened_at else "Not started"

    @property
    def to_do(self):
        """What is not done yet, in words, for an open assignment."""
        if self.assignment.completed_at or self.assignment.cancelled_at:
            return []
        steps = [] if self.assignment.opened_at else ["not opened"]
        if not self.passed:
            steps.append("quiz not passed")
        if not self.acknowledgment or self.acknowledged_earlier_version:
            steps.append("not acknowledged")
        return steps


def learning_records(assignments) -> list[LearningRecord]:
    """Records for an Assignment queryset: six queries however many assignments."""
    assignments = assignments.select_related(
        "module__current_version", "assigned_by", "cancelled_by"
    ).prefetch_related(
        Prefetch(
            "attempts",
            queryset=QuizAttempt.objects.select_related("version").prefetch_related(
                Prefetch(
                    "answers",
                    queryset=Answer.objects.select_related("question", "choice").prefetch_related(
                        "question__choices"
                    ),
                )
            ),
        ),
        Prefetch("acknowledgments", queryset=Acknowledgment.objects.select_related("version")),
    )
    assignments = list(assignments)
    floors = _material_floors({a.module_id for a in assignments})
    return [_record(assignment, floors.get(assignment.module_id, 0)) for assignment in assignments]


def _material_floors(module_ids) -> dict[int, int]:
    """Per module, the newest version that asked for a fresh acknowledgment."""
    rows = (
        ModuleVersion.objects.filter(module__in=module_ids, material_change=True)
        .values("module")
        .annotate(floor=Max("number"))
    )
    return {row["module"]: row["floor"] for row in rows}


def _record(assignment: Assignment, floor: int) -> LearningRecord:
    attempts = sorted(assignment.attempts.all(), key=lambda a: a.submitted_at, reverse=True)
    acknowledgments = sorted(assignment.acknowledgments.all(), key=lambda a: a.acknowledged_at, reverse=True)
    acknowledgment = acknowledgments[0] if acknowledgments else None
    return LearningRecord(
        assignment=assignment,
        attempts=attempts,
        acknowledgment=acknowledgment,
        acknowledged_earlier_version=bool(acknowledgment and acknowledgment.version.number < floor),
        events=_events(assignment, attempts, acknowledgments),
        missed=_missed_questions(attempts),
    )


def _events(assignment, attempts, acknowledgments) -> list[Event]:
    events = [Event(assignment.assigned_at, f"Assigned by {assignment.assigned_by}")]
    if assignment.opened_at:
        events.append(Event(assignment.opened_at, "Opened"))
    for attempt in attempts:
        outcome = "passed" if attempt.passed else "not passed"
        events.append(
            Event(
                attempt.submitted_at, f"Quiz on version {attempt.version.number}: {attempt.score}%, {outcome}"
            )
        )
    for ack in acknowledgments:
        events.append(Event(ack.acknowledged_at, f"Acknowledged version {ack.version.number}"))
    if assignment.completed_at:
        events.append(Event(assignment.completed_at, "Completed"))
    if assignment.cancelled_at:
        events.append(Event(assignment.cancelled_at, f"Cancelled by {assignment.cancelled_by}"))
    return sorted(events, key=lambda event: event.at)


def _missed_questions(attempts) -> list[MissedQuestion]:
    """Every question answered wrong in any attempt, most often missed first: the
    talking points of the visit."""
    missed: dict[int, MissedQuestion] = {}
    for attempt in attempts:
        for answer in attempt.answers.all():
            if answer.is_correct:
                continue
            if answer.question_id in missed:
                missed[answer.question_id].times += 1
            else:
                right = next(c for c in answer.question.choices.all() if c.is_correct)
                missed[answer.question_id] = MissedQuestion(answer.question, right)
    return sorted(missed.values(), key=lambda m: (-m.times, m.question.position))
