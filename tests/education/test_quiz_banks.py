"""Quiz results a clinician can trust: question banks, stored draws, feedback that
teaches without handing out the answers, and bad input that records nothing."""

import html
import random
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from unittest import mock

from django.contrib.messages import get_messages
from django.test import SimpleTestCase
from django.urls import reverse
from django.utils.html import escape

from education import banks, quiz, services
from education.banks import quiz_banks
from education.content import CONTENT_DIR
from education.models import Answer, Module, QuizAttempt, QuizDraw
from tests.education.base import EducationTestCase, publish_edit
from tests.factories import PatientFactory
from tests.library import load_and_approve


def six_concepts_of_two():
    return {n: f"concept-{(n - 1) // 2}" for n in range(1, 13)}


class DrawingQuestionsTests(SimpleTestCase):
    """The rule itself, on banks made up for the purpose."""

    def test_a_draw_asks_five_different_questions_covering_at_least_four_concepts(self):
        bank = six_concepts_of_two()
        rng = random.Random(1)
        for _ in range(200):
            drawn = quiz.draw_questions(bank, rng=rng)
            self.assertEqual(len(set(drawn)), 5)
            self.assertGreaterEqual(len({bank[q] for q in drawn}), 4)

    def test_a_bank_with_only_four_concepts_still_covers_all_four(self):
        bank = {1: "a", 2: "a", 3: "a", 4: "a", 5: "b", 6: "b", 7: "b", 8: "c", 9: "c", 10: "d"}
        rng = random.Random(2)
        for _ in range(200):
            self.assertEqual({bank[q] for q in quiz.draw_questions(bank, rng=rng)}, {"a", "b", "c", "d"})

    def test_a_draw_is_never_the_previous_set_when_the_bank_allows_another(self):
        bank = {1: "a", 2: "b", 3: "c", 4: "d", 5: "e", 6: "e"}  # only two sets cover five concepts
        rng, previous = random.Random(3), frozenset()
        for _ in range(100):
            drawn = frozenset(quiz.draw_questions(bank, previous, rng=rng))
            self.assertNotEqual(drawn, previous)
            self.assertEqual(len({bank[q] for q in drawn}), 5)
            previous = drawn

    def test_a_retake_asks_the_same_points_with_other_questions_when_it_can(self):
        bank = six_concepts_of_two()
        rng = random.Random(4)
        first = quiz.draw_questions(bank, rng=rng)
        second = quiz.draw_questions(bank, frozenset(first), rng=rng)
        self.assertFalse(set(first) & set(second))

    def test_a_bank_of_exactly_five_questions_repeats_because_it_must(self):
        bank = {1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}
        self.assertEqual(set(quiz.draw_questions(bank, frozenset(bank), rng=random.Random(5))), set(bank))

    def test_the_order_of_questions_varies(self):
        bank = six_concepts_of_two()
        rng = random.Random(6)
        orders = {tuple(quiz.draw_questions(bank, rng=rng)) for _ in range(50)}
        self.assertGreater(len(orders), 40)


class QuizPageDrawTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)
        self.version = self.sleep.current_version

    def quiz_page(self):
        return self.client.get(self.url("quiz"))

    def test_the_page_shows_the_stored_draw_in_its_order(self):
        response = self.quiz_page()
        draw = QuizDraw.objects.get()
        self.assertEqual((draw.assignment, draw.version), (self.assignment, self.version))
        html = response.content.decode()
        shown_questions = [int(n) for n in re.findall(r'name="question_(\d+)" value="\d+"', html)]
        shown_choices = [int(n) for n in re.findall(r'name="question_\d+" value="(\d+)"', html)]
        self.assertEqual(list(dict.fromkeys(shown_questions)), draw.question_ids)
        self.assertEqual(shown_choices, [c for _, choices in draw.layout for c in choices])

    def test_the_draw_covers_at_least_four_concepts_of_the_bank(self):
        self.quiz_page()
        draw = QuizDraw.objects.get()
        concepts = set(
            self.version.questions.filter(pk__in=draw.question_ids).values_list("concept", flat=True)
        )
        self.assertGreaterEqual(len(concepts), 4)

    def test_reloading_the_page_shows_the_same_questions_until_they_are_answered(self):
        first = self.quiz_page().content
        self.assertEqual(self.quiz_page().content.count(b'type="radio"'), first.count(b'type="radio"'))
        self.assertEqual(QuizDraw.objects.count(), 1)
        self.client.post(self.url("quiz"), self.answers(right=1))
        self.quiz_page()
        draws = list(QuizDraw.objects.order_by("issued_at", "pk"))
        self.assertEqual(len(draws), 2)
        self.assertNotEqual(set(draws[0].question_ids), set(draws[1].question_ids))

    def test_choices_are_shuffled_per_draw(self):
        file_order = {q.pk: [c.pk for c in q.choices.all()] for q in self.version.questions.all()}
        reordered = 0
        for _ in range(10):
            self.client.post(self.url("quiz"), self.answers(right=0))
        for draw in QuizDraw.objects.all():
            reordered += sum(choices != file_order[question] for question, choices in draw.layout)
        self.assertGreater(reordered, 30)  # of 50 questions; a 1 in 24 chance each to keep file order

    def test_the_result_shows_the_questions_and_choices_in_the_order_shown(self):
        data = self.answers(right=0)
        response = self.client.post(self.url("quiz"), data, follow=True)
        draw = QuizDraw.objects.get(code=data["draw"])
        questions = {q.pk: q.text for q in self.version.questions.all()}
        positions = [
            response.content.decode().index(questions[pk].replace('"', "&quot;")) for pk in draw.question_ids
        ]
        self.assertEqual(positions, sorted(positions))
        attempt = QuizAttempt.objects.get()
        self.assertEqual((attempt.draw, attempt.question_count), (draw, 5))


class FeedbackPolicyTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)

    def fail(self):
        return self.client.post(self.url("quiz"), self.answers(right=2), follow=True)

    def test_a_failed_attempt_names_the_wrong_answers_and_links_to_their_sections_not_the_right_answers(self):
        response = self.fail()
        self.assertContains(response, "not right", count=3)
        self.assertNotContains(response, "Right answer:")
        reader = self.client.get(self.url("reader")).content.decode()
        links = re.findall(
            r'href="' + re.escape(self.url("reader")) + r'#([a-z0-9-]+)">Read again: ([^<]+)</a>',
            response.content.decode(),
        )
        self.assertEqual(len(links), 3)
        for anchor, title in links:
            self.assertIn(f'<h2 id="{anchor}">{title}</h2>', reader)

    def test_the_explanation_of_the_choice_made_is_shown(self):
        data = self.answers(right=4, positions=[1, 3, 5, 7, 9])
        response = self.client.post(self.url("quiz"), data, follow=True)
        wrong = QuizAttempt.objects.get().answers.get(is_correct=False).choice
        self.assertContains(response, escape(wrong.explanation))

    def test_the_right_answers_appear_after_the_third_failed_attempt_on_every_result(self):
        self.fail()
        self.assertNotContains(self.fail(), "Right answer:")
        third = self.fail()
        self.assertContains(third, "Right answer:", count=3)
        first = QuizAttempt.objects.order_by("submitted_at").first()
        self.assertContains(
            self.client.get(reverse("education:quiz_result", args=[first.code])), "Right answer:"
        )

    def test_the_right_answers_appear_after_a_pass(self):
        self.fail()
        self.client.post(self.url("quiz"), self.answers(right=4))
        first = QuizAttempt.objects.order_by("submitted_at").first()
        response = self.client.get(reverse("education:quiz_result", args=[first.code]))
        self.assertContains(response, "Right answer:", count=3)

    def test_the_module_can_show_them_sooner(self):
        publish_edit("sleep-medicines", "pass_mark = 80", "pass_mark = 80\nreveal_answers_after_fails = 1")
        self.assertContains(self.fail(), "Right answer:", count=3)


class MasteryTests(EducationTestCase):
    """What the clinician's page derives from the answers, per concept."""

    def setUp(self):
        self.sign_in(self.pat)
        self.version = self.sleep.current_version

    def record(self):
        self.sign_in(self.alice)
        response = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.sign_in(self.pat)
        return next(r for r in response.context["records"] if r.assignment == self.assignment)

    def concept(self, position):
        return self.version.questions.get(position=position).concept

    def test_zero_then_full_marks_on_the_same_questions_leaves_no_talking_points(self):
        self.client.post(self.url("quiz"), self.answers(right=0, positions=[1, 3, 5, 7, 9]))
        self.client.post(self.url("quiz"), self.answers(positions=[1, 3, 5, 7, 9]))
        record = self.record()
        self.assertEqual(record.still_missed, [])
        self.assertEqual(len(record.mastered), 5)
        self.assertEqual((record.attempts_to_pass, len(record.attempts)), (2, 2))

    def test_a_concept_answered_right_in_another_question_later_is_mastered(self):
        self.client.post(self.url("quiz"), self.answers(right=4, positions=[1, 3, 5, 7, 9]))
        self.client.post(self.url("quiz"), self.answers(right=5, positions=[2, 4, 6, 8, 10]))
        record = self.record()
        self.assertIn(self.concept(9), {c.key for c in record.mastered})  # 9 and 10 share a concept
        self.assertEqual(record.still_missed, [])

    def test_a_concept_missed_and_not_asked_again_stays_a_talking_point(self):
        self.client.post(self.url("quiz"), self.answers(right=4, positions=[1, 3, 5, 7, 9]))
        self.client.post(self.url("quiz"), self.answers(positions=[2, 4, 6, 8, 11]))
        record = self.record()
        self.assertEqual([c.key for c in record.still_missed], [self.concept(9)])
        missed = record.still_missed[0]
        self.assertEqual(missed.latest.question, self.version.questions.get(position=9))
        self.assertFalse(missed.latest.chosen.is_correct)

    def test_a_concept_answered_right_then_wrong_is_a_talking_point_again(self):
        self.client.post(self.url("quiz"), self.answers(positions=[1, 3, 5, 7, 9]))
        self.client.post(self.url("quiz"), self.answers(right=4, positions=[2, 4, 6, 8, 10]))
        record = self.record()
        self.assertEqual([c.key for c in record.still_missed], [self.concept(10)])
        self.assertEqual(record.still_missed[0].times_missed, 1)

    def test_concepts_never_asked_are_listed_as_not_asked_yet(self):
        self.client.post(self.url("quiz"), self.answers(positions=[1, 3, 5, 7, 9]))
        record = self.record()
        self.assertEqual(record.not_yet_asked, [self.version.concepts[self.concept(11)]])


class AttemptsBeforeBanksTests(EducationTestCase):
    """An attempt recorded before question banks has no draw: it asked every question of
    its version in file order, and is still shown that way."""

    def setUp(self):
        current = self.sleep.current_version
        questions = list(current.questions.prefetch_related("choices").order_by("position")[:5])
        self.attempt = QuizAttempt.objects.create(
            assignment=self.assignment,
            version=current,
            submission_key=uuid.uuid4(),
            correct_count=4,
            question_count=5,
            score=80,
            passed=True,
        )
        self.wrong = questions[4]
        for question in questions:
            choice = next(c for c in question.choices.all() if c.is_correct != (question == self.wrong))
            Answer.objects.create(
                attempt=self.attempt, question=question, choice=choice, is_correct=choice.is_correct
            )

    def test_the_patient_sees_its_questions_in_file_order(self):
        self.sign_in(self.pat)
        response = self.client.get(reverse("education:quiz_result", args=[self.attempt.code]))
        self.assertEqual([a.question.position for a in response.context["answers"]], [1, 2, 3, 4, 5])
        self.assertContains(response, "Right answer:", count=1)

    def test_the_clinician_sees_its_answers_and_its_miss(self):
        self.sign_in(self.alice)
        response = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.assertContains(response, "← chosen, wrong", count=1)
        record = response.context["records"][0]
        self.assertEqual([c.latest.question for c in record.still_missed], [self.wrong])


class BadQuizInputTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)

    def messages(self, response):
        return [str(m) for m in get_messages(response.wsgi_request)]

    def test_an_answer_to_a_question_not_asked_is_refused(self):
        data = self.answers()
        asked = {int(key.split("_")[1]) for key in data if key.startswith("question_")}
        other = self.sleep.current_version.questions.exclude(pk__in=asked).first()
        data[f"question_{other.pk}"] = str(other.choices.first().pk)
        response = self.client.post(self.url("quiz"), data)
        self.assertContains(response, "sent an answer to a question it did not ask")
        self.assertFalse(QuizAttempt.objects.exists())

    def test_a_choice_of_a_question_not_asked_is_refused(self):
        data = self.answers()
        asked = {int(key.split("_")[1]) for key in data if key.startswith("question_")}
        other = self.sleep.current_version.questions.exclude(pk__in=asked).first()
        first = next(key for key in data if key.startswith("question_"))
        data[first] = str(other.choices.first().pk)
        self.assertContains(self.client.post(self.url("quiz"), data), "Select a valid choice")
        self.assertFalse(QuizAttempt.objects.exists())

    def test_a_replayed_submission_records_one_attempt_and_says_so(self):
        data = self.answers(right=2)
        first = self.client.post(self.url("quiz"), data)
        data.update({key: value for key, value in self.answers().items() if key != "draw"})
        second = self.client.post(self.url("quiz"), data)
        self.assertEqual(first.url, second.url)
        self.assertEqual(QuizAttempt.objects.count(), 1)
        self.assertFalse(QuizAttempt.objects.get().passed)
        self.assertIn("You already sent these answers. Here is what they showed.", self.messages(second))

    def test_a_draw_never_issued_is_refused_and_records_nothing(self):
        data = self.answers()
        for forged in (str(uuid.uuid4()), "not-a-code", ""):
            data["draw"] = forged
            response = self.client.post(self.url("quiz"), data)
            self.assertRedirects(response, self.url("quiz"), fetch_redirect_response=False)
            self.assertIn(services.UNKNOWN_DRAW, self.messages(response))
        self.assertFalse(QuizAttempt.objects.exists())

    def test_a_draw_issued_to_another_patient_or_module_is_refused(self):
        olives = self.answers(self.olives)
        stopping = self.assign(self.pat, self.driving)
        own_other_module = self.answers(stopping)
        for data in (olives, own_other_module):
            response = self.client.post(self.url("quiz"), data)
            self.assertIn(services.UNKNOWN_DRAW, self.messages(response))
        self.assertFalse(QuizAttempt.objects.exists())

    def test_the_service_refuses_a_draw_of_another_assignment(self):
        draw, questions = services.issue_draw(assignment=self.olives)
        answers = {q.pk: q.shown_choices[0].pk for q in questions}
        with self.assertRaisesMessage(Exception, str(services.UNKNOWN_DRAW)):
            services.submit_quiz(assignment=self.assignment, draw=draw, answers=answers)
        self.assertFalse(QuizAttempt.objects.exists())


class QuizQueryCountTests(EducationTestCase):
    """The quiz page costs the same however large the bank (pinned per query)."""

    def setUp(self):
        self.sign_in(self.pat)

    def grow_the_bank(self):
        """Publish the sleep module again with every question of its bank three times."""
        with tempfile.TemporaryDirectory() as folder:
            library = Path(folder)
            shutil.copytree(CONTENT_DIR / "sleep-medicines", library / "sleep-medicines")
            quiz_file = library / "sleep-medicines" / "quiz.toml"
            text = quiz_file.read_text()
            questions = text[text.index("[[questions]]") :]
            quiz_file.write_text(text + "\n" + questions + "\n" + questions)
            spanish_file = library / "sleep-medicines" / "quiz.es.toml"
            spanish = spanish_file.read_text()
            spanish_file.write_text(spanish + "\n" + spanish + "\n" + spanish)
            load_and_approve(library)
        self.assignment.module.refresh_from_db()
        self.assertEqual(self.assignment.module.current_version.questions.count(), 36)

    def assert_quiz_queries(self):
        # A version's bank (questions and choices) is read once per process.
        self.assignment.module.refresh_from_db()
        quiz_banks([self.assignment.module.current_version])
        # session, user, the assignment with its module and version, the latest draw with its
        # attempt, the new draw
        with self.assertNumQueries(5):
            self.client.get(self.url("quiz"))
        # the same, without the insert: the unanswered draw is shown again
        with self.assertNumQueries(4):
            self.client.get(self.url("quiz"))
        failing = self.answers(right=0)
        # 1 session, 2 user, 3 the assignment with its module and version, 4 the draw with
        # its attempt, 5 the attempt, 6 its answers, 7 the lock on the patient's progress
        # row, 8 its update
        with self.assertStatements(8):
            self.client.post(self.url("quiz"), failing)
        passing = self.answers()
        # The versions that count are read once per published version in each process.
        services._counting_floors_of.cache_clear()
        self.client.get(self.url("reader"))
        # as above, plus 9 one conditional update that completes the assignment if acknowledged
        with self.assertStatements(9):
            self.client.post(self.url("quiz"), passing)

    def test_a_versions_bank_is_read_once_per_process_in_one_query_for_many_versions(self):
        banks._BANKS.clear()  # as a new process starts
        versions = [module.current_version for module in Module.objects.select_related("current_version")]
        with self.assertNumQueries(1):
            read = quiz_banks(versions)
        with self.assertNumQueries(0):
            self.assertEqual(quiz_banks(versions), read)
        sleep = read[self.sleep.current_version_id]
        self.assertEqual(len(sleep.questions), self.sleep.current_version.questions.count())
        self.assertTrue(all(len(choices) >= 3 for choices in sleep.choices.values()))

    def test_at_the_shipped_bank_size(self):
        self.assert_quiz_queries()

    def test_at_three_times_the_bank_size(self):
        self.grow_the_bank()
        self.assert_quiz_queries()


class BlindGuessingTests(EducationTestCase):
    """A patient who does not read must not pass: each strategy, 200 attempts per module
    through the real quiz page, with the draw's random numbers seeded so a run replays.
    Ties go to the choice shown first."""

    ATTEMPTS = 200
    MAX_PASS_RATE = 0.05

    def guess_all(self, slug):
        quiz.RNG.seed(2026)
        module = Module.objects.get(slug=slug)
        strategies = {
            "always the first": lambda choices, rng: choices[0],
            "always the second": lambda choices, rng: choices[1],
            "always the longest": lambda choices, rng: max(choices, key=lambda c: len(c[1])),
            "uniformly random": lambda choices, rng: rng.choice(choices),
            "test-wise": lambda choices, rng: max(choices, key=lambda c: guess_score(c[1])),
        }
        rates = {}
        for name, pick in strategies.items():
            patient = PatientFactory(clinic=self.riverside)
            assignment = self.assign(patient, module)
            self.sign_in(patient)
            rng = random.Random(name)
            for _ in range(self.ATTEMPTS):
                page = self.client.get(self.url("quiz", assignment)).content.decode()
                data = {"draw": re.search(r'name="draw" value="([^"]+)"', page).group(1)}
                for question, choices in shown_choices(page).items():
                    data[question] = pick(choices, rng)[0]
                self.client.post(self.url("quiz", assignment), data)
            attempts = QuizAttempt.objects.filter(assignment=assignment)
            self.assertEqual(attempts.count(), self.ATTEMPTS)
            rates[name] = attempts.filter(passed=True).count() / self.ATTEMPTS
        for name, rate in rates.items():
            self.assertLessEqual(rate, self.MAX_PASS_RATE, f"{slug}: {name} passed {rate:.0%}: {rates}")

    def test_sleep_medicines(self):
        self.guess_all("sleep-medicines")

    def test_stopping_safely(self):
        self.guess_all("stopping-safely")

    def test_driving_and_machinery(self):
        self.guess_all("driving-and-machinery")

    def test_breathing_and_interactions(self):
        self.guess_all("breathing-and-interactions")

    def test_everyday_safety(self):
        self.guess_all("everyday-safety")

    def test_for_family_and_caregivers(self):
        self.guess_all("for-family-and-caregivers")

    def test_pregnancy_and_older_adults(self):
        self.guess_all("pregnancy-and-older-adults")

    def test_every_module_is_simulated(self):
        simulated = {
            name.removeprefix("test_").replace("_", "-") for name in dir(self) if name.startswith("test_")
        }
        self.assertLessEqual(set(Module.objects.values_list("slug", flat=True)), simulated)


# What a patient who knows quiz tricks but did not read might go by.
NAMES_HELP = re.compile(r"care team|prescriber|doctor|pharmacist|nurse|dentist|911|988|poison help", re.I)
HEDGE = re.compile(r"\b(?:only|because|since|as long as|fine|safe|just)\b", re.I)


def guess_score(text: str) -> int:
    """Prefer a choice that names the care team or an emergency number; avoid hedges."""
    return bool(NAMES_HELP.search(text)) - bool(HEDGE.search(text))


RADIO = re.compile(r'<input type="radio"[^>]*name="(question_\d+)" value="(\d+)"[^>]*id="([^"]+)"')


def shown_choices(page: str) -> dict[str, list[tuple[str, str]]]:
    """Each question's (choice id, label text) in the order the page shows them."""
    labels = dict(
        re.findall(r'<label for="([^"]+)" class="form-check-label">\s*(.*?)\s*</label>', page, re.S)
    )
    choices: dict[str, list[tuple[str, str]]] = {}
    for name, value, element_id in RADIO.findall(page):
        choices.setdefault(name, []).append((value, html.unescape(labels[element_id])))
    return choices


class DatabaseOutageTests(EducationTestCase):
    def test_a_database_outage_answers_503_says_nothing_was_saved_and_records_nothing(self):
        from django.db import OperationalError
        from django.test import Client

        client = Client(raise_request_exception=False)
        client.force_login(self.pat)
        data = self.answers()
        with mock.patch(
            "education.views.services.submit_quiz", side_effect=OperationalError("server closed")
        ):
            response = client.post(self.url("quiz"), data)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["Retry-After"], "60")
        self.assertContains(response, "nothing you sent was saved", status_code=503)
        self.assertContains(response, "call 911", status_code=503)
        self.assertFalse(QuizAttempt.objects.exists())
        # Once the database is back, the same page sends the same answers.
        self.assertEqual(client.post(self.url("quiz"), data).status_code, 302)
        self.assertEqual(QuizAttempt.objects.count(), 1)

    def test_any_other_error_is_still_a_500(self):
        from django.test import Client

        client = Client(raise_request_exception=False)
        client.force_login(self.pat)
        with mock.patch("education.views.services.issue_draw", side_effect=RuntimeError("bug")):
            response = client.get(self.url("quiz"))
        self.assertEqual(response.status_code, 500)
        self.assertContains(response, "Something went wrong", status_code=500)
