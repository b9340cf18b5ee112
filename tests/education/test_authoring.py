"""The authoring rules the loader enforces: one draft per rule, each refusal naming the file
and the line an editor has to change. The draft is tests/education/drafts/plain-module, a
module that meets every rule; each test breaks one."""

import datetime
import re
import shutil
import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import CommandError, call_command
from django.test import SimpleTestCase, TestCase

from education.content import ContentError, read_library
from education.models import Module
from education.rendering import render_markdown
from tests.library import load_and_approve

DRAFT = Path(__file__).parent / "drafts" / "plain-module"


class DraftTestCase(SimpleTestCase):
    def setUp(self):
        self.library = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.library)
        shutil.copytree(DRAFT, self.library / "plain-module")
        self.module_file = self.library / "plain-module" / "module.md"
        self.quiz_file = self.library / "plain-module" / "quiz.toml"

    def replace(self, old, new, path=None):
        path = path or self.module_file
        text = path.read_text()
        assert old in text, f"{old!r} is not in {path}"
        path.write_text(text.replace(old, new, 1))

    def line_of(self, needle, path=None):
        lines = (path or self.module_file).read_text().splitlines()
        return next(number for number, line in enumerate(lines, 1) if needle in line)

    def assert_refused(self, message, line, path=None):
        with self.assertRaises(ContentError) as refused:
            read_library(self.library)
        located = f"{path or self.module_file}:{line}: "
        problems = str(refused.exception).splitlines()
        self.assertTrue(
            any(problem.startswith(located) and message in problem for problem in problems),
            f"no {located}…{message} in {problems}",
        )


class TheDraftTests(DraftTestCase):
    def test_the_draft_meets_every_rule(self):
        (module,) = read_library(self.library)
        self.assertLessEqual(module.reading_grade, 6)
        self.assertLessEqual(module.smog_grade, 9)
        self.assertEqual(
            [s["id"] for s in module.sources], ["klonopin-label", "acp-insomnia-2016", "ags-beers-2023"]
        )


class RefusingWhatBreaksTheFrameTests(DraftTestCase):
    def test_no_key_points_box(self):
        self.replace('!!! key-points "Key points"', '!!! note "Key points"')
        self.assert_refused('must open with a "Key points" box', self.line_of("!!! note"))

    def test_a_key_points_box_with_two_points(self):
        self.replace("    - Keep them in a safe place.\n", "")
        self.assert_refused(
            "the key points box must have 3 to 5 short points", self.line_of("!!! key-points")
        )

    def test_no_emergency_ladder(self):
        self.replace("!!! emergency-ladder\n", "")
        self.assert_refused("must show the emergency ladder once", self.line_of("!!! key-points"))

    def test_what_to_do_that_is_not_a_numbered_list(self):
        for number in "123":
            self.replace(f"{number}. ![", "- ![")
        self.assert_refused(
            'needs a "## What to do" section that starts with a numbered list', self.line_of("## What to do")
        )

    def test_no_tool(self):
        self.replace('!!! tool "Checklist: my pills"', '!!! note "Checklist: my pills"')
        self.assert_refused("must give the reader a tool", self.line_of("!!! key-points"))

    def test_no_questions_to_ask(self):
        self.replace("## Questions to ask your care team", "## Things to ask")
        self.assert_refused(
            'needs a "## Questions to ask your care team" section', self.line_of("!!! key-points")
        )

    def test_an_icon_without_alt_text(self):
        self.replace("![Lock](icon:lock)", "![](icon:lock)")
        self.assert_refused("icon 'lock' needs alt text", self.line_of("(icon:lock)"))

    def test_an_icon_the_portal_does_not_have(self):
        self.replace("![Lock](icon:lock)", "![Lock](icon:padlock)")
        self.assert_refused("no icon 'padlock'", self.line_of("(icon:padlock)"))

    def test_a_figure_needs_alt_text_and_must_exist(self):
        self.replace("## How to take them", "![](figure:recovery-position)\n\n## How to take them")
        self.assert_refused(
            "figure 'recovery-position' needs alt text", self.line_of("(figure:recovery-position)")
        )
        self.replace("![](figure:recovery-position)", "![A drawing](figure:cartoon)")
        self.assert_refused("no figure 'cartoon'", self.line_of("(figure:cartoon)"))


class RefusingHardOrOddSizedTextTests(DraftTestCase):
    def test_a_flesch_kincaid_grade_above_6(self):
        hard = (
            "Pharmacological interventions necessitate individualized consideration regarding "
            "concomitant administration of central nervous system depressants. "
        )
        self.replace("Short lines help you read.", hard * 12 + "Short lines help you read.")
        self.assert_refused("Flesch-Kincaid grade", self.line_of("Pharmacological"))

    def test_a_smog_grade_above_9(self):
        # Short sentences keep Flesch-Kincaid down; long words push SMOG up.
        polysyllabic = "Medications, interactions, complications, emergencies. " * 30
        self.replace("Short lines help you read.", polysyllabic + "Short lines help you read.")
        with self.assertRaises(ContentError) as refused:
            read_library(self.library)
        self.assertIn("SMOG grade", str(refused.exception))
        self.assertIn(
            f"{self.module_file}:{self.line_of('Medications, interactions')}: SMOG", str(refused.exception)
        )

    def test_fewer_than_450_words(self):
        text = self.module_file.read_text()
        start, end = text.index("## Why the rules help"), text.index("## What to do")
        self.module_file.write_text(text[:start] + text[end:])
        self.assert_refused("it must have 450 to 1100", self.line_of("!!! key-points"))

    def test_more_than_1100_words(self):
        self.replace(
            "Short lines help you read.",
            "We keep each part short and plain. " * 100 + "Short lines help you read.",
        )
        self.assert_refused("it must have 450 to 1100", self.line_of("!!! key-points"))


class RefusingRedLinesTests(DraftTestCase):
    CASES = [
        ("Stop taking it right away if you feel odd.", "advises stopping suddenly or alone"),
        ("You can stop on your own when you feel better.", "advises stopping suddenly or alone"),
        ("If you miss one, double up the next day.", "advises doubling a dose"),
        ("Take 2 tablets when you cannot sleep.", "mentions a number of tablets, pills or mg"),
        ("Take two pills when you cannot sleep.", "mentions a number of tablets, pills or mg"),
        ("Drink less alcohol while you take it.", "implies some alcohol is fine"),
        ("A little alcohol at dinner is fine.", "implies some alcohol is fine"),
        ("Ask about the price at the store.", "mentions a price or a sales word"),
        ("You can buy it online.", "mentions a price or a sales word"),
    ]

    def test_each_phrase_is_refused_on_its_line(self):
        for phrase, message in self.CASES:
            with self.subTest(phrase):
                shutil.copy(DRAFT / "module.md", self.module_file)
                self.replace("Count them now and then.", f"Count them now and then. {phrase}")
                self.assert_refused(message, self.line_of(phrase))

    def test_the_same_words_as_a_warning_pass(self):
        warnings = (
            "Never stop suddenly. Do not stop it on your own. Never double up. "
            "Do not take two doses at one time. Do not drink alcohol while you take it."
        )
        self.replace("Count them now and then.", f"Count them now and then. {warnings}")
        read_library(self.library)

    def test_a_right_answer_that_advises_stopping_is_refused_in_the_quiz(self):
        self.replace('text = "The right one"', 'text = "Stop it right away"', self.quiz_file)
        self.assert_refused(
            "question 1 advises stopping suddenly or alone",
            self.line_of("[[questions]]", self.quiz_file),
            self.quiz_file,
        )

    def test_a_wrong_choice_may_hold_the_mistake_but_never_a_number_of_tablets(self):
        self.replace('text = "A believable but wrong choice"', 'text = "Stop it right away"', self.quiz_file)
        read_library(self.library)
        self.replace('text = "Stop it right away"', 'text = "Take 3 tablets"', self.quiz_file)
        self.assert_refused(
            "question 1 mentions a number of tablets",
            self.line_of("[[questions]]", self.quiz_file),
            self.quiz_file,
        )


class RefusingHeaderProblemsTests(DraftTestCase):
    def test_a_source_that_is_not_in_the_registry(self):
        self.replace('"ags-beers-2023"', '"a-blog-post"')
        self.assert_refused("source(s) a-blog-post are not in sources.toml", self.line_of("sources ="))

    def test_fewer_than_three_sources(self):
        self.replace(', "ags-beers-2023"', "")
        self.assert_refused("cite at least 3 sources; this module cites 2", self.line_of("sources ="))

    def test_a_file_that_claims_a_reviewer(self):
        self.replace("reviewed_on = 2026-11-01", 'reviewed_on = 2026-11-01\nreviewer = "Dr Somebody"')
        self.assert_refused(
            "remove reviewer: a module file does not claim a review", self.line_of("reviewer =")
        )


class ReviewDateTests(TestCase):
    def test_content_older_than_12_months_loads_and_is_flagged_to_clinicians(self):
        library = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, library)
        shutil.copytree(DRAFT, library / "plain-module")
        module_file = library / "plain-module" / "module.md"
        long_ago = datetime.date.today() - datetime.timedelta(days=400)
        module_file.write_text(module_file.read_text().replace("2026-11-01", long_ago.isoformat()))
        load_and_approve(library)
        version = Module.objects.get(slug="plain-module").current_version
        self.assertTrue(version.review_due)
        from portal.forms import AssignForm
        from tests.factories import PatientFactory

        form = AssignForm(patient=PatientFactory())
        self.assertIn("A plain test module · Reviewed by Test reviewer", str(form["modules"]))
        self.assertIn("· content check due", str(form["modules"]))

    def test_content_checked_this_year_is_not_flagged(self):
        load_and_approve(DRAFT.parent)
        self.assertFalse(Module.objects.get(slug="plain-module").current_version.review_due)


class CheckModuleCommandTests(SimpleTestCase):
    def test_it_prints_the_figures_of_a_good_draft(self):
        out = StringIO()
        call_command("check_module", str(DRAFT), stdout=out)
        figures = r"\d+ words, Flesch-Kincaid [\d.]+, SMOG [\d.]+, 12 questions in 6 concepts, 3 sources"
        self.assertRegex(out.getvalue(), rf"plain-module: {figures}: OK")

    def test_it_names_the_file_and_line_of_every_problem(self):
        library = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, library)
        shutil.copytree(DRAFT, library / "plain-module")
        module_file = library / "plain-module" / "module.md"
        module_file.write_text(
            module_file.read_text().replace("Count them now and then.", "Drink less alcohol. Take 2 pills.")
        )
        with self.assertRaises(CommandError) as refused:
            call_command("check_module", str(library / "plain-module"))
        lines = [line for line in str(refused.exception).splitlines() if line.startswith(str(module_file))]
        self.assertEqual(len(lines), 2)
        self.assertTrue(all(re.match(rf"{re.escape(str(module_file))}:\d+: ", line) for line in lines))


class RenderingTheFrameTests(SimpleTestCase):
    def setUp(self):
        self.html = render_markdown(DRAFT.joinpath("module.md").read_text().split("+++\n", 2)[2])

    def test_the_key_points_box_comes_first(self):
        self.assertTrue(self.html.startswith('<div class="admonition key-points">'))

    def test_the_emergency_card_has_the_ladder_in_order_with_phone_links(self):
        card = re.search(r'<div class="admonition emergency-ladder">(.*?)</div>', self.html, re.S).group(1)
        rungs = re.findall(r"<li>(.*?)</li>", card, re.S)
        self.assertEqual(len(rungs), 3)
        self.assertIn("Call 911", rungs[0])
        self.assertIn('href="tel:18002221222"', rungs[1])
        self.assertIn("Call your care team today", rungs[2])
        self.assertIn('href="tel:988"', card)
        self.assertNotIn("SAMHSA", card)

    def test_the_samhsa_line_is_there_where_a_module_asks_for_it(self):
        html = render_markdown("!!! emergency-ladder samhsa\n")
        self.assertIn('href="tel:18006624357"', html)

    def test_icons_are_the_portals_own_files_with_their_alt_text(self):
        icons = re.findall(r"<img [^>]*>", self.html)
        self.assertTrue(icons)
        for icon in icons:
            self.assertRegex(icon, r'src="/static/education/icons/[a-z-]+\.svg"')
            self.assertRegex(icon, r'alt="[^"]+"')

    def test_a_figure_is_the_portals_own_drawing_with_its_alt_text(self):
        html = render_markdown("![The recovery position](figure:recovery-position)")
        src = "/static/education/figures/recovery-position.svg"
        self.assertIn(f'<img class="figure" alt="The recovery position" src="{src}"', html)

    def test_the_tool_is_a_list_of_boxes_to_tick(self):
        tool = re.search(r'<div class="admonition tool">(.*?)</div>', self.html, re.S).group(1)
        self.assertIn('<li class="check">My pills are locked up.</li>', tool)

    def test_a_box_written_as_a_character_is_drawn_once(self):
        html = render_markdown('!!! tool "Card"\n    - \u2610 I take clonazepam.\n    - My phone: ____\n')
        self.assertIn('<li class="check">I take clonazepam.</li>', html)
        self.assertIn("<li>My phone: ____</li>", html)

    def test_foreign_images_classes_and_handlers_do_not_survive(self):
        html = render_markdown(
            '![x](https://tracker.example/p.png) <div class="admonition evil" onclick="x">y</div>'
            '<img src="/static/education/icons/../../portal/x.svg" alt="y">'
        )
        self.assertNotIn("tracker.example", html)
        self.assertNotIn("evil", html)
        self.assertNotIn("onclick", html)
        self.assertNotIn("..", html)
