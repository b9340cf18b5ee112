import datetime
import shutil
import tempfile
import uuid
from pathlib import Path

from django.urls import reverse

from education import services
from education.content import CONTENT_DIR
from education.models import Assignment, Module
from tests.base import PortalTestCase


class EducationTestCase(PortalTestCase):
    """The personas plus the real module library, and one assignment for Pat (sleep)
    and one for Olive (driving), due in a week."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        services.load_library()
        cls.sleep = Module.objects.select_related("current_version").get(slug="sleep-medicines")
        cls.driving = Module.objects.get(slug="driving-and-machinery")
        cls.in_a_week = datetime.date.today() + datetime.timedelta(days=7)
        cls.assignment = cls.assign(cls.pat, cls.sleep)
        cls.olives = cls.assign(cls.olive, cls.driving, assigned_by=cls.charlie)

    @classmethod
    def assign(cls, patient, module, due_date=None, assigned_by=None):
        return Assignment.objects.create(
            patient=patient,
            module=module,
            assigned_by=assigned_by or cls.alice,
            due_date=due_date or cls.in_a_week,
        )

    def url(self, name, assignment=None):
        return reverse(f"education:{name}", args=[(assignment or self.assignment).code])

    @staticmethod
    def answers(version, right=None):
        """A quiz form's POST data: the right choice for the first `right` questions
        (all of them by default), a wrong one for the rest."""
        questions = list(version.questions.prefetch_related("choices"))
        right = len(questions) if right is None else right
        data = {"submission_key": str(uuid.uuid4()), "version": str(version.pk)}
        for number, question in enumerate(questions):
            choices = list(question.choices.all())
            pick = next(c for c in choices if c.is_correct == (number < right))
            data[f"question_{question.pk}"] = str(pick.pk)
        return data

    def pass_quiz(self, assignment=None):
        assignment = assignment or self.assignment
        assignment.module.refresh_from_db()
        return self.client.post(self.url("quiz", assignment), self.answers(assignment.module.current_version))

    def acknowledge(self, assignment=None, name="Pat Patient"):
        return self.client.post(self.url("acknowledge", assignment), {"confirm": "on", "typed_name": name})


def publish_edit(slug, old, new, material=True):
    """Publish a new version of `slug` with `old` replaced by `new` in its body."""
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
        services.load_library(library)
    return Module.objects.select_related("current_version").get(slug=slug).current_version
