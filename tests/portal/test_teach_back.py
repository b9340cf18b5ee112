"""Teach-back: at or after a visit, the clinician records per module whether the patient
explained it back, and "needs review" assigns the module again in one click."""

import datetime

from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from education.models import Assignment, Module
from portal.models import AuditEvent, FollowUpVisit, TeachBack
from tests.education.base import EducationTestCase
from tests.factories import VisitFactory
from tests.services import postgresql_or_skip

NEEDS_REVIEW, EXPLAINED = TeachBack.Outcome.NEEDS_REVIEW, TeachBack.Outcome.EXPLAINED


class TeachBackTestCase(EducationTestCase):
    def setUp(self):
        self.breathing = Module.objects.get(slug="breathing-and-interactions")
        self.second = self.assign(self.pat, self.breathing)
        # The visit is today, an hour ago: teach-back is recorded at or after it.
        self.visit = VisitFactory(
            patient=self.pat, clinician=self.alice, assignments=[self.assignment, self.second]
        )
        FollowUpVisit.objects.filter(pk=self.visit.pk).update(
            scheduled_at=timezone.now() - datetime.timedelta(hours=1)
        )
        self.visit.refresh_from_db()
        self.sign_in(self.alice)

    def summary(self, visit=None):
        return reverse("portal:visit_summary", args=[(visit or self.visit).code])

    def record(self, outcomes: dict, visit=None):
        data = {}
        for assignment, (outcome, note) in outcomes.items():
            data[f"teach_back-outcome_{assignment.code}"] = outcome
            data[f"teach_back-note_{assignment.code}"] = note
        return self.client.post(reverse("portal:visit_teach_back", args=[(visit or self.visit).code]), data)


class RecordingTests(TeachBackTestCase):
    def test_the_clinician_records_two_modules_and_sees_them_beside_the_quiz_results(self):
        response = self.record(
            {
                self.assignment: (EXPLAINED, ""),
                self.second: (NEEDS_REVIEW, "Unsure about alcohol and opioids."),
            }
        )
        self.assertRedirects(response, self.summary() + "#teach-back", fetch_redirect_response=False)
        rows = TeachBack.objects.order_by("assignment__module__title")
        self.assertEqual(
            [(r.assignment, r.outcome, r.note, r.recorded_by) for r in rows],
            [
                (self.second, NEEDS_REVIEW, "Unsure about alcohol and opioids.", self.alice),
                (self.assignment, EXPLAINED, "", self.alice),
            ],
        )
        page = self.client.get(self.summary())
        self.assertContains(page, "Recorded teach-back for 2 modules.")
        self.assertContains(page, "Needs review: “Unsure about alcohol and opioids.” (Alice Clinician,")
        self.assertContains(page, "Explained back correctly (Alice Clinician,")
        patient_page = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.assertContains(patient_page, "<strong>Teach-back at a visit:</strong> Needs review", html=False)
        # The trail counts the modules, and says nothing of how they went.
        detail = AuditEvent.objects.get(action=AuditEvent.Action.TEACH_BACK_RECORDED).detail
        self.assertEqual(detail, f"visit {self.visit.code}; changed 2 module(s)")

    def test_a_correction_is_a_new_row_and_the_newest_is_shown(self):
        self.record({self.second: (NEEDS_REVIEW, "")})
        self.record({self.second: (EXPLAINED, "Explained it well on a second try.")})
        self.assertEqual(TeachBack.objects.count(), 2)
        page = self.client.get(self.summary())
        self.assertEqual(page.context["records"][0].teach_back.outcome, EXPLAINED)

    def test_the_same_form_sent_twice_records_once(self):
        self.record({self.second: (NEEDS_REVIEW, "Again")})
        self.record({self.second: (NEEDS_REVIEW, "Again")})
        self.assertEqual(TeachBack.objects.count(), 1)

    def test_rows_are_append_only_in_the_database(self):
        postgresql_or_skip(connection)
        self.record({self.second: (NEEDS_REVIEW, "")})
        for change in (lambda rows: rows.update(outcome=EXPLAINED), lambda rows: rows.delete()):
            with self.assertRaises(DatabaseError), transaction.atomic():
                change(TeachBack.objects.all())
        self.assertEqual(TeachBack.objects.get().outcome, NEEDS_REVIEW)

    def test_the_next_visit_shows_what_the_last_one_recorded(self):
        self.record({self.second: (NEEDS_REVIEW, "Go over it again.")})
        following = VisitFactory(
            patient=self.pat, clinician=self.alice, in_days=14, assignments=[self.second]
        )
        page = self.client.get(self.summary(following))
        self.assertContains(page, "Earlier visit: Needs review: “Go over it again.”")
        # Not yet its day: the form waits.
        self.assertContains(page, "Teach-back can be recorded from the day of the visit.")


class RefusalTests(TeachBackTestCase):
    def test_a_module_not_linked_to_the_visit_writes_nothing(self):
        unlinked = self.assign(self.pat, self.driving)
        response = self.record({unlinked: (EXPLAINED, "")})
        self.assertContains(response, "Choose an outcome for at least one module.", status_code=400)
        self.assertFalse(TeachBack.objects.exists())

    def test_a_note_without_an_outcome_is_refused(self):
        response = self.record({self.second: ("", "Some note")})
        self.assertContains(response, "Choose how it went, or clear the note.", status_code=400)
        self.assertFalse(TeachBack.objects.exists())

    def test_an_unknown_outcome_is_refused(self):
        response = self.record({self.second: ("passed", "")})
        self.assertContains(response, "Select a valid choice", status_code=400)
        self.assertFalse(TeachBack.objects.exists())

    def test_a_future_visit_or_a_cancelled_one_takes_no_teach_back(self):
        future = VisitFactory(patient=self.pat, clinician=self.alice, in_days=3, assignments=[self.second])
        response = self.record({self.second: (EXPLAINED, "")}, visit=future)
        self.assertContains(response, "from the day of the visit", status_code=400)
        FollowUpVisit.objects.filter(pk=self.visit.pk).update(
            cancelled_at=timezone.now(), cancelled_by=self.alice
        )
        response = self.record({self.second: (EXPLAINED, "")})
        self.assertContains(response, "Teach-back is recorded for visits that took place.", status_code=400)
        self.assertFalse(TeachBack.objects.exists())

    def test_another_clinics_clinician_gets_a_404(self):
        self.sign_in(self.charlie)
        self.assertEqual(self.record({self.second: (EXPLAINED, "")}).status_code, 404)
        self.assertFalse(TeachBack.objects.exists())


class AssignAgainTests(TeachBackTestCase):
    def assign_again(self, assignment):
        return self.client.post(
            reverse("portal:visit_assign_again", args=[self.visit.code]), {"assignment": str(assignment.code)}
        )

    def test_needs_review_assigns_a_completed_module_again_linked_to_the_next_visit(self):
        Assignment.objects.filter(pk=self.second.pk).update(completed_at=timezone.now())
        following = VisitFactory(patient=self.pat, clinician=self.alice, in_days=14)
        self.record({self.second: (NEEDS_REVIEW, "")})
        page = self.client.get(self.summary())
        self.assertContains(page, "Assign “Breathing")
        response = self.assign_again(self.second)
        self.assertRedirects(response, self.summary() + "#teach-back", fetch_redirect_response=False)
        again = Assignment.objects.exclude(pk=self.second.pk).get(module=self.breathing)
        self.assertEqual(again.due_date, self.riverside.today() + datetime.timedelta(days=14))
        self.assertEqual(list(following.assignments.all()), [again])
        self.assertContains(self.client.get(self.summary()), "again, due in two weeks.")

    def test_a_module_still_open_is_not_assigned_twice(self):
        self.record({self.second: (NEEDS_REVIEW, "")})
        self.assign_again(self.second)
        self.assertEqual(Assignment.objects.filter(module=self.breathing).count(), 1)
        self.assertContains(self.client.get(self.summary()), "is still assigned and not yet done")

    def test_without_a_teach_back_or_for_a_module_not_at_the_visit_nothing_is_assigned(self):
        response = self.assign_again(self.second)
        self.assertContains(self.client.get(self.summary()), "Record the teach-back for this module first.")
        self.assertEqual(response.status_code, 302)
        self.assign_again(self.olives)
        self.assertContains(self.client.get(self.summary()), "That module is not linked to this visit.")
        self.client.post(
            reverse("portal:visit_assign_again", args=[self.visit.code]), {"assignment": "not-a-code"}
        )
        self.assertContains(self.client.get(self.summary()), "That module is not linked to this visit.")
        self.assertEqual(Assignment.objects.filter(patient=self.pat).count(), 2)
