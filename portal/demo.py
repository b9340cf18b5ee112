"""Demo data for development and evaluation. Never runs in production."""

import math
import random
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone, translation

from accounts.models import CONTENT_EDITORS_GROUP, Clinic, Membership, User
from education import progress as patient_progress
from education import quiz
from education import services as education_services
from education.models import Acknowledgment, Answer, Assignment, Module, Question, QuizAttempt, QuizDraw
from portal.caregivers import services as caregiver_services
from portal.caregivers.models import CaregiverAccess
from portal.models import FollowUpVisit

DEMO_CLINIC_NAME = "Riverside Demo Clinic"
# The demo library needs an approval to be readable; this one says plainly what it is.
DEMO_REVIEWER = "Demo reviewer (not a clinical review)"
DEMO_PASSWORD = "portal-demo"  # noqa: S105 - the documented demo sign-in, refused in production
SYNTHETIC_EMAIL_PREFIX = "demo-patient-"
SYNTHETIC_BATCH_SIZE = 2000
# Enough for the dashboard to look like a clinic's and still fit on its first page.
DEMO_CLINIC_PATIENTS = 40

FIRST_NAMES = [
    "Alex",
    "Blessing",
    "Carmen",
    "Dmitri",
    "Elena",
    "Farah",
    "Grace",
    "Hiro",
    "Ines",
    "Jamal",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Samir",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Adeyemi",
    "Brennan",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Gupta",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "O'Connor",
    "Patel",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Walsh",
    "Yilmaz",
    "Zhou",
]


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    description: str


CLINICIAN = DemoAccount("clinician@example.org", "Dr Alex Morgan", "clinician")
PATIENT = DemoAccount("patient@example.org", "Jordan Lee", "patient")
SPANISH_PATIENT = DemoAccount("paciente@example.org", "Lucía Ramírez", "patient who reads Spanish")
CLINIC_ADMIN = DemoAccount("admin@example.org", "Robin Hayes", "clinic admin")
CONTENT_EDITOR = DemoAccount("editor@example.org", "Dr Casey Reid", "content editor")
CAREGIVER = DemoAccount("caregiver@example.org", "Sam Lee", "caregiver of Jordan Lee")
DEMO_ACCOUNTS = [CLINICIAN, PATIENT, SPANISH_PATIENT, CLINIC_ADMIN, CONTENT_EDITOR, CAREGIVER]
# About one person in eight in the United States speaks Spanish at home.
SPANISH_EVERY = 8


@transaction.atomic
def seed_demo_accounts() -> Clinic:
    """Create or refresh the demo clinic and its sign-ins; safe to run again."""
    clinic, _ = Clinic.objects.get_or_create(name=DEMO_CLINIC_NAME)
    password = make_password(DEMO_PASSWORD)
    for account, role in [
        (CLINICIAN, Membership.Role.CLINICIAN),
        (CLINIC_ADMIN, Membership.Role.ADMIN),
        (CONTENT_EDITOR, Membership.Role.CLINICIAN),
    ]:
        staff = _upsert_user(account, password, role=User.Role.CLINICIAN, clinic=None)
        Membership.objects.update_or_create(user=staff, clinic=clinic, defaults={"role": role})
    editor = User.objects.get(email=CONTENT_EDITOR.email)
    editor.is_staff = True
    editor.save(update_fields=["is_staff"])
    editor.groups.add(Group.objects.get(name=CONTENT_EDITORS_GROUP))
    patient = _upsert_user(PATIENT, password, role=User.Role.PATIENT, clinic=clinic, record_number="DEMO-0")
    education_services.load_library(loaded_by=editor)
    education_services.approve_all_drafts(
        editor=editor,
        reviewer_name=DEMO_REVIEWER,
        credential="none",
        note="Demo data: not a clinical review.",
    )
    spanish = _upsert_user(
        SPANISH_PATIENT,
        password,
        role=User.Role.PATIENT,
        clinic=clinic,
        record_number="DEMO-ES",
        language="es",
    )
    for demo_patient in (patient, spanish):
        _assign_every_module(demo_patient, assigned_by=User.objects.get(email=CLINICIAN.email))
    patient_progress.refresh([patient.pk, spanish.pk])  # the demo patients are upserted, not invited
    _share_with_the_demo_caregiver(patient, password)
    return clinic


def _share_with_the_demo_caregiver(patient: User, password_hash: str) -> None:
    """The demo patient shares their modules with the demo caregiver, as the patient would
    on their page (upserted, so no invitation email)."""
    caregiver = _upsert_user(CAREGIVER, password_hash, role=User.Role.CAREGIVER, clinic=None)
    if not CaregiverAccess.objects.live().filter(patient=patient, caregiver=caregiver).exists():
        CaregiverAccess.objects.create(
            patient=patient,
            caregiver=caregiver,
            invited_by=patient,
            consent=CaregiverAccess.Consent.PATIENT,
            consent_wording=_in_language(patient.language, caregiver_services.consent_wording),
        )


def _in_language(language: str, words) -> str:
    with translation.override(language):
        return words()


def _assign_every_module(patient: User, assigned_by: User) -> None:
    """Give the demo patient each module once, due over the next few weeks."""
    already = set(Assignment.objects.filter(patient=patient).not_cancelled().values_list("module", flat=True))
    today = patient.clinic.today()
    modules = Module.objects.exclude(current_version=None).exclude(pk__in=already).order_by("slug")
    for weeks, module in enumerate(modules, 1):
        education_services.assign_modules(
            patients=[patient],
            modules=[module],
            assigned_by=assigned_by,
            due_date=today + timedelta(weeks=weeks),
        )


@transaction.atomic
def give_the_demo_patient_a_history() -> bool:
    """The demo patient's first two modules by due date: the first completed (quiz passed,
    acknowledged with their own name), the second opened with a failed quiz and a question for
    the visit; the rest new.
    Written through the patient's own services, so the records and the progress row are
    what the pages would have made. Once the patient has opened anything the history is
    theirs (someone may be trying the demo): returns False and changes nothing."""
    patient = User.objects.get(email=PATIENT.email)
    assignments = (
        Assignment.objects.for_patient(patient)
        .not_cancelled()
        .select_related("patient", "module__current_version")
        .order_by("due_date", "module__slug")
    )
    if len(assignments) < 2 or any(a.opened_at or a.completed_at for a in assignments):
        return False
    completed, in_progress = assignments[0], assignments[1]
    education_services.mark_opened(assignment=completed)
    _take_quiz(completed, passing=True)
    education_services.acknowledge(
        assignment=completed,
        version=completed.module.current_version,
        typed_name=patient.full_name,
        ip_address=None,
        user_agent="seed_demo",
    )
    education_services.mark_opened(assignment=in_progress)
    _take_quiz(in_progress, passing=False)
    education_services.ask_question(
        assignment=in_progress, section="", text="What should I do if I forget a dose at night?"
    )
    return True


def _take_quiz(assignment: Assignment, *, passing: bool) -> None:
    """Every drawn question answered right, or a near miss: the last questions wrong, as
    few as it takes to fall below the pass mark."""
    draw, questions = education_services.issue_draw(assignment=assignment)
    count, pass_mark = len(questions), assignment.module.current_version.pass_mark
    wrong = 0
    if not passing:
        wrong = next(k for k in range(1, count + 1) if round(100 * (count - k) / count) < pass_mark)
    answers = {
        question.pk: next(c.pk for c in question.shown_choices if c.is_correct is (n < count - wrong))
        for n, question in enumerate(questions)
    }
    education_services.submit_quiz(assignment=assignment, draw=draw, answers=answers, questions=questions)


def synthetic_patient_count(clinic: Clinic) -> int:
    return User.objects.filter(clinic=clinic, email__startswith=SYNTHETIC_EMAIL_PREFIX).count()


def top_up_synthetic_patients(clinic: Clinic, total: int = DEMO_CLINIC_PATIENTS) -> int:
    """Add synthetic patients until the clinic has `total` of them (never removes any);
    returns how many were added, so running it again adds none."""
    missing = max(0, total - synthetic_patient_count(clinic))
    if missing:
        add_synthetic_patients(clinic, missing)
    return missing


def _upsert_user(account: DemoAccount, password_hash: str, **fields) -> User:
    user, _ = User.objects.update_or_create(
        email=account.email,
        defaults={"full_name": account.full_name, "password": password_hash, "is_active": True, **fields},
    )
    return user


def analyze_tables() -> None:
    """Planner statistics for the rows just written: without them PostgreSQL plans the
    first pages for empty tables (1.5 s for the dashboard's figures after a 10,000-patient
    seed). VACUUM too: until the visibility map knows the new rows, a deep dashboard page
    reads every row before it instead of the index alone (11 ms instead of 2 at 10,000
    patients). SQLite needs neither."""
    if connection.vendor == "postgresql":
        # VACUUM cannot run inside a transaction (a test's, say): ANALYZE alone then.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            cursor.execute(command)


def add_synthetic_patients(clinic: Clinic, count: int) -> int:
    """Bulk-insert `count` more synthetic patients with a learning history; returns the
    first new number. They share one password hash: hashing 10,000 would take minutes."""
    first = synthetic_patient_count(clinic) + 1
    password = make_password(DEMO_PASSWORD)
    clinician = User.objects.get(email=CLINICIAN.email)
    history = LearningHistory(clinic, clinician)
    numbers = range(first, first + count)
    for start in range(0, count, SYNTHETIC_BATCH_SIZE):
        batch = numbers[start : start + SYNTHETIC_BATCH_SIZE]
        with transaction.atomic():
            patients = User.objects.bulk_create(_synthetic_patient(clinic, n, password) for n in batch)
            patient_progress.start(patients)
            history.add_for(patients, batch)
            # The history is written around the services, so the rows are computed here,
            # with statistics that know the tables are no longer empty.
            patient_progress.analyze_sources()
            patient_progress.refresh([patient.pk for patient in patients])
    return first


def _synthetic_patient(clinic: Clinic, number: int, password_hash: str) -> User:
    # Not for secrets: the same number always gives the same synthetic person.
    pick = random.Random(number)  # noqa: S311
    return User(
        role=User.Role.PATIENT,
        clinic=clinic,
        email=f"{SYNTHETIC_EMAIL_PREFIX}{number}@example.org",
        full_name=f"{pick.choice(FIRST_NAMES)} {pick.choice(LAST_NAMES)}",
        record_number=f"DEMO-{number}",
        password=password_hash,
        language="es" if number % SPANISH_EVERY == 0 else "en",
    )


class LearningHistory:
    """Assignments, quiz attempts, acknowledgments and visits in realistic proportions:
    about 40% of assignments completed, 20% in progress, 15% overdue, 25% not started.
    Everything is bulk-inserted; the rules in education.services are for real patients,
    and demo history needs dates in the past that those rules rightly refuse."""

    OUTCOMES = [("completed", 40), ("in_progress", 20), ("overdue", 15), ("not_started", 25)]

    def __init__(self, clinic: Clinic, clinician: User):
        self.clinician = clinician
        self.now = timezone.now()
        self.today = clinic.today()
        self.versions = {
            module.pk: module.current_version
            for module in Module.objects.select_related("current_version").exclude(current_version=None)
        }
        questions = Question.objects.filter(version__in=self.versions.values()).prefetch_related("choices")
        self.questions = {}
        for question in questions:
            self.questions.setdefault(question.version_id, []).append(question)

    def add_for(self, patients: list[User], numbers) -> None:
        plans = [(patient, random.Random(-number)) for patient, number in zip(patients, numbers, strict=True)]  # noqa: S311
        assignments = Assignment.objects.bulk_create(
            assignment for patient, pick in plans for assignment in self._assignments(patient, pick)
        )
        attempts, acknowledgments = [], []
        for assignment in assignments:
            pick = random.Random(assignment.pk)  # noqa: S311
            attempts += self._attempts(assignment, pick)
            if assignment.completed_at:
                acknowledgments.append(self._acknowledgment(assignment))
        QuizDraw.objects.bulk_create(attempt.draw for attempt in attempts)
        attempts = QuizAttempt.objects.bulk_create(attempts)
        Answer.objects.bulk_create(answer for attempt in attempts for answer in attempt.demo_answers)
        Acknowledgment.objects.bulk_create(acknowledgments)
        self._visits(patients, assignments)

    def _assignments(self, patient, pick):
        modules = pick.sample(list(self.versions), k=pick.randint(1, len(self.versions)))
        for module_id in modules:
            outcome = pick.choices([o for o, _ in self.OUTCOMES], weights=[w for _, w in self.OUTCOMES])[0]
            if outcome == "overdue":
                due_date = self.today - timedelta(days=pick.randint(1, 14))
                assigned_at = self.now - (self.today - due_date) - timedelta(days=14)
            else:
                due_date = self.today + timedelta(days=pick.randint(1, 21))
                assigned_at = self.now - timedelta(days=pick.randint(3, 30))
            opened = outcome in ("completed", "in_progress") or (outcome == "overdue" and pick.random() < 0.5)
            opened_at = assigned_at + timedelta(hours=pick.randint(1, 48)) if opened else None
            yield Assignment(
                patient=patient,
                module_id=module_id,
                assigned_by=self.clinician,
                assigned_at=assigned_at,
                due_date=due_date,
                opened_at=opened_at,
                completed_at=opened_at + timedelta(hours=1) if outcome == "completed" else None,
            )

    def _attempts(self, assignment, pick):
        """Completed: sometimes a failed try, then a pass. Opened only: sometimes a failed try."""
        if not assignment.opened_at:
            return []
        if assignment.completed_at:
            outcomes = [False, True] if pick.random() < 0.3 else [True]
        else:
            outcomes = [False] if pick.random() < 0.5 else []
        version = self.versions[assignment.module_id]
        attempts, previous = [], frozenset()
        for n, passed in enumerate(outcomes):
            when = assignment.opened_at + timedelta(minutes=10 * (n + 1))
            attempts.append(self._attempt(assignment, version, when, passed, pick, previous))
            previous = frozenset(attempts[-1].draw.question_ids)
        return attempts

    def _attempt(self, assignment, version, when, passed, pick, previous):
        """An attempt on a draw from the bank, as a patient would have been dealt it."""
        bank = {question.pk: question for question in self.questions[version.pk]}
        drawn = quiz.draw_questions({pk: q.concept_key for pk, q in bank.items()}, previous, rng=pick)
        draw = QuizDraw(
            assignment=assignment,
            version=version,
            layout=[[pk, quiz.shuffled([c.pk for c in bank[pk].choices.all()], rng=pick)] for pk in drawn],
            issued_at=when - timedelta(minutes=5),
        )
        questions = [bank[pk] for pk in drawn]
        allowed_wrong = len(questions) - math.ceil(len(questions) * version.pass_mark / 100)
        wrong_count = (
            pick.randint(0, allowed_wrong) if passed else pick.randint(allowed_wrong + 1, len(questions))
        )
        # Weighted sampling: later questions are missed more often, as real quizzes have
        # a few hard questions, so the overview shows a clear "most missed".
        by_difficulty = sorted(questions, key=lambda q: pick.random() ** (1 / q.position), reverse=True)
        wrong = {question.pk for question in by_difficulty[:wrong_count]}
        answers = []
        for question in questions:
            choices = list(question.choices.all())
            right = next(c for c in choices if c.is_correct)
            choice = pick.choice([c for c in choices if not c.is_correct]) if question.pk in wrong else right
            answers.append(Answer(question=question, choice=choice, is_correct=choice.is_correct))
        correct = len(questions) - wrong_count
        attempt = QuizAttempt(
            assignment=assignment,
            version=version,
            draw=draw,
            submission_key=draw.code,
            submitted_at=when,
            correct_count=correct,
            question_count=len(questions),
            score=round(100 * correct / len(questions)),
            passed=passed,
        )
        for answer in answers:
            answer.attempt = attempt
        attempt.demo_answers = answers
        return attempt

    def _acknowledgment(self, assignment):
        version = self.versions[assignment.module_id]
        return Acknowledgment(
            assignment=assignment,
            version=version,
            content_hash=version.content_hash,
            statement=education_services.acknowledgment_statement("en"),
            typed_name=assignment.patient.full_name,
            acknowledged_at=assignment.completed_at,
            user_agent="seed_demo",
        )

    def _visits(self, patients, assignments):
        """About one patient in ten has a visit in the next two weeks, with their modules."""
        by_patient = {}
        for assignment in assignments:
            by_patient.setdefault(assignment.patient_id, []).append(assignment)
        visits = []
        for patient in patients:
            pick = random.Random(patient.pk)  # noqa: S311
            if pick.random() < 0.1:
                when = self.now.replace(minute=0, second=0, microsecond=0) + timedelta(
                    days=pick.randint(1, 14)
                )
                visits.append(
                    FollowUpVisit(
                        patient=patient,
                        clinician=self.clinician,
                        created_by=self.clinician,
                        scheduled_at=when,
                    )
                )
        visits = FollowUpVisit.objects.bulk_create(visits)
        links = FollowUpVisit.assignments.through
        links.objects.bulk_create(
            links(followupvisit_id=visit.pk, assignment_id=assignment.pk)
            for visit in visits
            for assignment in by_patient.get(visit.patient_id, [])
        )
