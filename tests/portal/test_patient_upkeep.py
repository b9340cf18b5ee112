"""A patient's upkeep by their clinic: correcting details (a new address is proven by a new
invitation), deactivating and reactivating, moving to another clinic; what each refuses
without writing anything, and what the audit trail keeps (field names, never values)."""

import datetime

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, User
from education.models import Assignment, PatientProgress
from portal import reminders
from portal.models import AuditEvent, Reminder
from tests.education.base import EducationTestCase
from tests.factories import ClinicianFactory, PatientFactory, VisitFactory

Action = AuditEvent.Action


class UpkeepTestCase(EducationTestCase):
    def setUp(self):
        self.sign_in(self.alice)

    def url(self, name, patient=None):
        return reverse(f"portal:{name}", args=[(patient or self.pat).code])

    def fresh(self, patient=None):
        return User.objects.get(pk=(patient or self.pat).pk)

    def details(self, **changes):
        pat = self.pat
        data = {
            "full_name": pat.full_name,
            "email": pat.email,
            "date_of_birth": pat.date_of_birth.isoformat() if pat.date_of_birth else "",
            "record_number": pat.record_number,
        }
        return {**data, **changes}

    def trail(self, action):
        return list(AuditEvent.objects.filter(action=action).values_list("detail", flat=True))

    def signs_in(self, email, password=None):
        """Whether the sign-in page lets this address and password in, from a fresh browser."""
        browser = self.client_class()
        browser.post(reverse("login"), {"username": email, "password": password or self.password})
        return "_auth_user_id" in browser.session


class EditTests(UpkeepTestCase):
    def test_a_clinician_corrects_name_birth_date_and_record_number(self):
        response = self.client.post(
            self.url("patient_edit"),
            self.details(full_name="  Pat   Patterson ", date_of_birth="1961-04-02", record_number="R-77"),
        )
        self.assertRedirects(response, self.url("patient_detail"), fetch_redirect_response=False)
        pat = self.fresh()
        self.assertEqual(
            (pat.full_name, pat.date_of_birth, pat.record_number),
            ("Pat Patterson", datetime.date(1961, 4, 2), "R-77"),
        )
        # The dashboard lists and sorts by the new name at once.
        self.assertEqual(PatientProgress.objects.get(patient=pat).full_name, "Pat Patterson")
        self.assertTrue(pat.check_password(self.password), "a name change keeps the password")
        self.assertEqual(
            self.trail(Action.PATIENT_EDITED), ["changed: full_name, date_of_birth, record_number"]
        )
        self.assertNotIn("Patterson", str(self.trail(Action.PATIENT_EDITED)))

    def test_a_new_address_stops_the_password_until_the_patient_accepts_a_new_invitation(self):
        response = self.client.post(self.url("patient_edit"), self.details(email="Pat.New@Example.org"))
        self.assertRedirects(response, self.url("patient_detail"), fetch_redirect_response=False)
        pat = self.fresh()
        self.assertEqual(pat.email, "pat.new@example.org")
        self.assertFalse(pat.has_usable_password())
        self.assertEqual([message.to for message in mail.outbox], [["pat.new@example.org"]])
        self.assertEqual(Invitation.objects.pending().filter(invitee=pat).count(), 1)
        self.assertEqual(self.trail(Action.PATIENT_EDITED), ["changed: email"])
        self.assertEqual(len(self.trail(Action.INVITATION_SENT)), 1)
        # The old address no longer signs in; the link sets a password for the new one.
        self.assertFalse(self.signs_in("pat@example.org"))
        token = mail.outbox[0].body.split("/accounts/invitation/", 1)[1].split("/", 1)[0]
        accept = reverse("accounts:accept_invitation", args=[token])
        self.client.post(accept, {"new_password1": "a-new-Passw0rd!!", "new_password2": "a-new-Passw0rd!!"})
        self.assertTrue(self.signs_in("pat.new@example.org", "a-new-Passw0rd!!"))

    def test_an_address_in_use_elsewhere_gets_the_neutral_answer_and_nothing_changes(self):
        for taken in ("olive@example.org", "charlie@example.org"):
            response = self.client.post(self.url("patient_edit"), self.details(email=taken))
            self.assertContains(response, "cannot be used for a new patient here", status_code=400)
        PatientFactory(email="sam@example.org", clinic=self.riverside)
        response = self.client.post(self.url("patient_edit"), self.details(email="sam@example.org"))
        self.assertContains(response, "already a patient of this clinic", status_code=400)
        self.assertEqual(self.fresh().email, "pat@example.org")
        self.assertTrue(self.fresh().has_usable_password())
        self.assertEqual((mail.outbox, self.trail(Action.PATIENT_EDITED)), ([], []))

    def test_a_record_number_taken_in_the_clinic_is_refused_and_the_page_keeps_the_old_name(self):
        PatientFactory(clinic=self.riverside, record_number="R-1")
        response = self.client.post(
            self.url("patient_edit"), self.details(full_name="Someone Else", record_number="R-1")
        )
        self.assertContains(
            response, "Another patient of this clinic has that record number", status_code=400
        )
        self.assertContains(response, "Edit Pat Patient", status_code=400)
        self.assertEqual((self.fresh().full_name, self.fresh().record_number), ("Pat Patient", ""))

    def test_a_future_birth_date_and_an_empty_name_are_refused(self):
        tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
        response = self.client.post(self.url("patient_edit"), self.details(date_of_birth=tomorrow))
        self.assertContains(response, "cannot be in the future", status_code=400)
        response = self.client.post(self.url("patient_edit"), self.details(full_name="   "))
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.fresh().full_name, "Pat Patient")

    def test_saving_without_a_change_says_so(self):
        response = self.client.post(self.url("patient_edit"), self.details())
        self.assertContains(response, "Nothing changed.", status_code=400)
        self.assertEqual(self.trail(Action.PATIENT_EDITED), [])

    def test_another_clinics_patient_cannot_be_edited(self):
        response = self.client.post(
            self.url("patient_edit", self.olive), {"full_name": "X", "email": "x@example.org"}
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.fresh(self.olive).full_name, "Olive Other")


class DeactivationTests(UpkeepTestCase):
    def test_a_deactivated_patient_cannot_sign_in_and_gets_no_reminders_until_reactivated(self):
        Assignment.objects.filter(pk=self.assignment.pk).update(
            due_date=timezone.localdate() + datetime.timedelta(days=1)
        )
        patient_client = self.client_class()
        patient_client.force_login(self.pat)
        self.sign_in(self.alice)
        response = self.client.post(self.url("patient_deactivate"))
        self.assertRedirects(response, self.url("patient_detail"), fetch_redirect_response=False)
        self.assertFalse(self.fresh().is_active)
        # Signed out where they were signed in, and cannot sign in again.
        my_modules = reverse("education:my_modules")
        self.assertRedirects(
            patient_client.get(my_modules),
            f"/accounts/login/?next={my_modules}",
            fetch_redirect_response=False,
        )
        self.assertFalse(self.signs_in("pat@example.org"))
        # The daily reminder planner passes them over, and plans theirs once they are back.
        reminders.plan_patient_reminders()
        self.assertFalse(Reminder.objects.filter(recipient=self.pat).exists())
        page = self.client.get(self.url("patient_detail"))
        self.assertContains(page, "Deactivated: cannot sign in and gets no reminders")
        self.assertEqual(len(self.trail(Action.PATIENT_DEACTIVATED)), 1)
        self.client.post(self.url("patient_reactivate"))
        reminders.plan_patient_reminders()
        self.assertTrue(Reminder.objects.filter(recipient=self.pat).exists())

    def test_the_dashboard_filter_lists_inactive_patients(self):
        self.client.post(self.url("patient_deactivate"))
        PatientFactory(full_name="Ada Active", clinic=self.riverside)
        listed = self.client.get(reverse("portal:dashboard"), {"status": "inactive"})
        self.assertContains(listed, "Pat Patient")
        self.assertContains(listed, "Inactive</span>")
        self.assertNotContains(listed, "Ada Active")

    def test_an_unused_invitation_stops_working_when_the_patient_is_deactivated(self):
        invited = PatientFactory(clinic=self.riverside, invited=True)
        self.client.post(self.url("patient_resend_invitation", invited))
        token = mail.outbox[0].body.split("/accounts/invitation/", 1)[1].split("/", 1)[0]
        self.client.post(self.url("patient_deactivate", invited))
        response = self.client.get(reverse("accounts:accept_invitation", args=[token]))
        self.assertEqual(response.status_code, 410)
        resend = self.client.post(self.url("patient_resend_invitation", invited), follow=True)
        self.assertContains(resend, "inactive. Reactivate it first")

    def test_reactivating_lets_the_patient_sign_in_again(self):
        self.client.post(self.url("patient_deactivate"))
        again = self.client.post(self.url("patient_deactivate"), follow=True)
        self.assertContains(again, "already inactive")
        self.client.post(self.url("patient_reactivate"))
        self.assertTrue(self.fresh().is_active)
        self.assertTrue(self.signs_in("pat@example.org"))
        self.assertEqual(
            (len(self.trail(Action.PATIENT_DEACTIVATED)), len(self.trail(Action.PATIENT_REACTIVATED))), (1, 1)
        )

    def test_another_clinics_patient_cannot_be_deactivated(self):
        self.assertEqual(self.client.post(self.url("patient_deactivate", self.olive)).status_code, 404)
        self.assertTrue(self.fresh(self.olive).is_active)


class TransferTests(UpkeepTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        # Dana works at both clinics; Alice at Riverside only.
        cls.dana = ClinicianFactory(full_name="Dana Both", clinics=[cls.riverside, cls.hillside])

    def setUp(self):
        self.sign_in(self.dana)

    def test_a_clinician_of_both_clinics_moves_the_patient_with_their_records(self):
        response = self.client.post(self.url("patient_transfer"), {"clinic": self.hillside.pk})
        self.assertRedirects(response, self.url("patient_detail"), fetch_redirect_response=False)
        self.assertEqual(self.fresh().clinic, self.hillside)
        self.assertEqual(PatientProgress.objects.get(patient=self.pat).clinic, self.hillside)
        # Charlie (Hillside) sees them now; Alice (Riverside only) no longer does.
        self.sign_in(self.charlie)
        self.assertEqual(self.client.get(self.url("patient_detail")).status_code, 200)
        self.sign_in(self.alice)
        self.assertEqual(self.client.get(self.url("patient_detail")).status_code, 404)
        events = AuditEvent.objects.filter(action=Action.PATIENT_TRANSFERRED)
        self.assertEqual(
            sorted(events.values_list("clinic", flat=True)), sorted([self.riverside.pk, self.hillside.pk])
        )

    def test_the_clinic_choices_are_only_the_clinicians_other_clinics(self):
        page = self.client.get(self.url("patient_transfer"))
        self.assertEqual(list(page.context["form"].fields["clinic"].queryset), [self.hillside])
        self.sign_in(self.alice)
        page = self.client.get(self.url("patient_transfer"))
        self.assertContains(page, "You work at no other clinic")
        response = self.client.post(self.url("patient_transfer"), {"clinic": self.hillside.pk})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.fresh().clinic, self.riverside)

    def test_a_patient_with_a_planned_visit_stays_until_the_visit_is_settled(self):
        VisitFactory(patient=self.pat, clinician=self.alice, in_days=3)
        response = self.client.post(self.url("patient_transfer"), {"clinic": self.hillside.pk})
        self.assertContains(response, "has planned visits at their current clinic", status_code=400)
        self.assertEqual(self.fresh().clinic, self.riverside)
        self.assertFalse(AuditEvent.objects.filter(action=Action.PATIENT_TRANSFERRED).exists())

    def test_a_record_number_taken_at_the_new_clinic_is_refused(self):
        User.objects.filter(pk=self.pat.pk).update(record_number="R-9")
        PatientFactory(clinic=self.hillside, record_number="R-9")
        response = self.client.post(self.url("patient_transfer"), {"clinic": self.hillside.pk})
        self.assertContains(response, "Another patient of Hillside has this record number", status_code=400)
        self.assertEqual(self.fresh().clinic, self.riverside)
