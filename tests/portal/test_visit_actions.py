"""Moving, cancelling and marking a visit as missed, as a clinician does it from the
visit summary; and what each refuses without writing anything."""

import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from portal import reminders
from portal.models import AuditEvent, FollowUpVisit, Reminder
from tests.base import PortalTestCase
from tests.factories import ClinicianFactory, VisitFactory

Action = AuditEvent.Action
LONDON = ZoneInfo("Europe/London")


def local_field(when: datetime.datetime) -> str:
    """How the datetime-local field posts a time in the clinic's zone."""
    return timezone.localtime(when, LONDON).strftime("%Y-%m-%dT%H:%M")


class VisitActionTestCase(PortalTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.bob = ClinicianFactory(
            email="bob@example.org", full_name="Dr Bob Second", clinics=[cls.riverside]
        )

    def setUp(self):
        # On a whole minute, as the form posts it.
        in_three_days = (timezone.now() + datetime.timedelta(days=3)).replace(second=0, microsecond=0)
        self.visit = VisitFactory(patient=self.pat, clinician=self.alice, scheduled_at=in_three_days)
        self.sign_in(self.alice)

    def url(self, name, visit=None):
        return reverse(f"portal:{name}", args=[(visit or self.visit).code])

    def fresh(self):
        return FollowUpVisit.objects.get(pk=self.visit.pk)

    def trail(self, action):
        return list(AuditEvent.objects.filter(action=action).values_list("detail", flat=True))


class RescheduleTests(VisitActionTestCase):
    def test_a_clinician_moves_the_visit_to_another_time_and_clinician(self):
        new_time = (timezone.now() + datetime.timedelta(days=10)).replace(second=0, microsecond=0)
        response = self.client.post(
            self.url("visit_reschedule"), {"scheduled_at": local_field(new_time), "clinician": self.bob.pk}
        )
        self.assertRedirects(response, self.url("visit_summary"), fetch_redirect_response=False)
        visit = self.fresh()
        self.assertEqual((visit.scheduled_at, visit.clinician), (new_time, self.bob))
        summary = self.client.get(self.url("visit_summary"))
        self.assertContains(summary, "The visit is now on")
        self.assertContains(summary, "with Dr Bob Second")
        # The trail names the fields that changed, never the time or the clinician.
        self.assertEqual(
            self.trail(Action.VISIT_RESCHEDULED), [f"visit {visit.code}; changed scheduled_at, clinician"]
        )

    def test_the_form_starts_from_the_visits_time_in_the_clinics_zone(self):
        response = self.client.get(self.url("visit_reschedule"))
        self.assertContains(response, f'value="{local_field(self.visit.scheduled_at)}"')
        self.assertContains(response, "Move the visit")

    def test_moving_into_the_past_is_refused_and_changes_nothing(self):
        before = self.fresh().scheduled_at
        past = timezone.now() - datetime.timedelta(hours=2)
        response = self.client.post(
            self.url("visit_reschedule"), {"scheduled_at": local_field(past), "clinician": self.alice.pk}
        )
        self.assertContains(response, "Choose a time in the future.", status_code=400)
        self.assertEqual(self.fresh().scheduled_at, before)
        self.assertEqual(self.trail(Action.VISIT_RESCHEDULED), [])

    def test_a_clinician_of_another_clinic_is_not_offered_and_is_refused(self):
        response = self.client.post(
            self.url("visit_reschedule"),
            {"scheduled_at": local_field(self.visit.scheduled_at), "clinician": self.charlie.pk},
        )
        self.assertContains(response, "Select a valid choice", status_code=400)
        self.assertEqual(self.fresh().clinician, self.alice)

    def test_no_change_says_so(self):
        response = self.client.post(
            self.url("visit_reschedule"),
            {"scheduled_at": local_field(self.visit.scheduled_at), "clinician": self.alice.pk},
        )
        self.assertContains(response, "Nothing changed", status_code=400)

    def test_a_held_visit_cannot_be_moved(self):
        self.client.post(self.url("visit_held"), {"note": "Went through driving."})
        response = self.client.get(self.url("visit_reschedule"), follow=True)
        self.assertContains(response, "This visit is already marked as held. It can no longer be changed.")
        later = self.visit.scheduled_at + datetime.timedelta(days=1)
        response = self.client.post(
            self.url("visit_reschedule"), {"scheduled_at": local_field(later), "clinician": self.alice.pk}
        )
        self.assertContains(response, "already marked as held", status_code=400)
        self.assertEqual(self.fresh().scheduled_at, self.visit.scheduled_at)

    def test_an_unsent_digest_for_the_old_day_goes_and_the_new_day_gets_its_own(self):
        tomorrow = timezone.now() + datetime.timedelta(days=1)
        visit = VisitFactory(patient=self.pat, clinician=self.alice, scheduled_at=tomorrow.replace(hour=12))
        reminders.plan_visit_digests()
        self.assertTrue(Reminder.objects.filter(visit=visit).exists())
        later = visit.scheduled_at + datetime.timedelta(days=5)
        self.client.post(
            self.url("visit_reschedule", visit),
            {"scheduled_at": local_field(later), "clinician": self.alice.pk},
        )
        self.assertFalse(Reminder.objects.filter(visit=visit).exists())
        reminders.plan_visit_digests(now=later - datetime.timedelta(days=1))
        self.assertEqual(Reminder.objects.filter(visit=visit).count(), 1)


class CancelTests(VisitActionTestCase):
    def test_a_clinician_cancels_with_a_reason_and_returns_to_the_patient_page(self):
        response = self.client.post(self.url("visit_cancel"), {"reason": "The patient asked to cancel."})
        patient_page = reverse("portal:patient_detail", args=[self.pat.code])
        self.assertRedirects(response, patient_page, fetch_redirect_response=False)
        visit = self.fresh()
        self.assertEqual(
            (visit.state, visit.cancelled_by, visit.cancel_reason),
            ("cancelled", self.alice, "The patient asked to cancel."),
        )
        page = self.client.get(patient_page)
        self.assertContains(page, "Cancelled the visit on")
        self.assertContains(page, "(cancelled)")
        summary = self.client.get(self.url("visit_summary"))
        self.assertContains(summary, "The patient asked to cancel.")
        self.assertNotContains(summary, "Mark as held")
        # The reason stays on the visit, not on the trail.
        self.assertEqual(self.trail(Action.VISIT_CANCELLED), [f"visit {visit.code}"])

    def test_a_cancelled_visit_leaves_the_pickers_and_the_digest(self):
        self.client.post(self.url("visit_cancel"), {"reason": "Moved away."})
        page = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.assertNotIn(self.visit, page.context["assign_form"].fields["visit"].queryset)
        self.assertEqual(
            reminders.plan_visit_digests(now=self.visit.scheduled_at - datetime.timedelta(days=1)), 0
        )

    def test_a_reason_is_required(self):
        response = self.client.post(self.url("visit_cancel"), {"reason": "   "})
        self.assertContains(response, "This field is required.", status_code=400)
        self.assertEqual(self.fresh().state, "planned")

    def test_a_held_visit_cannot_be_cancelled(self):
        self.client.post(self.url("visit_held"), {"note": "Done."})
        response = self.client.post(self.url("visit_cancel"), {"reason": "Oops"})
        self.assertContains(response, "A visit that was held cannot be cancelled.", status_code=400)
        visit = self.fresh()
        self.assertEqual((visit.state, visit.cancel_reason), ("held", ""))
        self.assertEqual(self.trail(Action.VISIT_CANCELLED), [])

    def test_a_cancelled_visit_cannot_be_held_afterwards(self):
        self.client.post(self.url("visit_cancel"), {"reason": "Ill."})
        response = self.client.post(self.url("visit_held"), {"note": "Done."})
        self.assertContains(response, "This visit was cancelled.", status_code=400)
        self.assertIsNone(self.fresh().held_at)


class NoShowTests(VisitActionTestCase):
    def test_once_its_time_has_come_a_visit_can_be_marked_missed(self):
        past = VisitFactory(patient=self.pat, clinician=self.alice, in_days=0)
        FollowUpVisit.objects.filter(pk=past.pk).update(
            scheduled_at=timezone.now() - datetime.timedelta(hours=1)
        )
        self.assertContains(self.client.get(self.url("visit_summary", past)), "The patient did not come")
        response = self.client.post(self.url("visit_no_show", past), follow=True)
        self.assertContains(response, "The visit is marked as missed.")
        self.assertContains(response, "The patient did not come (marked on")
        past.refresh_from_db()
        self.assertEqual((past.state, past.no_show_by), ("no_show", self.alice))
        self.assertEqual(self.trail(Action.VISIT_NO_SHOW), [f"visit {past.code}"])

    def test_a_future_visit_cannot_be_marked_missed(self):
        self.assertNotContains(self.client.get(self.url("visit_summary")), "The patient did not come")
        response = self.client.post(self.url("visit_no_show"), follow=True)
        self.assertContains(response, "only once its time has come")
        self.assertEqual(self.fresh().state, "planned")

    def test_a_missed_visit_cannot_be_marked_again_or_held(self):
        FollowUpVisit.objects.filter(pk=self.visit.pk).update(
            no_show_at=timezone.now(), no_show_by=self.alice
        )
        response = self.client.post(self.url("visit_no_show"), follow=True)
        self.assertContains(response, "This visit is already marked as missed.")
        response = self.client.post(self.url("visit_held"), {"note": "x"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(AuditEvent.objects.filter(action=Action.VISIT_NO_SHOW).count(), 0)


class OutsidersTests(VisitActionTestCase):
    def test_another_clinics_clinician_gets_a_404_and_nothing_changes(self):
        self.sign_in(self.charlie)
        later = self.visit.scheduled_at + datetime.timedelta(days=1)
        for name, data in (
            ("visit_reschedule", {"scheduled_at": local_field(later), "clinician": self.charlie.pk}),
            ("visit_cancel", {"reason": "x"}),
            ("visit_no_show", {}),
        ):
            with self.subTest(name):
                self.assertEqual(self.client.post(self.url(name), data).status_code, 404)
        self.assertEqual(self.fresh().state, "planned")
        self.assertEqual(self.fresh().scheduled_at, self.visit.scheduled_at)

    def test_a_clinician_who_left_the_clinic_cannot_be_given_the_visit(self):
        Membership.objects.filter(user=self.bob).delete()
        later = self.visit.scheduled_at + datetime.timedelta(days=1)
        response = self.client.post(
            self.url("visit_reschedule"), {"scheduled_at": local_field(later), "clinician": self.bob.pk}
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.fresh().clinician, self.alice)


class SchedulingTests(VisitActionTestCase):
    def test_after_scheduling_the_patient_page_lists_the_visit_by_day_time_and_clinician(self):
        when = datetime.datetime(2031, 12, 1, 18, 0, tzinfo=LONDON)
        response = self.client.post(
            reverse("portal:visit_new", args=[self.pat.code]),
            {"scheduled_at": "2031-12-01T18:00", "clinician": self.bob.pk},
            follow=True,
        )
        self.assertEqual(
            response.redirect_chain[-1][0], reverse("portal:patient_detail", args=[self.pat.code])
        )
        self.assertContains(response, "Scheduled the visit on Mon 1 Dec 2031, 18:00 with Dr Bob Second.")
        self.assertContains(response, ">Mon 1 Dec 2031, 18:00 with Dr Bob Second</a>", html=False)
        visit = FollowUpVisit.objects.get(scheduled_at=when)
        self.assertEqual(self.trail(Action.VISIT_SCHEDULED), [f"visit {visit.code}"])

    def test_the_assign_forms_visit_picker_names_day_time_and_clinician(self):
        page = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.assertContains(page, f">{self.visit.label()}</option>", html=False)
        self.assertNotContains(page, f"Visit {self.visit.code}")
