"""Writes about what is taught and what a patient did with it.

Views, commands and the admin call these. Each runs in a transaction and raises
ValidationError, with a message a page can show, before writing anything wrong.
"""

import datetime
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, Q, Subquery
from django.utils import timezone

from accounts.models import Clinic, User
from education import content, quiz
from education.models import (
    Acknowledgment,
    Answer,
    Assignment,
    Choice,
    Module,
    ModuleVersion,
    Question,
    QuizAttempt,
    QuizDraw,
)

ACKNOWLEDGMENT_STATEMENT = (
    "I have read and understood this information, and I know I can ask my care team about it."
)


# The library ------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadReport:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def load_library(content_dir: Path = content.CONTENT_DIR) -> LoadReport:
    """Publish every module file that changed. Reads and checks all files first, so
    one bad file leaves the database exactly as it was (content.ContentError)."""
    sources = content.read_library(content_dir)
    created, updated, unchanged = [], [], []
    with transaction.atomic():
        for source in sources:
            outcome = publish_module(source)
            {"created": created, "updated": updated, "unchanged": unchanged}[outcome].append(source.slug)
    return LoadReport(created, updated, unchanged)


def publish_module(source: content.ModuleSource) -> str:
    """Publish `source` as a new version unless it is what is published already.
    Returns "created", "updated" or "unchanged"."""
    # Lock the module row only: PostgreSQL cannot lock the nullable side of the join.
    locked = Module.objects.select_for_update(of=("self",)).select_related("current_version")
    module = locked.filter(slug=source.slug).first()
    if module and module.current_version and module.current_version.content_hash == source.content_hash:
        return "unchanged"
    outcome = "updated" if module else "created"
    if module is None:
        module = Module(slug=source.slug)
    module.title, module.topic, module.summary = source.title, source.topic, source.summary
    module.save()
    version = _create_version(module, source)
    module.current_version = version
    module.save(update_fields=["current_version"])
    return outcome


def _create_version(module: Module, source: content.ModuleSource) -> ModuleVersion:
    last_number = module.versions.aggregate(last=Max("number"))["last"] or 0
    version = ModuleVersion.objects.create(
        module=module,
        number=last_number + 1,
        title=source.title,
        summary=source.summary,
        minutes_to_read=source.minutes_to_read,
        body_markdown=source.body_markdown,
        body_html=source.body_html,
        content_hash=source.content_hash,
        reading_grade=source.reading_grade,
        smog_grade=source.smog_grade,
        word_count=source.word_count,
        sources=source.sources,
        reviewed_on=source.reviewed_on,
        pass_mark=source.pass_mark,
        reveal_answers_after_fails=source.reveal_answers_after_fails,
        concepts=source.concepts,
        sections=source.sections,
        # The first version has nothing before it to supersede.
        material_change=source.material_change or last_number == 0,
    )
    for position, question_source in enumerate(source.questions, 1):
        question = Question.objects.create(
            version=version,
            position=position,
            text=question_source.text,
            concept=question_source.concept,
            section=question_source.section,
        )
        Choice.objects.bulk_create(
            Choice(
                question=question,
                position=choice_position,
                text=choice.text,
                is_correct=choice.is_correct,
                explanation=choice.explanation,
            )
            for choice_position, choice in enumerate(question_source.choices, 1)
        )
    return version


def counting_versions(module: Module):
    """Versions whose acknowledgment and quiz still count: the newest material version
    and any minor corrections published after it."""
    floor = module.versions.filter(material_change=True).aggregate(n=Max("number"))["n"] or 0
    return module.versions.filter(number__gte=floor)


# Assignments --------------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleSet:
    name: str
    slugs: tuple[str, ...]


MODULE_SETS = {
    "starting": ModuleSet(
        "Starting a benzodiazepine",
        (
            "sleep-medicines",
            "stopping-safely",
            "driving-and-machinery",
            "breathing-and-interactions",
            "everyday-safety",
            "for-family-and-caregivers",
        ),
    ),
    "stopping": ModuleSet(
        "Lowering or stopping safely", ("stopping-safely", "sleep-medicines", "for-family-and-caregivers")
    ),
    "everyday-safety": ModuleSet(
        "Everyday safety", ("everyday-safety", "driving-and-machinery", "breathing-and-interactions")
    ),
    "pregnancy-or-65": ModuleSet(
        "Pregnancy, breastfeeding or age 65 and over",
        ("pregnancy-and-older-adults", "stopping-safely", "breathing-and-interactions"),
    ),
}
BULK_BATCH_SIZE = 1000


@dataclass(frozen=True)
class AssignResult:
    created: list[Assignment]
    skipped: list[tuple[User, Module]]


def assign_modules(
    *, patients: list[User], modules: list[Module], assigned_by: User, due_date: datetime.date
) -> AssignResult:
    """Assign every module to every patient in one transaction with bulk inserts. An open
    assignment that exists already is skipped and reported, never duplicated. A fixed
    number of queries however many patients, apart from the insert batches."""
    if not patients:
        raise ValidationError("Select at least one patient.")
    if not modules:
        raise ValidationError({"modules": "Choose at least one module or a set of modules."})
    if any(not patient.is_patient for patient in patients):
        raise ValidationError("Modules can only be assigned to patients.")
    _require_clinician_of(assigned_by, {patient.clinic_id for patient in patients}, due_date)
    try:
        with transaction.atomic():
            already_open = set(
                Assignment.objects.open()
                .filter(patient__in=[p.pk for p in patients], module__in=[m.pk for m in modules])
                .values_list("patient_id", "module_id")
            )
            new = [
                Assignment(patient=patient, module=module, assigned_by=assigned_by, due_date=due_date)
                for patient in patients
                for module in modules
                if (patient.pk, module.pk) not in already_open
            ]
            Assignment.objects.bulk_create(new, batch_size=BULK_BATCH_SIZE)
    except IntegrityError as error:
        raise ValidationError(
            "Someone assigned modules to these patients at the same moment. Please try again."
        ) from error
    skipped = [(p, m) for p in patients for m in modules if (p.pk, m.pk) in already_open]
    return AssignResult(created=new, skipped=skipped)


def _require_clinician_of(clinician: User, clinic_ids: set[int], due_date: datetime.date) -> None:
    """The clinician belongs to every clinic concerned, and the due date is not in the
    past in any of them (one query)."""
    clinics = list(Clinic.objects.of_member(clinician).filter(pk__in=clinic_ids))
    if len(clinics) != len(clinic_ids):
        raise ValidationError("You can only assign modules to patients of your own clinics.")
    if any(due_date < clinic.today() for clinic in clinics):
        raise ValidationError({"due_date": "The due date cannot be in the past."})


def cancel_assignment(*, assignment: Assignment, cancelled_by: User) -> None:
    """Cancel an open assignment, keeping it with who cancelled it and when."""
    now = timezone.now()
    cancelled = (
        Assignment.objects.open().filter(pk=assignment.pk).update(cancelled_at=now, cancelled_by=cancelled_by)
    )
    if not cancelled:
        raise ValidationError("Only an open assignment can be cancelled; this one is completed or cancelled.")
    assignment.cancelled_at, assignment.cancelled_by = now, cancelled_by


def mark_opened(*, assignment: Assignment) -> None:
    """Record the first time the patient opened the module; later views change nothing."""
    if assignment.opened_at:
        return
    now = timezone.now()
    if Assignment.objects.filter(pk=assignment.pk, opened_at__isnull=True).update(opened_at=now):
        assignment.opened_at = now


def _require_active(assignment: Assignment) -> None:
    if assignment.cancelled_at:
        raise ValidationError("Your care team cancelled this module, so nothing more can be recorded.")


STALE_QUIZ = "This module was updated while you had it open. Please read the new version and try again."


def _require_current(assignment: Assignment, version_id: int) -> None:
    if assignment.module.current_version_id != version_id:
        raise ValidationError(STALE_QUIZ)


# Quizzes -------------------------------------------------------------------------------


def issue_draw(*, assignment: Assignment) -> tuple[QuizDraw, list[Question]]:
    """The questions to show on the quiz page, and their stored draw.

    An issued draw that has not been answered is shown again, so reloading the page does
    not deal new questions until an easy set comes up. Otherwise a new draw covers several
    concepts and is never exactly the previous set (three queries at most, whatever the
    bank's size: the latest draw, the bank, the insert)."""
    version = assignment.module.current_version
    latest = assignment.draws.select_related("attempt").first()
    bank = _bank(version)
    if latest and latest.version_id == version.pk and not hasattr(latest, "attempt"):
        return latest, _as_shown(latest, bank)
    previous = frozenset(latest.question_ids) if latest else frozenset()
    question_ids = quiz.draw_questions({q.pk: q.concept_key for q in bank.values()}, previous)
    layout = [
        [question_id, quiz.shuffled([c.pk for c in bank[question_id].bank_choices])]
        for question_id in question_ids
    ]
    draw = QuizDraw.objects.create(assignment=assignment, version=version, layout=layout)
    return draw, _as_shown(draw, bank)


def drawn_questions(draw: QuizDraw) -> list[Question]:
    """The draw's questions in the order shown, each with `shown_choices` (one query)."""
    return _as_shown(draw, _bank(draw.version_id, only=draw.question_ids))


def _bank(version, only=None) -> dict[int, Question]:
    """Questions by id with their choices as `bank_choices`, read in one query."""
    choices = Choice.objects.filter(question__version=version).select_related("question")
    if only is not None:
        choices = choices.filter(question__in=only)
    bank: dict[int, Question] = {}
    for choice in choices.order_by("question__position", "position"):
        question = bank.setdefault(choice.question_id, choice.question)
        question.__dict__.setdefault("bank_choices", []).append(choice)
        choice.question = question
    return bank


def _as_shown(draw: QuizDraw, bank: dict[int, Question]) -> list[Question]:
    questions = []
    for question_id, choice_ids in draw.layout:
        question = bank[question_id]
        by_id = {choice.pk: choice for choice in question.bank_choices}
        question.shown_choices = [by_id[choice_id] for choice_id in choice_ids]
        questions.append(question)
    return questions


def submit_quiz(
    *,
    assignment: Assignment,
    draw: QuizDraw,
    answers: dict[int, int],
    questions: list[Question] | None = None,
) -> QuizAttempt:
    """Score and record the answers to one draw: `answers` maps question id to choice id.
    `questions` are the draw's, as `drawn_questions` returns them (read again if not given).

    The draw must have been issued for this assignment and be unanswered; answering it a
    second time returns the first attempt and records nothing."""
    if draw.assignment_id != assignment.pk:
        raise ValidationError(UNKNOWN_DRAW)
    if hasattr(draw, "attempt"):
        return draw.attempt
    _require_active(assignment)
    _require_current(assignment, draw.version_id)
    chosen = _checked_choices(questions or drawn_questions(draw), answers)
    correct = sum(1 for choice in chosen if choice.is_correct)
    score = round(100 * correct / len(chosen))
    passed = score >= assignment.module.current_version.pass_mark
    try:
        with transaction.atomic():
            attempt = QuizAttempt.objects.create(
                assignment=assignment,
                version_id=draw.version_id,
                draw=draw,
                submission_key=draw.code,
                correct_count=correct,
                question_count=len(chosen),
                score=score,
                passed=passed,
            )
            Answer.objects.bulk_create(
                Answer(attempt=attempt, question_id=c.question_id, choice=c, is_correct=c.is_correct)
                for c in chosen
            )
            if passed:
                complete_if_done(assignment=assignment)
    except IntegrityError:
        # The same page submitted twice at the same moment: the other request recorded it.
        return QuizAttempt.objects.get(draw=draw)
    return attempt


UNKNOWN_DRAW = "This quiz page is no longer valid. Here is a new set of questions."


def _checked_choices(questions: list[Question], answers: dict[int, int]) -> list[Choice]:
    """One choice per drawn question, each one of the choices shown for that question."""
    if set(answers) != {question.pk for question in questions}:
        raise ValidationError("Please answer every question.")
    chosen = []
    for question in questions:
        choice = next((c for c in question.shown_choices if c.pk == answers[question.pk]), None)
        if choice is None:
            raise ValidationError("One of the answers does not belong to its question.")
        chosen.append(choice)
    return chosen


def answers_revealed(attempt: QuizAttempt) -> bool:
    """Whether the result page may show the right answers (one query unless passed)."""
    if attempt.passed:
        return True
    tally = attempt.assignment.attempts.aggregate(
        passes=Count("pk", filter=Q(passed=True)), fails=Count("pk", filter=Q(passed=False))
    )
    return quiz.answers_revealed(
        passed_any=tally["passes"] > 0,
        failed_count=tally["fails"],
        reveal_after_fails=attempt.version.reveal_answers_after_fails,
    )


# Acknowledgments --------------------------------------------------------------------------


def names_match(typed: str, account_name: str) -> bool:
    """Ignore case and extra spaces, nothing else."""
    return " ".join(typed.split()).casefold() == " ".join(account_name.split()).casefold()


def acknowledge(
    *,
    assignment: Assignment,
    version: ModuleVersion,
    typed_name: str,
    ip_address: str | None,
    user_agent: str,
) -> Acknowledgment:
    """Record that the patient read `version`, with exactly what they were shown.
    Acknowledging the same version again returns the first record."""
    earlier = Acknowledgment.objects.filter(assignment=assignment, version=version).first()
    if earlier:
        return earlier
    _require_active(assignment)
    _require_current(assignment, version.pk)
    if not names_match(typed_name, assignment.patient.full_name):
        raise ValidationError({"typed_name": "Type your full name exactly as it is on your account."})
    try:
        with transaction.atomic():
            acknowledgment = Acknowledgment.objects.create(
                assignment=assignment,
                version=version,
                content_hash=version.content_hash,
                statement=ACKNOWLEDGMENT_STATEMENT,
                typed_name=" ".join(typed_name.split()),
                ip_address=ip_address,
                user_agent=user_agent[:500],
            )
            complete_if_done(assignment=assignment)
    except IntegrityError:
        return Acknowledgment.objects.get(assignment=assignment, version=version)
    return acknowledgment


# Completion -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    acknowledged: Acknowledgment | None
    passed: QuizAttempt | None
    latest_attempt: QuizAttempt | None

    @property
    def done(self) -> bool:
        return self.acknowledged is not None and self.passed is not None


def progress(assignment: Assignment) -> Progress:
    """What still counts toward completing `assignment` (three queries)."""
    counting = counting_versions(assignment.module)
    attempts = assignment.attempts.select_related("version")
    return Progress(
        acknowledged=assignment.acknowledgments.filter(version__in=counting).first(),
        passed=attempts.filter(version__in=counting, passed=True).first(),
        latest_attempt=attempts.first(),
    )


def complete_if_done(*, assignment: Assignment) -> bool:
    """Mark the assignment complete once a counting version is acknowledged and its quiz
    passed, in either order: one conditional UPDATE, so it happens once and costs one query."""
    now = timezone.now()
    module_id = assignment.module_id
    acknowledged = _counting(Acknowledgment.objects.filter(assignment=assignment.pk), module_id)
    passed = _counting(QuizAttempt.objects.filter(assignment=assignment.pk, passed=True), module_id)
    completed = (
        Assignment.objects.open()
        .filter(Exists(acknowledged), Exists(passed), pk=assignment.pk)
        .update(completed_at=now)
    )
    if completed:
        assignment.completed_at = now
    return bool(completed)


def _counting(records, module_id):
    """`records` (acknowledgments or attempts) on the newest material version or later."""
    floor = (
        ModuleVersion.objects.filter(module=module_id, material_change=True)
        .order_by("-number")
        .values("number")[:1]
    )
    return records.filter(version__number__gte=Subquery(floor))
