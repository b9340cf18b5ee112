"""Questions for the visit: asked by the patient while reading or after a quiz, withdrawn
by them, seen and marked answered by their clinicians, never anywhere else."""

import datetime
from io import BytesIO

from django.core import mail
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from education import services
from education.models import Assignment, VisitQuestion
from portal.models import AuditEvent
from portal.tasks import send_due_reminders, send_visit_digests
from tests.education.base import EducationTestCase
from tests.factories import VisitFactory
from tests.services import eager_celery


class AskingTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)
        self.section = next(iter(self.sleep.current_version.sections))

    def ask(self, text="Can I take it with my allergy pill?", section=None, assignment=None):
        section = self.section if section is None else section
        return self.client.post(
            reverse("education:ask_question", args=[(assignment or self.assignment).code]),
            {"text": text, "section": section},
        )

    def test_every_section_of_the_reader_has_an_ask_at_my_visit_form(self):
        response = self.client.get(self.url("reader"))
        sections = self.sleep.current_version.sections
        for anchor in sections:
            self.assertContains(response, f'<input type="hidden" name="section" value="{anchor}">', html=True)
        self.assertContains(response, "Ask at my visit", count=len(sections))

    def test_a_question_is_kept_with_its_module_and_section_and_the_patient_returns_there(self):
        response = self.ask()
        self.assertRedirects(response, f"{self.url('reader')}#{self.section}")
        question = VisitQuestion.objects.get()
        self.assertEqual(
            (question.assignment, question.section, question.section_title, question.text),
            (
                self.assignment,
                self.section,
                self.sleep.current_version.sections[self.section],
                "Can I take it with my allergy pill?",
            ),
        )
        listed = self.client.get(reverse("education:my_questions"))
        self.assertContains(listed, "Can I take it with my allergy pill?")
        self.assertContains(listed, "Withdraw")

    def test_the_quiz_result_offers_the_form_for_the_module_as_a_whole(self):
        attempt_url = self.pass_quiz()["Location"]
        self.assertContains(
            self.client.get(attempt_url), '<input type="hidden" name="section" value="">', html=True
        )
        self.assertRedirects(self.ask(section=""), self.url("reader"))
        self.assertEqual(VisitQuestion.objects.get().section_title, "")

    def test_an_empty_question_is_refused_with_a_message_and_nothing_kept(self):
        response = self.ask(text="   ")
        self.assertContains(response, "Write your question first.", status_code=400)
        self.assertFalse(VisitQuestion.objects.exists())

    def test_an_over_long_question_is_refused_with_its_length_and_kept_on_the_page(self):
        text = "Why " * 130  # 520 characters
        response = self.ask(text=text)
        self.assertContains(response, "Keep your question to 500 characters or fewer", status_code=400)
        self.assertContains(response, "Why Why Why", status_code=400)
        self.assertFalse(VisitQuestion.objects.exists())

    def test_line_breaks_count_as_one_character_as_the_box_counts_them(self):
        text = ("Line\r\n" * 100).strip()  # 499 characters in the box, 598 as sent
        self.assertRedirects(self.ask(text=text), f"{self.url('reader')}#{self.section}")
        self.assertEqual(len(VisitQuestion.objects.get().text), 499)

    def test_asked_from_the_quiz_result_it_returns_to_the_result(self):
        result = self.pass_quiz()["Location"]
        response = self.client.post(
            reverse("education:ask_question", args=[self.assignment.code]),
            {"text": "Why was question 2 wrong?", "section": "", "next": result},
        )
        self.assertRedirects(response, result)

    def test_an_unknown_section_is_refused(self):
        response = self.ask(section="not-a-heading")
        self.assertContains(response, "That part of the module was not found", status_code=400)
        self.assertFalse(VisitQuestion.objects.exists())

    def test_a_question_on_someone_elses_module_is_a_404(self):
        self.assertEqual(self.ask(assignment=self.olives, section="").status_code, 404)
        self.assertFalse(VisitQuestion.objects.exists())

    def test_the_words_are_shown_as_text_never_as_markup(self):
        self.ask(text='<script>alert("x")</script> is it safe?')
        listed = self.client.get(reverse("education:my_questions"))
        self.assertNotContains(listed, '<script>alert("x")</script>')
        self.assertContains(listed, "&lt;script&gt;")


class WithdrawingTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)
        self.question = services.ask_question(
            assignment=self.assignment, section="", text="Is it habit-forming?"
        )

    def withdraw(self, question=None):
        return self.client.post(
            reverse("education:withdraw_question", args=[(question or self.question).code])
        )

    def test_the_patient_withdraws_an_open_question_and_it_is_kept_as_withdrawn(self):
        self.assertRedirects(self.withdraw(), reverse("education:my_questions"))
        self.question.refresh_from_db()
        self.assertIsNotNone(self.question.withdrawn_at)
        listed = self.client.get(reverse("education:my_questions"))
        self.assertContains(listed, "Withdrawn")
        self.assertNotContains(listed, "Withdraw<span")

    def test_withdrawing_twice_changes_nothing_the_second_time(self):
        self.withdraw()
        self.question.refresh_from_db()
        first = self.question.withdrawn_at
        response = self.withdraw()
        self.assertRedirects(response, reverse("education:my_questions"))
        self.question.refresh_from_db()
        self.assertEqual(self.question.withdrawn_at, first)

    def test_someone_elses_question_is_a_404_and_stays_open(self):
        theirs = services.ask_question(assignment=self.olives, section="", text="Olive's question")
        self.assertEqual(self.withdraw(theirs).status_code, 404)
        theirs.refresh_from_db()
        self.assertTrue(theirs.is_open)

    def test_a_clinician_cannot_withdraw_for_the_patient(self):
        self.sign_in(self.alice)
        self.assertEqual(self.withdraw().status_code, 404)


class ClinicianTests(EducationTestCase):
    def setUp(self):
        self.question = services.ask_question(
            assignment=self.assignment, section="", text="Can I stop if I feel better? <b>soon</b>"
        )
        self.visit = VisitFactory(patient=self.pat, clinician=self.alice, assignments=[self.assignment])
        self.sign_in(self.alice)

    def test_the_visit_summary_opens_with_the_questions_as_its_agenda_escaped(self):
        response = self.client.get(reverse("portal:visit_summary", args=[self.visit.code]))
        page = response.content.decode()
        self.assertIn("Patient's questions for the visit (1)", page)
        self.assertIn("Can I stop if I feel better? &lt;b&gt;soon&lt;/b&gt;", page)
        self.assertLess(page.index("questions for the visit"), page.index(self.sleep.title))

    def test_viewing_the_questions_is_on_the_audit_trail_without_their_words(self):
        self.client.get(reverse("portal:visit_summary", args=[self.visit.code]))
        self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        details = list(
            AuditEvent.objects.filter(patient=self.pat, actor=self.alice).values_list("action", "detail")
        )
        self.assertIn((AuditEvent.Action.PATIENT_VIEWED, "1 question(s) for the visit shown"), details)
        self.assertIn(
            (
                AuditEvent.Action.VISIT_SUMMARY_VIEWED,
                f"visit {self.visit.code}; 1 question(s) for the visit shown",
            ),
            details,
        )
        self.assertFalse(AuditEvent.objects.filter(detail__icontains="feel better").exists())

    def test_the_pdf_carries_the_agenda(self):
        response = self.client.get(reverse("portal:visit_pdf", args=[self.visit.code]))
        text = " ".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
        self.assertIn("questions for this visit", text)
        self.assertIn("Can I stop if I feel better? <b>soon</b>", text)

    def test_marking_answered_returns_to_the_page_and_takes_it_off_the_agenda(self):
        summary = reverse("portal:visit_summary", args=[self.visit.code])
        response = self.client.post(
            reverse("portal:question_answered", args=[self.question.code]), {"next": summary}
        )
        self.assertRedirects(response, summary)
        self.question.refresh_from_db()
        self.assertEqual(self.question.answered_by, self.alice)
        self.assertContains(self.client.get(summary), "No open questions.")
        patient_page = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.assertContains(patient_page, "Answered questions (1)")
        self.assertTrue(
            AuditEvent.objects.filter(action=AuditEvent.Action.QUESTION_ANSWERED, patient=self.pat).exists()
        )

    def test_an_outside_address_to_return_to_is_ignored(self):
        response = self.client.post(
            reverse("portal:question_answered", args=[self.question.code]), {"next": "https://evil.example/"}
        )
        self.assertRedirects(response, reverse("portal:patient_detail", args=[self.pat.code]))

    def test_a_withdrawn_question_is_not_shown_to_the_clinician(self):
        services.withdraw_question(question=self.question)
        response = self.client.get(reverse("portal:visit_summary", args=[self.visit.code]))
        self.assertNotContains(response, "feel better")

    def test_another_clinics_clinician_gets_a_404_and_changes_nothing(self):
        self.sign_in(self.charlie)
        response = self.client.post(reverse("portal:question_answered", args=[self.question.code]))
        self.assertEqual(response.status_code, 404)
        self.question.refresh_from_db()
        self.assertTrue(self.question.is_open)

    def test_questions_never_go_out_in_an_email(self):
        tomorrow = timezone.now().replace(hour=10, minute=0) + datetime.timedelta(days=1)
        VisitFactory(patient=self.pat, clinician=self.alice, scheduled_at=tomorrow)
        Assignment.objects.filter(pk=self.assignment.pk).update(due_date=timezone.localdate())
        with eager_celery():
            send_visit_digests.delay().get()
            send_due_reminders.delay().get()
        self.assertEqual(len(mail.outbox), 2, "the clinician's digest and the patient's reminder")
        for message in mail.outbox:
            self.assertNotIn("feel better", message.body + message.alternatives[0][0], message.subject)


class AppendOnlyTests(EducationTestCase):
    """On PostgreSQL the database keeps a question's words and its one closing."""

    def setUp(self):
        if connection.vendor != "postgresql":
            self.skipTest("Runs on PostgreSQL only: set DATABASE_URL to a PostgreSQL database.")
        self.question = services.ask_question(assignment=self.assignment, section="", text="First words")

    def refused(self, **change):
        refusal = "may only withdraw or answer a question, once"
        with self.assertRaisesMessage(DatabaseError, refusal), transaction.atomic():
            VisitQuestion.objects.filter(pk=self.question.pk).update(**change)

    def test_the_words_cannot_be_changed_nor_the_row_deleted(self):
        self.refused(text="Other words")
        with self.assertRaisesMessage(DatabaseError, "questions are kept"), transaction.atomic():
            VisitQuestion.objects.filter(pk=self.question.pk).delete()

    def test_a_closed_question_cannot_be_reopened_nor_closed_again_the_other_way(self):
        services.withdraw_question(question=self.question)
        self.refused(withdrawn_at=None)
        self.refused(answered_at=timezone.now(), answered_by=self.alice)

    def test_an_answer_needs_who_answered(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            VisitQuestion.objects.filter(pk=self.question.pk).update(answered_at=timezone.now())
