import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from education.models import Acknowledgment, Assignment, Module, QuizAttempt
from tests.education.base import EducationTestCase
from tests.factories import PatientFactory


class MyModulesTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)

    def test_it_lists_the_patients_own_modules_only(self):
        response = self.client.get(reverse("education:my_modules"))
        self.assertContains(response, self.sleep.title)
        self.assertNotContains(response, self.driving.title)

    def test_newest_due_date_comes_first(self):
        later = self.assign(self.pat, self.driving, due_date=self.in_a_week + datetime.timedelta(days=7))
        response = self.client.get(reverse("education:my_modules"))
        self.assertEqual([a.pk for a in response.context["assignments"]], [later.pk, self.assignment.pk])

    def test_it_shows_new_in_progress_overdue_and_completed(self):
        breathing = Module.objects.get(slug="breathing-and-interactions")
        stopping = Module.objects.get(slug="stopping-safely")
        self.assign(self.pat, self.driving, due_date=datetime.date(2020, 1, 1))
        opened = self.assign(self.pat, breathing)
        Assignment.objects.filter(pk=opened.pk).update(opened_at=timezone.now())
        done = self.assign(self.pat, stopping)
        Assignment.objects.filter(pk=done.pk).update(completed_at=timezone.now())
        response = self.client.get(reverse("education:my_modules"))
        statuses = {a.module.slug: a.status for a in response.context["assignments"]}
        self.assertEqual(
            statuses,
            {
                "sleep-medicines": "new",
                "driving-and-machinery": "overdue",
                "breathing-and-interactions": "in_progress",
                "stopping-safely": "completed",
            },
        )
        self.assertContains(response, "Overdue")
        self.assertContains(response, "Completed")

    def test_a_cancelled_module_is_not_listed(self):
        Assignment.objects.filter(pk=self.assignment.pk).update(cancelled_at=timezone.now())
        self.assertNotContains(self.client.get(reverse("education:my_modules")), self.sleep.title)

    def test_its_query_count_does_not_grow_with_the_number_of_assignments(self):
        # 1 session, 2 user with their clinic (for today's date), 3 assignments with module
        # and version
        with self.assertNumQueries(3):
            self.client.get(reverse("education:my_modules"))
        for module in Module.objects.exclude(pk=self.sleep.pk):
            self.assign(self.pat, module)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(reverse("education:my_modules"))
        self.assertEqual(len(queries), 3)
        self.assertEqual(len(response.context["assignments"]), Module.objects.count())

    def test_a_clinician_gets_a_404(self):
        self.sign_in(self.alice)
        self.assertEqual(self.client.get(reverse("education:my_modules")).status_code, 404)


class ReaderTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)

    def test_it_shows_the_current_version_with_its_sources(self):
        response = self.client.get(self.url("reader"))
        heading = "What works best for sleep problems that last"
        anchor = "what-works-best-for-sleep-problems-that-last"
        self.assertContains(response, f'<h2 id="{anchor}">{heading}</h2>', html=True)
        self.assertContains(response, "Qaseem A")
        self.assertContains(response, "Version 1")

    def test_the_first_view_marks_the_assignment_opened_and_later_views_change_nothing(self):
        self.client.get(self.url("reader"))
        self.assignment.refresh_from_db()
        first_opened = self.assignment.opened_at
        self.assertIsNotNone(first_opened)
        self.client.get(self.url("reader"))
        self.assignment.refresh_from_db()
        self.assertEqual(self.assignment.opened_at, first_opened)

    def test_the_breathing_module_shows_emergency_steps_first(self):
        breathing = self.assign(self.pat, Module.objects.get(slug="breathing-and-interactions"))
        response = self.client.get(self.url("reader", breathing))
        self.assertContains(response, "In an emergency")
        self.assertContains(response, "1-800-222-1222")

    def test_another_patients_module_is_a_404(self):
        self.assertEqual(self.client.get(self.url("reader", self.olives)).status_code, 404)
        self.olives.refresh_from_db()
        self.assertIsNone(self.olives.opened_at)

    def test_a_cancelled_module_is_a_404(self):
        Assignment.objects.filter(pk=self.assignment.pk).update(cancelled_at=timezone.now())
        self.assertEqual(self.client.get(self.url("reader")).status_code, 404)

    def test_an_anonymous_visitor_is_asked_to_sign_in(self):
        self.client.logout()
        url = self.url("reader")
        self.assertRedirects(self.client.get(url), f"/accounts/login/?next={url}")

    def test_its_query_count_does_not_grow_with_the_number_of_assignments(self):
        self.client.get(self.url("reader"))  # the first view also records the opening
        # 1 session, 2 user with clinic, 3 the assignment with module and version, 4 its
        # acknowledgments, 5 its attempts (which count is decided from the published
        # versions, read once per version in each process)
        with self.assertNumQueries(5):
            self.client.get(self.url("reader"))
        for module in Module.objects.exclude(pk=self.sleep.pk):
            self.assign(self.pat, module)
        for patient in PatientFactory.create_batch(5, clinic=self.riverside):
            self.assign(patient, self.sleep)
        self.pass_quiz()
        with self.assertNumQueries(5):
            self.client.get(self.url("reader"))

    def test_it_refuses_a_post(self):
        self.assertEqual(self.client.post(self.url("reader")).status_code, 405)


class QuizTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)
        self.version = self.sleep.current_version

    def test_the_quiz_page_asks_five_questions_from_the_bank(self):
        response = self.client.get(self.url("quiz"))
        self.assertEqual(response.content.decode().count("<legend"), 5)
        self.assertContains(response, "at least 80% right")

    def test_all_right_passes_and_shows_the_result(self):
        response = self.client.post(self.url("quiz"), self.answers())
        attempt = QuizAttempt.objects.get()
        self.assertRedirects(response, reverse("education:quiz_result", args=[attempt.code]))
        self.assertEqual((attempt.score, attempt.passed, attempt.version), (100, True, self.version))
        self.assertEqual(attempt.answers.count(), 5)

    def test_four_of_five_is_80_percent_and_passes(self):
        self.client.post(self.url("quiz"), self.answers(right=4))
        attempt = QuizAttempt.objects.get()
        self.assertEqual((attempt.correct_count, attempt.score, attempt.passed), (4, 80, True))

    def test_three_of_five_fails(self):
        self.client.post(self.url("quiz"), self.answers(right=3))
        self.assertFalse(QuizAttempt.objects.get().passed)

    def test_a_pass_shows_each_choice_the_right_answer_and_the_explanations(self):
        data = self.answers(right=4, positions=[1, 3, 5, 7, 9])
        response = self.client.post(self.url("quiz"), data, follow=True)
        self.assertContains(response, "You passed")
        self.assertContains(response, "4 of 5")
        missed = self.version.questions.get(position=9)
        picked = missed.choices.filter(is_correct=False).first()
        right = missed.choices.get(is_correct=True)
        self.assertContains(response, f"Your answer: {escape(picked.text)}")
        self.assertContains(response, escape(picked.explanation))
        self.assertContains(response, f"Right answer: <strong>{escape(right.text)}</strong>")
        self.assertContains(response, escape(right.explanation))

    def test_an_empty_quiz_is_refused_with_a_message_on_every_question(self):
        empty = {"draw": self.answers()["draw"]}
        response = self.client.post(self.url("quiz"), empty)
        self.assertContains(response, "Please choose an answer to this question.", count=5)
        self.assertFalse(QuizAttempt.objects.exists())

    def test_a_missing_answer_is_refused(self):
        data = self.answers()
        del data[next(key for key in data if key.startswith("question_"))]
        self.client.post(self.url("quiz"), data)
        self.assertFalse(QuizAttempt.objects.exists())

    def test_a_choice_from_another_question_is_refused(self):
        data = self.answers()
        first, second = [key for key in data if key.startswith("question_")][:2]
        data[first] = data[second]
        response = self.client.post(self.url("quiz"), data)
        self.assertContains(response, "Select a valid choice")
        self.assertFalse(QuizAttempt.objects.exists())

    def test_a_choice_from_another_module_is_refused(self):
        data = self.answers()
        first = next(key for key in data if key.startswith("question_"))
        data[first] = str(self.driving.current_version.questions.first().choices.first().pk)
        self.client.post(self.url("quiz"), data)
        self.assertFalse(QuizAttempt.objects.exists())

    def test_the_same_page_submitted_twice_records_one_attempt(self):
        data = self.answers()
        first = self.client.post(self.url("quiz"), data)
        second = self.client.post(self.url("quiz"), data)
        self.assertEqual(QuizAttempt.objects.count(), 1)
        self.assertEqual(first.url, second.url)

    def test_retakes_are_kept_as_separate_attempts(self):
        self.client.post(self.url("quiz"), self.answers(right=2))
        self.client.post(self.url("quiz"), self.answers())
        self.assertEqual(
            list(QuizAttempt.objects.order_by("submitted_at").values_list("passed", flat=True)), [False, True]
        )

    def test_another_patients_quiz_is_a_404_and_records_nothing(self):
        response = self.client.post(self.url("quiz", self.olives), self.answers(self.olives))
        self.assertEqual(response.status_code, 404)
        self.assertFalse(QuizAttempt.objects.exists())

    def test_another_patients_result_is_a_404(self):
        self.sign_in(self.olive)
        self.client.post(self.url("quiz", self.olives), self.answers(self.olives))
        attempt = QuizAttempt.objects.get()
        self.sign_in(self.pat)
        self.assertEqual(
            self.client.get(reverse("education:quiz_result", args=[attempt.code])).status_code, 404
        )

    def test_a_cancelled_assignment_records_nothing(self):
        Assignment.objects.filter(pk=self.assignment.pk).update(cancelled_at=timezone.now())
        response = self.client.post(self.url("quiz"), self.answers())
        self.assertEqual(response.status_code, 404)
        self.assertFalse(QuizAttempt.objects.exists())

    def test_wrong_methods_are_refused(self):
        self.assertEqual(self.client.put(self.url("quiz")).status_code, 405)
        self.assertEqual(
            self.client.post(reverse("education:quiz_result", args=[self.pat.code])).status_code, 405
        )


class AcknowledgmentTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)

    def test_it_records_the_exact_version_statement_name_address_and_browser(self):
        self.client.post(
            self.url("acknowledge"),
            {"confirm": "on", "typed_name": "  pat   PATIENT "},
            HTTP_USER_AGENT="TestBrowser/1.0",
            REMOTE_ADDR="203.0.113.9",
        )
        ack = Acknowledgment.objects.get()
        version = self.sleep.current_version
        self.assertEqual((ack.version, ack.content_hash), (version, version.content_hash))
        self.assertIn("I have read and understood this information", ack.statement)
        self.assertEqual(
            (ack.typed_name, ack.ip_address, ack.user_agent),
            ("pat PATIENT", "203.0.113.9", "TestBrowser/1.0"),
        )

    def test_a_name_that_does_not_match_is_refused(self):
        response = self.acknowledge(name="Someone Else")
        self.assertContains(response, "Type your full name exactly as it is on your account")
        self.assertFalse(Acknowledgment.objects.exists())

    def test_the_statement_must_be_ticked(self):
        response = self.client.post(self.url("acknowledge"), {"typed_name": "Pat Patient"})
        self.assertContains(response, "Tick the box to confirm the statement")
        self.assertFalse(Acknowledgment.objects.exists())

    def test_acknowledging_twice_keeps_one_record(self):
        self.acknowledge()
        self.acknowledge()
        self.assertEqual(Acknowledgment.objects.count(), 1)

    def test_another_patients_acknowledgment_page_is_a_404(self):
        response = self.acknowledge(assignment=self.olives, name="Pat Patient")
        self.assertEqual(response.status_code, 404)
        self.assertFalse(Acknowledgment.objects.exists())


class CompletionTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)

    def completed(self):
        self.assignment.refresh_from_db()
        return self.assignment.completed_at is not None

    def test_quiz_then_acknowledgment_completes(self):
        self.pass_quiz()
        self.assertFalse(self.completed())
        self.acknowledge()
        self.assertTrue(self.completed())

    def test_acknowledgment_then_quiz_completes(self):
        self.acknowledge()
        self.assertFalse(self.completed())
        self.pass_quiz()
        self.assertTrue(self.completed())

    def test_a_failed_quiz_does_not_complete(self):
        self.acknowledge()
        self.client.post(self.url("quiz"), self.answers(right=1))
        self.assertFalse(self.completed())

    def test_a_completed_module_stays_readable_and_listed_as_completed(self):
        self.pass_quiz()
        self.acknowledge()
        self.assertContains(self.client.get(self.url("reader")), "You completed this module")
        self.assertContains(self.client.get(reverse("education:my_modules")), "Completed")
