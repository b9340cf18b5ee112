import datetime
import uuid
from dataclasses import dataclass

from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Clinic, User

REVIEW_DUE_AFTER = datetime.timedelta(days=365)


class ModuleQuerySet(models.QuerySet):
    def library_versions(self):
        """Which modules exist and which version each shows: what markup listing the
        library's titles and sign-offs depends on (portal.selectors.library_key)."""
        return self.order_by("pk").values_list("pk", "current_version_id")


class Module(models.Model):
    """A topic in the library. Its text lives in versions; `current_version` is the newest
    approved one, the one patients read and clinicians assign, kept here so lists need no
    per-row lookup. A module whose only versions are drafts has none and cannot be assigned."""

    class Topic(models.TextChoices):
        SLEEP = "sleep", _("Sleep")
        DEPENDENCE = "dependence", _("Dependence and withdrawal")
        DRIVING = "driving", _("Driving and machinery")
        BREATHING = "breathing", _("Breathing and interactions")
        CAREGIVERS = "caregivers", _("For family and caregivers")
        SPECIAL_POPULATIONS = "special_populations", _("Pregnancy, breastfeeding and older adults")
        EVERYDAY = "everyday", _("Everyday safety")

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    topic = models.CharField(max_length=20, choices=Topic.choices)
    summary = models.TextField()
    current_version = models.ForeignKey(
        "ModuleVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The current version's title and summary in other languages, {"es": {"title", "summary"}},
    # kept here like the English ones so lists need no version row.
    translations = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ModuleQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    def title_in(self, language: str) -> str:
        return self.translations.get(language, {}).get("title") or self.title

    def language_for(self, wanted: str) -> str:
        """The current version's language for a reader of `wanted`, from this row alone:
        it holds only the translations in step with the English."""
        return wanted if wanted in self.translations else "en"

    def summary_in(self, language: str) -> str:
        return self.translations.get(language, {}).get("summary") or self.summary


class ModuleVersionQuerySet(models.QuerySet):
    def drafts(self):
        """Loaded and not yet approved or rejected."""
        return self.filter(review__isnull=True)

    def approved(self):
        return self.filter(review__decision=VersionReview.Decision.APPROVED)


# A version's text and citations: tens of kilobytes, read only by the pages that show them.
# With "translations": each language's body and sections, as heavy as the English ones.
VERSION_TEXT = ("body_markdown", "body_html", "sources", "translations")


class ModuleVersion(models.Model):
    """One text of a module with its quiz, loaded from the files as a draft. Never changed
    once loaded: patients' records point at the exact version they saw. Its state (draft,
    approved, rejected) is its review, an append-only record beside it."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.TextField()
    minutes_to_read = models.PositiveSmallIntegerField()
    body_markdown = models.TextField()
    body_html = models.TextField(help_text="Rendered from the Markdown and sanitised.")
    content_hash = models.CharField(max_length=64)
    reading_grade = models.DecimalField(max_digits=4, decimal_places=1, help_text="Flesch-Kincaid grade.")
    smog_grade = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True, help_text="SMOG grade."
    )
    word_count = models.PositiveIntegerField()
    # Each a citation from education/content/sources.toml: id, citation, url, checked.
    # Versions loaded before the registry hold plain citation strings.
    sources = models.JSONField(default=list)
    # Left blank since module files stopped claiming a review; sign-off is recorded in the portal.
    reviewer = models.CharField(max_length=200, blank=True)
    reviewed_on = models.DateField(help_text="When the content was last checked against its sources.")
    pass_mark = models.PositiveSmallIntegerField(help_text="Percent of questions to answer right.")
    reveal_answers_after_fails = models.PositiveSmallIntegerField(
        default=3,
        help_text="Failed attempts after which results show the right answers (always after a pass).",
    )
    concepts = models.JSONField(
        default=dict, blank=True, help_text="The safety points the quiz bank checks: key to description."
    )
    sections = models.JSONField(
        default=dict, blank=True, help_text="The module's headings: anchor to heading text."
    )
    material_change = models.BooleanField(
        default=True, help_text="Patients must acknowledge this version again."
    )
    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per language: title, summary, body, sections, readability and content hash.",
    )
    lagging_languages = models.JSONField(
        default=list,
        blank=True,
        help_text="Languages whose text has not yet followed a material change in another language.",
    )
    published_at = models.DateTimeField(default=timezone.now, help_text="When it was loaded.")
    loaded_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who loaded the files; with two-person review they may not approve it.",
    )

    objects = ModuleVersionQuerySet.as_manager()

    class Meta:
        ordering = ["module", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["module", "number"], name="version_number_unique_per_module"),
            models.CheckConstraint(
                condition=Q(pass_mark__gte=1, pass_mark__lte=100), name="pass_mark_is_a_percentage"
            ),
        ]

    def __str__(self):
        return f"{self.title} (version {self.number})"

    @property
    def state(self) -> str:
        """draft, approved or rejected. Follows the reverse one-to-one: select_related("review")."""
        review = getattr(self, "review", None)
        return review.decision if review else "draft"

    def language_for(self, wanted: str) -> str:
        """The language a reader who wants `wanted` is shown: their own when this version
        has it and it has followed every material change, otherwise English."""
        if wanted in self.translations and wanted not in self.lagging_languages:
            return wanted
        return "en"

    def text_in(self, language: str) -> "ModuleText":
        """Title, summary, body, sections and hash as a reader of `language` sees them."""
        shown = self.language_for(language)
        if shown == "en":
            return ModuleText(
                "en", self.title, self.summary, self.body_html, self.sections, self.content_hash
            )
        t = self.translations[shown]
        return ModuleText(shown, t["title"], t["summary"], t["body_html"], t["sections"], t["content_hash"])

    @property
    def review_due(self) -> bool:
        """Not checked against its sources for 12 months: flagged to editors and
        clinicians, still shown to patients."""
        return timezone.localdate() - self.reviewed_on > REVIEW_DUE_AFTER


class VersionReview(models.Model):
    """A named person's decision on a draft: approved (it becomes what patients read) or
    rejected with a reason. One per version, append-only: never changed, never deleted."""

    class Decision(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    version = models.OneToOneField(ModuleVersion, on_delete=models.PROTECT, related_name="review")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reviewer_name = models.CharField(max_length=150, blank=True)
    credential = models.CharField(max_length=60, blank=True, help_text="For example PharmD, RN, MD.")
    reviewed_on = models.DateField(null=True, blank=True)
    note = models.TextField(max_length=2000, blank=True, help_text="For a rejection, the reason.")
    what_changed = models.TextField(
        max_length=1000, blank=True, help_text="Shown to patients asked to acknowledge again."
    )
    quiz_required_again = models.BooleanField(
        default=False, help_text="Patients who passed an earlier version must pass this one."
    )
    # Null only for versions published before decisions were recorded (migration 0008).
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(decision="approved") | (~Q(reviewer_name="") & ~Q(credential="")),
                name="an_approval_names_its_reviewer_and_credential",
            ),
            models.CheckConstraint(
                condition=~Q(decision="rejected") | ~Q(note=""), name="a_rejection_gives_its_reason"
            ),
        ]

    def __str__(self):
        return f"{self.get_decision_display()}: {self.version}"

    @property
    def signed(self) -> str:
        """ "Reviewed by <name, credential> on <date>", as patients and clinicians see it."""
        return f"Reviewed by {self.reviewer_name}, {self.credential} on {self.reviewed_on:%-d %B %Y}"


@dataclass(frozen=True)
class ModuleText:
    """A version's words in one language, and the hash of that language's files."""

    language: str
    title: str
    summary: str
    body_html: str
    sections: dict
    content_hash: str


class Question(models.Model):
    """One question of a version's bank. An attempt asks a few of them, drawn so that
    they cover several concepts (the safety point each question checks)."""

    version = models.ForeignKey(ModuleVersion, on_delete=models.PROTECT, related_name="questions")
    position = models.PositiveSmallIntegerField()
    text = models.TextField()
    # Blank for quizzes loaded before question banks: each such question is its own concept.
    concept = models.SlugField(max_length=80, blank=True)
    section = models.SlugField(max_length=120, blank=True, help_text="The module heading that teaches it.")
    translations = models.JSONField(default=dict, blank=True, help_text="The text per language.")

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="question_position_unique"),
        ]

    def __str__(self):
        return self.text

    @property
    def concept_key(self):
        return self.concept or f"question-{self.pk}"

    def text_in(self, language: str) -> str:
        return self.translations.get(language) or self.text


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="choices")
    position = models.PositiveSmallIntegerField()
    text = models.TextField()
    is_correct = models.BooleanField(default=False)
    explanation = models.TextField()
    translations = models.JSONField(default=dict, blank=True, help_text="Per language: [text, explanation].")

    class Meta:
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(fields=["question", "position"], name="choice_position_unique"),
            models.UniqueConstraint(
                fields=["question"], condition=Q(is_correct=True), name="one_correct_choice_per_question"
            ),
        ]

    def __str__(self):
        return self.text

    def text_in(self, language: str) -> str:
        return self.translations[language][0] if language in self.translations else self.text

    def explanation_in(self, language: str) -> str:
        return self.translations[language][1] if language in self.translations else self.explanation


class AssignmentQuerySet(models.QuerySet):
    def for_patient(self, patient):
        return self.filter(patient=patient)

    def open(self):
        return self.filter(completed_at__isnull=True, cancelled_at__isnull=True)

    def not_cancelled(self):
        return self.filter(cancelled_at__isnull=True)

    def with_status(self, today):
        """Annotate `status` as the patient sees it on `today` (the clinic's date)."""
        return self.annotate(
            status=Case(
                When(cancelled_at__isnull=False, then=Value(Assignment.Status.CANCELLED)),
                When(reacknowledge_since__isnull=False, then=Value(Assignment.Status.UPDATED)),
                When(completed_at__isnull=False, then=Value(Assignment.Status.COMPLETED)),
                When(due_date__lt=today, then=Value(Assignment.Status.OVERDUE)),
                When(opened_at__isnull=False, then=Value(Assignment.Status.IN_PROGRESS)),
                default=Value(Assignment.Status.NEW),
            )
        )

    def for_my_modules(self, patient, today):
        """The patient's assignments, newest due date first, with what the list shows and
        what decides each one's next step: whether a quiz was taken, and the newest version
        passed and acknowledged (which count is decided against the module's floors)."""
        newest = "-version__number"
        passes = QuizAttempt.objects.filter(assignment=OuterRef("pk"), passed=True).order_by(newest)
        acknowledgments = Acknowledgment.objects.filter(assignment=OuterRef("pk")).order_by(newest)
        return (
            self.for_patient(patient)
            .not_cancelled()
            .with_status(today)
            .annotate(
                attempted=Exists(QuizAttempt.objects.filter(assignment=OuterRef("pk"))),
                passed_number=Subquery(passes.values("version__number")[:1]),
                acknowledged_number=Subquery(acknowledgments.values("version__number")[:1]),
            )
            .select_related("module__current_version")
            # The list shows the reading time, not the bodies (tens of kilobytes each).
            .only(
                *(f.name for f in Assignment._meta.concrete_fields),
                "module__title",
                "module__summary",
                "module__translations",
                "module__current_version__minutes_to_read",
                "module__current_version__published_at",
            )
            .order_by("-due_date", "-assigned_at")
        )


class Assignment(models.Model):
    """A module a clinician asked a patient to complete. Complete when the patient has
    acknowledged the current version and passed its quiz, in either order."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        OVERDUE = "overdue", _("Overdue")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        UPDATED = "updated", _("Updated: please review")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="assignments")
    module = models.ForeignKey(Module, on_delete=models.PROTECT, related_name="assignments")
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)
    due_date = models.DateField()
    opened_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Set when a material update is approved after the patient acknowledged; cleared when they
    # acknowledge the new version (and pass its quiz, if the editor asked for that).
    reacknowledge_since = models.DateTimeField(null=True, blank=True)
    # When the record system's clinical event assigned it (portal.interop): the event's id
    # as the record system names it, its kind and its date, shown as "Assigned because".
    event_id = models.CharField(max_length=64, blank=True)
    event_kind = models.SlugField(max_length=40, blank=True)
    event_on = models.DateField(null=True, blank=True)
    # Every service that changes the assignment sets it: the record system polls for
    # changes since a time (FHIR Task _lastUpdated).
    updated_at = models.DateTimeField(default=timezone.now)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-due_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "module"],
                condition=Q(completed_at__isnull=True, cancelled_at__isnull=True),
                name="one_open_assignment_per_patient_and_module",
            ),
        ]
        indexes = [
            # My modules: a patient's assignments by due date.
            models.Index(fields=["patient", "due_date"], name="assignment_patient_due"),
            # The record system's poll for changed tasks, in the order it pages through them.
            models.Index(fields=["updated_at", "id"], name="assignment_updated"),
        ]

    def __str__(self):
        return f"{self.module} for {self.patient}"


class QuizDraw(models.Model):
    """The questions, and the order of their choices, issued to a patient for one attempt.
    Stored before the page is shown, so the result, the clinician's view and any audit show
    exactly what the patient saw, and a submission for a draw never issued is refused.
    Append-only."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="draws")
    version = models.ForeignKey(ModuleVersion, on_delete=models.PROTECT, related_name="+")
    # [[question id, [choice id, ...]], ...]: questions and choices in the order shown.
    layout = models.JSONField()
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        indexes = [
            # The quiz page: the assignment's latest draw, to reuse it or not repeat it.
            models.Index(fields=["assignment", "-issued_at"], name="draw_assignment_latest"),
        ]

    def __str__(self):
        return f"Quiz draw {self.code}"

    @property
    def question_ids(self) -> list[int]:
        return [question_id for question_id, _ in self.layout]


class QuizAttempt(models.Model):
    """One submitted quiz. Append-only; one attempt per draw, so a double click or a
    second tab submitting the same page records one attempt. Attempts recorded before
    question banks have no draw: they asked every question in file order."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="attempts")
    version = models.ForeignKey(ModuleVersion, on_delete=models.PROTECT, related_name="attempts")
    draw = models.OneToOneField(
        QuizDraw, on_delete=models.PROTECT, null=True, blank=True, related_name="attempt"
    )
    submission_key = models.UUIDField()
    submitted_at = models.DateTimeField(default=timezone.now)
    correct_count = models.PositiveSmallIntegerField()
    question_count = models.PositiveSmallIntegerField()
    score = models.PositiveSmallIntegerField(help_text="Percent answered right.")
    passed = models.BooleanField()
    language = models.CharField(
        max_length=8, default="en", help_text="The language the questions were shown in."
    )

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "submission_key"], name="one_attempt_per_submission"
            ),
        ]
        indexes = [
            # The record system's poll for new quiz answers (FHIR QuestionnaireResponse).
            models.Index(fields=["submitted_at", "id"], name="attempt_submitted"),
        ]

    def __str__(self):
        return f"Quiz attempt {self.code}"


class Answer(models.Model):
    attempt = models.ForeignKey(QuizAttempt, on_delete=models.PROTECT, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    choice = models.ForeignKey(Choice, on_delete=models.PROTECT, related_name="+")
    is_correct = models.BooleanField()

    class Meta:
        ordering = ["attempt", "question__position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question"], name="one_answer_per_question"),
        ]

    def __str__(self):
        return f"Answer to question {self.question_id}"


class Acknowledgment(models.Model):
    """The patient's statement that they read a version. Keeps exactly what was shown
    (version, its hash, the statement) and what they typed. Append-only."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="acknowledgments")
    version = models.ForeignKey(ModuleVersion, on_delete=models.PROTECT, related_name="acknowledgments")
    # The hash of the text in the language the patient read, and that language.
    content_hash = models.CharField(max_length=64)
    language = models.CharField(max_length=8, default="en")
    statement = models.TextField()
    typed_name = models.CharField(max_length=150)
    acknowledged_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "version"], name="one_acknowledgment_per_version"),
        ]
        indexes = [
            # The record system's poll for new acknowledgments (FHIR DocumentReference).
            models.Index(fields=["acknowledged_at", "id"], name="acknowledgment_at"),
        ]

    def __str__(self):
        return f"Acknowledgment {self.code}"


class AcknowledgmentReceipt(models.Model):
    """The patient's copy of an acknowledgment: a short code a clinician can check it by,
    and the SHA-256 of the version's text as the patient read it, which the verification
    page recomputes from the stored version. Written with the acknowledgment; append-only."""

    acknowledgment = models.OneToOneField(
        Acknowledgment, on_delete=models.PROTECT, primary_key=True, related_name="receipt"
    )
    verification_code = models.CharField(max_length=10, unique=True)
    text_sha256 = models.CharField(max_length=64)

    def __str__(self):
        return f"Receipt {self.verification_code}"


class VisitQuestionQuerySet(models.QuerySet):
    def open(self):
        return self.filter(withdrawn_at__isnull=True, answered_at__isnull=True)

    def of_patient(self, patient):
        return self.filter(assignment__patient=patient)

    def for_clinicians(self, patient):
        """What the care team sees of a patient's questions: open and answered ones, oldest
        first, with their module; a withdrawn question is the patient's to keep."""
        return (
            self.of_patient(patient)
            .filter(withdrawn_at__isnull=True)
            .select_related("assignment__module", "answered_by")
            .order_by("asked_at", "pk")
        )


class VisitQuestion(models.Model):
    """A question a patient wants to ask at their next visit, in their own words, tied to
    the module and the part of it they were reading. What they wrote never changes; the
    patient can withdraw it and a clinician can mark it answered, each once (a trigger
    enforces both on PostgreSQL, migration 0011)."""

    MAX_LENGTH = 500

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="questions")
    # The heading's anchor and its words when asked; both blank for the quiz result.
    section = models.SlugField(max_length=120, blank=True)
    section_title = models.CharField(max_length=200, blank=True)
    text = models.TextField(max_length=MAX_LENGTH)
    asked_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = VisitQuestionQuerySet.as_manager()

    class Meta:
        ordering = ["asked_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | Q(answered_at__isnull=True),
                name="question_withdrawn_or_answered_not_both",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, answered_by__isnull=True)
                | Q(answered_at__isnull=False, answered_by__isnull=False),
                name="question_answered_by_someone",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), 500), name="question_at_most_500_characters"
            ),
        ]

    def __str__(self):
        return f"Question {self.code}"

    @property
    def is_open(self) -> bool:
        return self.withdrawn_at is None and self.answered_at is None


class PatientProgress(models.Model):
    """Per patient, the figures the clinician's dashboard shows, filters and sorts on,
    derived from the records and kept up to date by the services that change them, in
    the same transaction (education.progress). A dashboard page then reads 50 rows in
    index order instead of computing figures for every patient of the clinic.

    Nothing here depends on today's date: "overdue" is `next_due` before today, and the
    next visit is looked up for the rows shown."""

    patient = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="progress")
    # Copied from the patient so that each sort is one index, clinic first.
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    full_name = models.CharField(max_length=150)
    assigned_count = models.PositiveIntegerField(default=0)
    opened_count = models.PositiveIntegerField(default=0)
    completed_count = models.PositiveIntegerField(default=0)
    next_due = models.DateField(null=True, blank=True, help_text="Earliest due date of an open module.")
    last_activity = models.DateTimeField(null=True, blank=True)
    latest_score = models.PositiveSmallIntegerField(null=True, blank=True)
    latest_passed = models.BooleanField(null=True, blank=True)
    # Which module the latest quiz was on: a score alone does not tell the clinician what to ask.
    latest_module = models.ForeignKey(
        "Module", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reacknowledge_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # One per dashboard sort, in the sort's own order, so a page is an index range.
            models.Index(fields=["clinic", "next_due", "full_name", "patient"], name="progress_by_due"),
            # "Last activity, newest first" has its index in migration 0009, on PostgreSQL
            # only: SQLite cannot put NULLS LAST in an index.
            models.Index(fields=["clinic", "full_name", "patient"], name="progress_by_name"),
        ]

    def __str__(self):
        return f"Progress of patient {self.patient_id}"


class ClinicRoster(models.Model):
    """How many patients a clinic has: its progress rows, counted by database triggers as
    rows come and go (migration 0010), whoever writes them. The dashboard's page count for
    all of a clinic's patients, which COUNT(*) read in proportion to the clinic (1.1-1.9 ms
    at 10,000 patients, 4-5 ms with a stale visibility map)."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, primary_key=True, related_name="roster")
    patients = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.patients} patient(s) in clinic {self.clinic_id}"
