from django.db import DatabaseError, connection, transaction

from education import services
from education.models import Acknowledgment, Answer, Choice, Question, QuizAttempt, QuizDraw
from tests.education.base import EducationTestCase, publish_edit
from tests.services import postgresql_or_skip

CHANGE = ("Ask your care team about CBT-I.", "Ask your care team about CBT-I at your next visit.")


class NewVersionTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)

    def test_an_open_assignment_shows_the_new_version(self):
        publish_edit("sleep-medicines", *CHANGE)
        response = self.client.get(self.url("reader"))
        self.assertContains(response, "at your next visit")
        self.assertContains(response, "Version 2")

    def test_a_material_change_asks_for_a_fresh_acknowledgment(self):
        self.acknowledge()
        publish_edit("sleep-medicines", *CHANGE)
        self.pass_quiz()
        self.assignment.refresh_from_db()
        self.assertIsNone(self.assignment.completed_at)
        self.assertIsNone(services.progress(self.assignment).acknowledged_at)
        self.acknowledge()
        self.assignment.refresh_from_db()
        self.assertIsNotNone(self.assignment.completed_at)

    def test_a_minor_correction_keeps_the_earlier_acknowledgment(self):
        self.acknowledge()
        publish_edit("sleep-medicines", *CHANGE, material=False)
        self.pass_quiz()
        self.assignment.refresh_from_db()
        self.assertIsNotNone(self.assignment.completed_at)

    def test_earlier_records_keep_pointing_at_the_version_the_patient_saw(self):
        first = self.sleep.current_version
        self.pass_quiz()
        self.acknowledge()
        second = publish_edit("sleep-medicines", *CHANGE)
        self.assignment.refresh_from_db()
        self.assertIsNotNone(self.assignment.completed_at)  # completed stays completed
        self.assertEqual(Acknowledgment.objects.get().version, first)
        self.assertEqual(QuizAttempt.objects.get().version, first)
        self.assertNotEqual(first, second)

    def test_a_quiz_page_opened_before_an_update_is_refused_and_records_nothing(self):
        stale_answers = self.answers()
        publish_edit("sleep-medicines", *CHANGE)
        response = self.client.post(self.url("quiz"), stale_answers, follow=True)
        self.assertRedirects(response, self.url("reader"))
        self.assertContains(response, "This module was updated while you had it open", count=1)
        self.assertFalse(QuizAttempt.objects.exists())

    def test_the_service_refuses_a_version_that_is_no_longer_current(self):
        old = self.sleep.current_version
        publish_edit("sleep-medicines", *CHANGE)
        self.assignment.module.refresh_from_db()
        with self.assertRaisesMessage(Exception, "updated while you had it open"):
            services.acknowledge(
                assignment=self.assignment,
                version=old,
                typed_name="Pat Patient",
                ip_address=None,
                user_agent="",
            )
        self.assertFalse(Acknowledgment.objects.exists())


class AppendOnlyOnPostgresqlTests(EducationTestCase):
    def setUp(self):
        postgresql_or_skip(connection)
        self.sign_in(self.pat)
        self.acknowledge()

    def test_the_database_refuses_to_update_an_acknowledgment(self):
        with self.assertRaisesMessage(DatabaseError, "append-only"), transaction.atomic():
            Acknowledgment.objects.update(typed_name="Someone Else")

    def test_the_database_refuses_to_delete_a_quiz_answer(self):
        self.pass_quiz()
        with self.assertRaisesMessage(DatabaseError, "append-only"), transaction.atomic():
            Answer.objects.all().delete()

    def test_the_database_refuses_to_change_published_content(self):
        with self.assertRaisesMessage(DatabaseError, "append-only"), transaction.atomic():
            type(self.sleep.current_version).objects.update(title="Changed")

    def test_the_database_refuses_to_change_a_question_a_choice_or_a_draw(self):
        self.pass_quiz()
        services.issue_draw(assignment=self.assignment)  # one not answered, so nothing protects it
        for change in (
            lambda: Question.objects.update(concept="changed"),
            lambda: Choice.objects.filter(is_correct=False).update(is_correct=True),
            lambda: QuizDraw.objects.update(layout=[]),
            lambda: QuizDraw.objects.filter(attempt__isnull=True).delete(),
        ):
            with self.assertRaisesMessage(DatabaseError, "append-only"), transaction.atomic():
                change()

    def test_the_database_refuses_to_change_or_delete_a_decision_on_a_version(self):
        review = self.sleep.current_version.review
        with self.assertRaisesMessage(DatabaseError, "append-only"), transaction.atomic():
            type(review).objects.filter(pk=review.pk).update(reviewer_name="Someone Else")
        with self.assertRaisesMessage(DatabaseError, "append-only"), transaction.atomic():
            type(review).objects.filter(pk=review.pk).delete()
