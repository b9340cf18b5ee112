import datetime
import shutil
import tempfile
from pathlib import Path

from django.urls import reverse

from education import progress as patient_progress
from education import services
from education.content import CONTENT_DIR
from education.models import Assignment, Module, QuizDraw
from tests.base import PortalTestCase
from tests.library import TEST_REVIEWER, library_editor, load_and_approve


class EducationTestCase(PortalTestCase):
    """The personas plus the real module library, and one assignment for Pat (sleep)
    and one for Olive (driving), due in a week."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        load_and_approve()
        cls.sleep = Module.objects.select_related("current_version").get(slug="sleep-medicines")
        cls.driving = Module.objects.get(slug="driving-and-machinery")
        cls.in_a_week = datetime.date.today() + datetime.timedelta(days=7)
        cls.assignment = cls.assign(cls.pat, cls.sleep)
        cls.olives = cls.assign(cls.olive, cls.driving, assigned_by=cls.charlie)

    @classmethod
    def assign(cls, patient, module, due_date=None, assigned_by=None):
        """Written directly, as the service refuses the past due dates tests need; the
        progress row is refreshed as the service would."""
        assignment = Assignment.objects.create(
            patient=patient,
            module=module,
            assigned_by=assigned_by or cls.alice,
            due_date=due_date or cls.in_a_week,
        )
        patient_progress.refresh([patient.pk])
        return assignment

    def url(self, name, assignment=None):
        return reverse(f"education:{name}", args=[(assignment or self.assignment).code])

    def answers(self, assignment=None, right=None, positions=None):
        """A quiz form's POST data for the draw the quiz page would show now (Pat's sleep
        module by default), or for a draw of the questions at `positions` of the bank: the
        right choice for the first `right` questions (all of them by default), a wrong one
        for the rest."""
        assignment = assignment or self.assignment
        assignment.module.refresh_from_db()
        if positions:
            draw = self.fixed_draw(assignment, positions)
            questions = services.drawn_questions(draw, assignment.module.current_version)
        else:
            draw, questions = services.issue_draw(assignment=assignment)
        right = len(questions) if right is None else right
        data = {"draw": str(draw.code)}
        for number, question in enumerate(questions):
            pick = next(c for c in question.shown_choices if c.is_correct == (number < right))
            data[f"question_{question.pk}"] = str(pick.pk)
        return data

    @staticmethod
    def fixed_draw(assignment, positions):
        """A draw of the bank's questions at `positions`, choices in file order, issued as
        the quiz page would have issued it: for tests that need to know what was asked."""
        version = assignment.module.current_version
        questions = {q.position: q for q in version.questions.prefetch_related("choices")}
        layout = [[questions[n].pk, [c.pk for c in questions[n].choices.all()]] for n in positions]
        return QuizDraw.objects.create(assignment=assignment, version=version, layout=layout)

    def pass_quiz(self, assignment=None):
        assignment = assignment or self.assignment
        return self.client.post(self.url("quiz", assignment), self.answers(assignment))

    def acknowledge(self, assignment=None, name="Pat Patient"):
        return self.client.post(self.url("acknowledge", assignment), {"confirm": "on", "typed_name": name})


def load_edit(slug, old, new, material=True, loaded_by=None):
    """A new draft of `slug` with `old` replaced by `new` in its body; not yet approved."""
    with tempfile.TemporaryDirectory() as folder:
        library = Path(folder)
        shutil.copytree(CONTENT_DIR / slug, library / slug)
        module_file = library / slug / "module.md"
        text = module_file.read_text()
        assert old in text
        text = text.replace(old, new, 1)
        if not material:
            text = text.replace("pass_mark = 80", "pass_mark = 80\nmaterial_change = false", 1)
        module_file.write_text(text)
        services.load_library(library, loaded_by=loaded_by)
    return Module.objects.get(slug=slug).versions.drafts().order_by("-number").first()


def publish_edit(slug, old, new, material=True):
    """Publish a new version of `slug` with `old` replaced by `new` in its body: loaded and
    approved, as after an editor's sign-off."""
    load_edit(slug, old, new, material)
    services.approve_all_drafts(editor=library_editor(), reviewer_name=TEST_REVIEWER, credential="none")
    return Module.objects.select_related("current_version").get(slug=slug).current_version
