import datetime
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from education.models import Assignment, Module
from education.services import MODULE_SETS
from portal.models import FollowUpVisit
from tests.education.base import EducationTestCase, publish_edit
from tests.factories import VisitFactory


class PatientRecordTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)
        self.client.get(self.url("reader"))
        self.client.post(self.url("quiz"), self.answers(right=3, positions=[2, 4, 6, 8, 10]))
        self.acknowledge()
        self.sign_in(self.alice)

    def page(self, patient=None):
        return self.client.get(reverse("portal:patient_detail", args=[(patient or self.pat).code]))

    def test_it_shows_the_timeline_of_each_assignment(self):
        response = self.page()
        for text in (
            "Assigned by Alice Clinician",
            "Opened",
            "Quiz on version 1: 60%, not passed",
            "Acknowledged version 1",
        ):
            self.assertContains(response, text)

    def test_it_shows_every_answer_as_shown_and_the_missed_concepts_with_the_right_answer(self):
        response = self.page()
        self.assertContains(response, "← chosen, right", count=3)
        self.assertContains(response, "← chosen, wrong", count=2)
        version = self.sleep.current_version
        for position in (8, 10):  # the two answered wrong
            question = version.questions.get(position=position)
            right = question.choices.get(is_correct=True)
            self.assertContains(response, escape(version.concepts[question.concept]))
            self.assertContains(response, f"Right answer: “{escape(right.text)}” {escape(right.explanation)}")

    def test_a_completed_module_shows_when_an_earlier_version_was_acknowledged(self):
        self.sign_in(self.pat)
        self.pass_quiz()
        publish_edit(
            "sleep-medicines", "Ask your care team about CBT-I.", "Ask your care team about CBT-I today."
        )
        self.sign_in(self.alice)
        response = self.page()
        self.assertContains(response, "Needs to re-acknowledge (updated")
        self.assertContains(response, "Acknowledged an earlier version; the current version is 2")

    def test_its_query_count_does_not_grow_with_the_patients_records(self):
        self.page()  # a process reads each version's quiz bank once (education.selectors.quiz_banks)
        with CaptureQueriesContext(connection) as before:
            self.page()
        for module in Module.objects.exclude(pk=self.sleep.pk):
            assignment = self.assign(self.pat, module)
            self.sign_in(self.pat)
            self.pass_quiz(assignment)
            self.acknowledge(assignment)
        self.sign_in(self.alice)
        self.page()  # the new versions' banks, once
        with CaptureQueriesContext(connection) as after:
            self.page()
        self.assertEqual(len(after), len(before))

    def test_another_clinics_patient_is_a_404(self):
        self.assertEqual(self.page(self.olive).status_code, 404)


class AssignFromPatientPageTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.alice)

    def assign_url(self, patient=None):
        return reverse("portal:patient_assign", args=[(patient or self.pat).code])

    def test_it_assigns_picked_modules_and_skips_one_already_open(self):
        response = self.client.post(
            self.assign_url(),
            {"modules": [self.sleep.pk, self.driving.pk], "due_date": self.in_a_week},
            follow=True,
        )
        self.assertEqual(Assignment.objects.filter(patient=self.pat).count(), 2)
        self.assertContains(response, "Assigned 1 module to 1 patient")
        self.assertContains(response, "Skipped 1 already open: Pat Patient – Sleep medicines")

    def test_it_links_the_new_assignments_to_a_chosen_visit(self):
        visit = VisitFactory(patient=self.pat, clinician=self.alice, in_days=10)
        self.client.post(
            self.assign_url(),
            {"module_set": "everyday-safety", "due_date": self.in_a_week, "visit": visit.pk},
        )
        self.assertEqual(
            sorted(visit.assignments.values_list("module__slug", flat=True)),
            sorted(MODULE_SETS["everyday-safety"].slugs),
        )

    def test_a_past_due_date_is_refused_and_nothing_is_written(self):
        response = self.client.post(
            self.assign_url(), {"modules": [self.driving.pk], "due_date": "2020-01-01"}
        )
        self.assertContains(response, "The due date cannot be in the past", status_code=400)
        self.assertEqual(Assignment.objects.filter(patient=self.pat).count(), 1)

    def test_no_module_is_refused(self):
        response = self.client.post(self.assign_url(), {"due_date": self.in_a_week})
        self.assertContains(response, "Choose at least one module or a set of modules", status_code=400)

    def test_another_clinics_patient_is_a_404_and_nothing_is_written(self):
        response = self.client.post(
            self.assign_url(self.olive), {"modules": [self.sleep.pk], "due_date": self.in_a_week}
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(Assignment.objects.filter(patient=self.olive).count(), 1)


class CancellingTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.alice)

    def cancel(self, assignment=None):
        return self.client.post(
            reverse("portal:assignment_cancel", args=[(assignment or self.assignment).code])
        )

    def test_cancelling_keeps_the_assignment_with_who_and_when(self):
        self.cancel()
        self.assignment.refresh_from_db()
        self.assertEqual(self.assignment.cancelled_by, self.alice)
        self.assertIsNotNone(self.assignment.cancelled_at)
        self.assertContains(
            self.client.get(reverse("portal:patient_detail", args=[self.pat.code])), "Cancelled by Alice"
        )

    def test_the_patient_no_longer_sees_a_cancelled_module(self):
        self.cancel()
        self.sign_in(self.pat)
        self.assertNotContains(self.client.get(reverse("education:my_modules")), self.sleep.title)

    def test_a_completed_assignment_cannot_be_cancelled(self):
        Assignment.objects.filter(pk=self.assignment.pk).update(completed_at=timezone.now())
        response = self.client.post(
            reverse("portal:assignment_cancel", args=[self.assignment.code]), follow=True
        )
        self.assertContains(response, "Only an open assignment can be cancelled")
        self.assignment.refresh_from_db()
        self.assertIsNone(self.assignment.cancelled_at)

    def test_another_clinics_assignment_is_a_404_and_unchanged(self):
        self.assertEqual(self.cancel(self.olives).status_code, 404)
        self.olives.refresh_from_db()
        self.assertIsNone(self.olives.cancelled_at)

    def test_cancelling_needs_a_post(self):
        self.assertEqual(
            self.client.get(reverse("portal:assignment_cancel", args=[self.assignment.code])).status_code, 405
        )


class VisitTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.alice)

    def schedule(self, patient=None, **overrides):
        data = {
            "scheduled_at": "2031-06-02T09:30",
            "clinician": self.alice.pk,
            "assignments": [self.assignment.pk],
        }
        return self.client.post(
            reverse("portal:visit_new", args=[(patient or self.pat).code]), data | overrides
        )

    def test_a_visit_is_scheduled_in_the_clinics_time_zone_with_its_modules(self):
        response = self.schedule()
        visit = FollowUpVisit.objects.get()
        # Issue 16: back to the patient page, where the new visit is listed.
        self.assertRedirects(response, reverse("portal:patient_detail", args=[self.pat.code]))
        london = visit.scheduled_at.astimezone(ZoneInfo("Europe/London"))
        self.assertEqual(
            (london.hour, london.minute, visit.scheduled_at.utcoffset()), (9, 30, datetime.timedelta(0))
        )
        self.assertEqual(list(visit.assignments.all()), [self.assignment])

    def test_a_visit_in_the_past_is_refused(self):
        response = self.schedule(scheduled_at="2020-06-02T09:30")
        self.assertContains(response, "A new visit must be in the future", status_code=400)
        self.assertFalse(FollowUpVisit.objects.exists())

    def test_a_clinician_of_another_clinic_cannot_be_chosen(self):
        response = self.schedule(clinician=self.charlie.pk)
        self.assertContains(response, "Select a valid choice", status_code=400)
        self.assertFalse(FollowUpVisit.objects.exists())

    def test_another_patients_assignment_cannot_be_linked(self):
        response = self.schedule(assignments=[self.olives.pk])
        self.assertContains(response, "Select a valid choice", status_code=400)
        self.assertFalse(FollowUpVisit.objects.exists())

    def test_another_clinics_patient_is_a_404(self):
        self.assertEqual(self.schedule(patient=self.olive).status_code, 404)
        self.assertFalse(FollowUpVisit.objects.exists())
