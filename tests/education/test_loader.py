import shutil
import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import CommandError, call_command
from django.test import TestCase

from education import services
from education.content import CONTENT_DIR, ContentError
from education.models import Choice, Module, ModuleVersion, Question
from tests.library import load_and_approve


class LibraryCopyMixin:
    """Each test gets its own copy of the real library to edit."""

    def setUp(self):
        super().setUp()
        self.library = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.library)
        shutil.copytree(CONTENT_DIR, self.library, dirs_exist_ok=True)

    def edit(self, slug, filename, old, new):
        path = self.library / slug / filename
        text = path.read_text()
        assert old in text, f"{old!r} is not in {path}"
        path.write_text(text.replace(old, new, 1))
        return path

    def load(self):
        return services.load_library(self.library)

    def assert_refused(self, problem, path):
        with self.assertRaises(ContentError) as refused:
            self.load()
        self.assertIn(str(path), str(refused.exception))
        self.assertIn(problem, str(refused.exception))
        self.assertFalse(Module.objects.exists())
        self.assertFalse(ModuleVersion.objects.exists())


class LoadingTheLibraryTests(LibraryCopyMixin, TestCase):
    def test_a_clean_database_gets_the_seven_modules_with_their_quizzes(self):
        report = self.load()
        self.assertEqual(len(report.created), 7)
        self.assertEqual(set(Module.objects.values_list("topic", flat=True)), set(Module.Topic.values))
        for version in ModuleVersion.objects.all():
            self.assertGreaterEqual(version.questions.count(), 10)
        for version in ModuleVersion.objects.all():
            self.assertLessEqual(version.reading_grade, 6)
            self.assertLessEqual(version.smog_grade, 9)
            self.assertTrue(450 <= version.word_count <= 1100, version)
            self.assertGreaterEqual(len(version.sources), 3)
            self.assertTrue(all(source["url"].startswith("https://") for source in version.sources))

    def test_every_question_has_four_choices_a_concept_and_a_section_with_exactly_one_right(self):
        self.load()
        for question in Question.objects.select_related("version").prefetch_related("choices"):
            choices = list(question.choices.all())
            self.assertEqual(len(choices), 4)
            self.assertIn(question.concept, question.version.concepts)
            self.assertIn(question.section, question.version.sections)
            self.assertEqual(sum(c.is_correct for c in choices), 1)
            self.assertTrue(all(c.explanation for c in choices))

    def test_a_second_run_creates_nothing(self):
        self.load()
        counts = (ModuleVersion.objects.count(), Question.objects.count(), Choice.objects.count())
        report = self.load()
        self.assertEqual(len(report.unchanged), 7)
        self.assertEqual(
            (ModuleVersion.objects.count(), Question.objects.count(), Choice.objects.count()), counts
        )

    def test_loading_makes_drafts_that_no_patient_sees_until_approved(self):
        self.load()
        self.assertEqual(ModuleVersion.objects.drafts().count(), 7)
        self.assertFalse(Module.objects.exclude(current_version=None).exists())

    def test_editing_one_file_creates_exactly_one_new_draft(self):
        load_and_approve(self.library)
        first = Module.objects.get(slug="sleep-medicines").current_version
        self.edit(
            "sleep-medicines",
            "module.md",
            "Ask your care team about CBT-I.",
            "Ask your care team about CBT-I soon.",
        )
        report = self.load()
        self.assertEqual(report.updated, ["sleep-medicines"])
        self.assertEqual(ModuleVersion.objects.count(), 8)
        module = Module.objects.get(slug="sleep-medicines")
        self.assertEqual(module.current_version, first)  # patients still read the approved one
        self.assertEqual(module.versions.drafts().get().number, 2)
        self.assertEqual(ModuleVersion.objects.get(pk=first.pk).body_markdown, first.body_markdown)
        self.assertEqual(self.load().unchanged.count("sleep-medicines"), 1)  # the draft is not loaded twice

    def test_editing_the_quiz_alone_also_makes_a_new_version(self):
        self.load()
        self.edit("stopping-safely", "quiz.toml", 'text = "', 'text = "Tell us: ')
        self.assertEqual(self.load().updated, ["stopping-safely"])

    def test_the_command_reports_what_it_did(self):
        out = StringIO()
        call_command("load_modules", stdout=out)
        self.assertIn("7 created, 0 updated, 0 unchanged", out.getvalue())


class RefusingBadFilesTests(LibraryCopyMixin, TestCase):
    def test_no_title(self):
        path = self.edit(
            "sleep-medicines", "module.md", 'title = "Sleep medicines', 'subtitle = "Sleep medicines'
        )
        self.assert_refused("unknown header field(s) subtitle", path)

    def test_an_empty_title(self):
        path = self.edit(
            "sleep-medicines",
            "module.md",
            'title = "Sleep medicines: short-term help, not a long-term fix"',
            'title = ""',
        )
        self.assert_refused("no title in the header", path)

    def test_an_unknown_topic(self):
        path = self.edit("driving-and-machinery", "module.md", 'topic = "driving"', 'topic = "cooking"')
        self.assert_refused("unknown topic 'cooking'", path)

    def test_a_question_with_two_correct_choices(self):
        path = self.library / "sleep-medicines" / "quiz.toml"
        text = path.read_text()
        first_choice = text.index("[[questions.choices]]") + len("[[questions.choices]]")
        path.write_text(text[:first_choice] + "\n  correct = true" + text[first_choice:])
        self.assert_refused("question 1 must have exactly one correct choice", path)

    def test_a_question_with_no_correct_choice(self):
        path = self.edit("sleep-medicines", "quiz.toml", "correct = true\n", "")
        self.assert_refused("question 1 must have exactly one correct choice", path)

    def test_a_choice_without_an_explanation(self):
        path = self.edit("stopping-safely", "quiz.toml", "  explanation = ", "  note = ")
        self.assert_refused("question 1 choice A has no explanation", path)

    def test_no_sources(self):
        path = self.library / "breathing-and-interactions" / "module.md"
        text = path.read_text()
        start, end = text.index("sources = ["), text.index("]\n+++")
        path.write_text(text[:start] + "sources = [" + text[end:])
        self.assert_refused("no sources in the header", path)

    def test_a_dose(self):
        path = self.edit(
            "sleep-medicines", "module.md", "Ask your care team about CBT-I.", "Take 2 mg at night."
        )
        self.assert_refused("mentions a dose ('2 mg')", path)

    def test_a_price(self):
        path = self.edit(
            "sleep-medicines", "module.md", "Ask your care team about CBT-I.", "It costs $5 a month."
        )
        self.assert_refused("a price or a sales word", path)

    def test_no_talk_to_your_care_team_message(self):
        path = self.library / "driving-and-machinery" / "module.md"
        path.write_text(path.read_text().replace("Talk to your care team", "Speak with a doctor"))
        self.assert_refused("must tell the reader to 'talk to your care team'", path)

    def test_hard_reading(self):
        hard = (
            "Pharmacokinetic interindividual variability necessitates individualized "
            "therapeutic considerations regarding benzodiazepine discontinuation methodologies. "
        )
        path = self.edit("sleep-medicines", "module.md", "## What to do\n", hard * 20 + "\n## What to do\n")
        self.assert_refused("Flesch-Kincaid grade", path)

    def test_too_short(self):
        path = self.library / "sleep-medicines" / "module.md"
        header = path.read_text().split("+++\n")[1]
        path.write_text(f"+++\n{header}+++\nShort. Talk to your care team.\n")
        self.assert_refused("it must have 450 to 1100", path)

    def test_a_missing_quiz(self):
        (self.library / "sleep-medicines" / "quiz.toml").unlink()
        self.assert_refused("file is missing", self.library / "sleep-medicines" / "quiz.toml")

    def test_a_header_that_is_not_toml(self):
        path = self.edit("sleep-medicines", "module.md", "pass_mark = 80", "pass_mark = eighty")
        self.assert_refused("the header is not valid TOML", path)

    def test_one_bad_file_among_good_ones_leaves_the_database_as_it_was(self):
        self.load()
        self.edit(
            "stopping-safely", "module.md", "Do not skip doses to cut down.", "Never skip doses to cut down."
        )
        path = self.edit("driving-and-machinery", "module.md", 'topic = "driving"', 'topic = "cooking"')
        with self.assertRaises(ContentError) as refused:
            self.load()
        self.assertIn(str(path), str(refused.exception))
        self.assertEqual(ModuleVersion.objects.count(), 7)

    def test_the_command_names_the_file_and_writes_nothing(self):
        self.edit("driving-and-machinery", "module.md", 'topic = "driving"', 'topic = "cooking"')
        with self.assertRaisesMessage(CommandError, "Nothing was loaded"):
            call_command("load_modules", "--from", str(self.library), stdout=StringIO())
        self.assertFalse(Module.objects.exists())


def bank_toml(questions=12, concepts=6, choices=4, longest_right=0, throwaway=None, section=None):
    """A quiz.toml for the sleep module, valid unless told otherwise: `longest_right`
    questions whose right answer is the longest choice, a `throwaway` choice text in
    question 1, a `section` that is not the module's."""
    lines = ["[concepts]"] + [f'point-{n} = "Safety point {n}"' for n in range(concepts)]
    for number in range(questions):
        lines += [
            "[[questions]]",
            f'concept = "point-{number % concepts}"',
            f'section = "{section or "what-this-lesson-is-about"}"',
            f'text = "Question {number + 1}?"',
        ]
        for letter in "ABCDEFG"[:choices]:
            right = letter == "A"
            text = "A believable but wrong choice"
            if right:
                text = "The right choice, said at length" if number < longest_right else "The right one"
            if number == 0 and letter == "B" and throwaway:
                text = throwaway
            lines += ["[[questions.choices]]", f'text = "{text}"', f'explanation = "Why {letter}."']
            lines += ["correct = true"] if right else []
    return "\n".join(lines) + "\n"


class RefusingWeakQuizBanksTests(LibraryCopyMixin, TestCase):
    def write_bank(self, **options):
        path = self.library / "sleep-medicines" / "quiz.toml"
        path.write_text(bank_toml(**options))
        # A bank made up for the test has no Spanish twin: the module loads in English only.
        (path.parent / "quiz.es.toml").unlink(missing_ok=True)
        (path.parent / "module.es.md").unlink(missing_ok=True)
        return path

    def test_a_valid_bank_loads(self):
        self.write_bank(longest_right=4)  # 4 of 12 is a third: allowed
        self.load()
        self.assertEqual(Module.objects.get(slug="sleep-medicines").versions.get().questions.count(), 12)

    def test_the_right_answer_longest_in_more_than_40_percent_of_questions(self):
        path = self.write_bank(longest_right=5)  # 5 of 12
        self.assert_refused("the right answer is the longest choice in 5 of 12 questions", path)

    def test_a_tie_for_longest_counts_as_a_cue(self):
        path = self.library / "sleep-medicines" / "quiz.toml"
        text = bank_toml().replace('"The right one"', '"A believable but wrong choice"')
        path.write_text(text)
        self.assert_refused("longest choice in 12 of 12", path)

    def test_throwaway_distractors(self):
        for throwaway in (
            "None of these",
            "All of the above",
            "Nothing much",
            "They have nothing to do with sleep",
        ):
            path = self.write_bank(throwaway=throwaway)
            self.assert_refused("question 1 choice B is a throwaway", path)

    def test_fewer_than_ten_questions(self):
        path = self.write_bank(questions=9, concepts=5)
        self.assert_refused("the bank has 9 [[questions]]; it needs at least 10", path)

    def test_three_or_five_choices(self):
        for choices in (3, 5):
            path = self.write_bank(choices=choices)
            self.assert_refused("question 1 must have exactly 4 choices", path)

    def test_fewer_than_four_concepts(self):
        path = self.write_bank(concepts=3)
        self.assert_refused("the questions check 3 concept(s); an attempt needs at least 4", path)

    def test_a_concept_that_no_question_checks(self):
        path = self.library / "sleep-medicines" / "quiz.toml"
        path.write_text(bank_toml().replace("[concepts]", '[concepts]\nforgotten = "Never asked"'))
        self.assert_refused("no question checks concept(s) forgotten", path)

    def test_a_question_whose_concept_is_not_listed(self):
        path = self.library / "sleep-medicines" / "quiz.toml"
        path.write_text(bank_toml().replace('concept = "point-0"', 'concept = "point-9"', 1))
        self.assert_refused("question 1 has concept 'point-9', which is not in [concepts]", path)

    def test_a_section_that_is_not_a_heading_of_the_module(self):
        path = self.write_bank(section="how-to-cook")
        self.assert_refused(
            "question 1 has section 'how-to-cook', which is not a heading of the module", path
        )

    def test_a_reveal_setting_out_of_range(self):
        path = self.edit(
            "sleep-medicines", "module.md", "pass_mark = 80", "pass_mark = 80\nreveal_answers_after_fails = 0"
        )
        self.assert_refused("reveal_answers_after_fails must be a whole number from 1 to 10", path)
