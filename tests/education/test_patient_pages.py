import datetime
from zoneinfo import ZoneInfo

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

    def listed(self, response):
        modules = response.context["modules"]
        return [a.module.slug for a in modules.to_do], [a.module.slug for a in modules.done]

    def test_soonest_due_comes_first_so_overdue_ones_lead_and_done_ones_come_last(self):
        breathing = Module.objects.get(slug="breathing-and-interactions")
        later = self.assign(self.pat, self.driving, due_date=self.in_a_week + datetime.timedelta(days=7))
        self.assign(self.pat, breathing, due_date=datetime.date(2020, 1, 1))
        done = self.assign(self.pat, Module.objects.get(slug="stopping-safely"))
        Assignment.objects.filter(pk=done.pk).update(completed_at=timezone.now())
        response = self.client.get(reverse("education:my_modules"))
        self.assertEqual(
            self.listed(response),
            (["breathing-and-interactions", "sleep-medicines", later.module.slug], ["stopping-safely"]),
        )
        self.assertContains(response, "1 of 4 done")
        self.assertContains(response, '<progress class="modules-done mb-3" value="1" max="4"', html=False)
        # The top of the page names the overdue module and starts it.
        top = response.content.decode().split('aria-label="Your next step"', 1)[1].split("</section>", 1)[0]
        self.assertIn(escape(breathing.title), top)
        self.assertIn("Overdue", top)

    def test_each_card_has_one_button_named_for_the_next_step(self):
        breathing = self.assign(self.pat, Module.objects.get(slug="breathing-and-interactions"))
        stopping = self.assign(self.pat, Module.objects.get(slug="stopping-safely"))
        driving = self.assign(self.pat, self.driving)
        Assignment.objects.filter(pk=breathing.pk).update(opened_at=timezone.now())
        self.pass_quiz(stopping)  # passed, not confirmed
        self.client.post(self.url("quiz", driving), self.answers(driving, right=0))  # tried, not passed
        response = self.client.get(reverse("education:my_modules"))
        steps = {a.module.slug: a.step for a in response.context["modules"].to_do}
        self.assertEqual(
            steps,
            {
                "sleep-medicines": "Start",
                "breathing-and-interactions": "Continue",
                "stopping-safely": "Confirm",
                "driving-and-machinery": "Take the quiz",
            },
        )
        page = response.content.decode()
        self.assertRegex(
            page, rf'href="{self.url("acknowledge", stopping)}" aria-label="Confirm you read [^"]+">Confirm<'
        )
        self.assertRegex(
            page, rf'href="{self.url("quiz", driving)}" aria-label="Take the quiz: [^"]+">Take the quiz<'
        )
        self.assertRegex(page, rf'href="{self.url("reader")}" aria-label="Start: [^"]+">Start<')

    def test_completed_ones_are_collapsed_under_done_with_a_review_button(self):
        self.pass_quiz()
        self.acknowledge()
        response = self.client.get(reverse("education:my_modules"))
        self.assertEqual(self.listed(response), ([], ["sleep-medicines"]))
        self.assertContains(response, "All done for now")
        self.assertContains(response, "Done (1)")
        self.assertRegex(
            response.content.decode(), rf'href="{self.url("reader")}" aria-label="Review: [^"]+">Review<'
        )

    def test_it_shows_new_in_progress_overdue_and_completed(self):
        breathing = Module.objects.get(slug="breathing-and-interactions")
        stopping = Module.objects.get(slug="stopping-safely")
        self.assign(self.pat, self.driving, due_date=datetime.date(2020, 1, 1))
        opened = self.assign(self.pat, breathing)
        Assignment.objects.filter(pk=opened.pk).update(opened_at=timezone.now())
        done = self.assign(self.pat, stopping)
        Assignment.objects.filter(pk=done.pk).update(completed_at=timezone.now())
        response = self.client.get(reverse("education:my_modules"))
        modules = response.context["modules"]
        statuses = {a.module.slug: a.status for a in [*modules.to_do, *modules.done]}
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
        self.client.get(reverse("education:my_modules"))  # reads each version's floors once per process
        # 1 session, 2 user with their clinic (for today's date), 3 assignments with module,
        # version and what decides each next step (attempts, passes, acknowledgments)
        with self.assertNumQueries(3):
            self.client.get(reverse("education:my_modules"))
        for module in Module.objects.exclude(pk=self.sleep.pk):
            self.assign(self.pat, module)
            self.client.get(reverse("education:my_modules"))  # the new module's floors
        self.pass_quiz()
        self.client.post(self.url("quiz"), self.answers(right=0))
        # 4 the quiz attempts of all of them, for each card's past attempts (only once one
        # was taken)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(reverse("education:my_modules"))
        self.assertEqual(len(queries), 4)
        self.assertEqual(response.context["modules"].total, Module.objects.count())

    def test_each_card_lists_its_past_attempts_linking_to_their_results(self):
        self.client.post(self.url("quiz"), self.answers(right=0))
        self.pass_quiz()
        response = self.client.get(reverse("education:my_modules"))
        self.assertContains(response, "Past quiz attempts (2)")
        for attempt in QuizAttempt.objects.filter(assignment=self.assignment):
            self.assertContains(response, reverse("education:quiz_result", args=[attempt.code]))

    def test_past_attempts_show_the_clinics_local_time(self):
        self.pat.clinic.time_zone = "America/Chicago"
        self.pat.clinic.save(update_fields=["time_zone"])
        self.pass_quiz()
        taken = QuizAttempt.objects.get(assignment=self.assignment).submitted_at
        chicago, utc = taken.astimezone(ZoneInfo("America/Chicago")), taken.astimezone(datetime.UTC)
        page = self.client.get(reverse("education:my_modules")).content.decode()
        self.assertIn(f"{chicago.day} {chicago:%B %Y, %H:%M}</a>: 100%, passed", page)
        self.assertNotIn(f"{utc.day} {utc:%B %Y, %H:%M}</a>", page)

    def test_an_updated_module_says_so_and_leads_to_reviewing_it(self):
        self.pass_quiz()
        self.acknowledge()
        Assignment.objects.filter(pk=self.assignment.pk).update(reacknowledge_since=timezone.now())
        response = self.client.get(reverse("education:my_modules"))
        self.assertEqual(self.listed(response), (["sleep-medicines"], []))
        self.assertContains(response, '<span class="badge text-bg-warning">Updated: please review</span>')
        review = f'href="{self.url("reader")}" aria-label="Review: {escape(self.sleep.title)}"'
        self.assertContains(response, f'<a class="btn btn-primary" {review}>')

    def test_a_title_is_shown_as_text_on_the_button_and_the_attempts(self):
        Module.objects.filter(pk=self.sleep.pk).update(title='Sleep <b>"now"</b>')
        self.client.post(self.url("quiz"), self.answers(right=0))
        page = self.client.get(reverse("education:my_modules")).content.decode()
        self.assertIn('aria-label="Take the quiz: Sleep &lt;b&gt;&quot;now&quot;&lt;/b&gt;"', page)
        self.assertIn("for Sleep &lt;b&gt;&quot;now&quot;&lt;/b&gt;</span>", page)
        self.assertNotIn("<b>", page)

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
        # Exactly what was typed, spaces and case included.
        self.assertEqual(
            (ack.typed_name, ack.ip_address, ack.user_agent),
            ("  pat   PATIENT ", "203.0.113.9", "TestBrowser/1.0"),
        )

    def test_the_page_shows_the_name_to_type(self):
        self.assertContains(self.client.get(self.url("acknowledge")), "Type your name: Pat Patient")

    def test_a_name_that_does_not_match_is_refused(self):
        response = self.acknowledge(name="Someone Else")
        self.assertContains(
            response, "This is not the name on your account. Type Pat Patient", status_code=400
        )
        self.assertFalse(Acknowledgment.objects.exists())

    def test_a_blank_name_is_refused(self):
        response = self.acknowledge(name="   ")
        self.assertContains(response, "Type your name to confirm.", status_code=400)
        self.assertFalse(Acknowledgment.objects.exists())

    def test_accents_hyphens_apostrophes_and_spaces_do_not_matter(self):
        for account_name, typed in (
            ("José García", "jose garcia"),
            ("Mary-Ann O’Brien", "Mary Ann OBrien"),
            ("Zoë d'Arcy-Núñez", "  ZOE DARCY NUNEZ "),
            ("Søren Łukasz", "Soren Lukasz"),
        ):
            with self.subTest(account_name):
                patient = PatientFactory(clinic=self.riverside, full_name=account_name)
                assignment = self.assign(patient, self.sleep)
                self.sign_in(patient)
                response = self.acknowledge(assignment=assignment, name=typed)
                self.assertRedirects(response, self.url("acknowledge", assignment))
                self.assertEqual(Acknowledgment.objects.get(assignment=assignment).typed_name, typed)

    def test_letters_still_matter(self):
        patient = PatientFactory(clinic=self.riverside, full_name="José García")
        assignment = self.assign(patient, self.sleep)
        self.sign_in(patient)
        self.assertEqual(self.acknowledge(assignment=assignment, name="Josh Garcia").status_code, 400)
        self.assertFalse(Acknowledgment.objects.filter(assignment=assignment).exists())

    def test_after_confirming_the_page_offers_the_receipt_and_the_next_step(self):
        self.pass_quiz()
        later = self.assign(self.pat, self.driving, due_date=self.in_a_week + datetime.timedelta(days=3))
        response = self.acknowledge()
        self.assertRedirects(response, self.url("acknowledge"))
        page = self.client.get(self.url("acknowledge"))
        ack = Acknowledgment.objects.get()
        self.assertContains(page, reverse("education:receipt", args=[ack.code]))
        self.assertContains(page, f"Next: <strong>{later.module.title}</strong>", html=False)
        self.assertContains(page, "Back to my modules")
        self.assertNotContains(page, "All done for now")

    def test_after_the_last_module_it_says_all_done_for_now(self):
        self.pass_quiz()
        self.acknowledge()
        self.assertContains(self.client.get(self.url("acknowledge")), "All done for now")

    def test_the_statement_must_be_ticked(self):
        response = self.client.post(self.url("acknowledge"), {"typed_name": "Pat Patient"})
        self.assertContains(response, "Tick the box to confirm the statement", status_code=400)
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
