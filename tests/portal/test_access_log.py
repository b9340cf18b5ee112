"""The patient's own access log: who looked at their record, and nothing about anyone else."""

from django.test import override_settings
from django.urls import reverse

from portal.models import AuditEvent
from tests.education.base import EducationTestCase

Action = AuditEvent.Action


class AccessLogTests(EducationTestCase):
    def page(self):
        return self.client.get(reverse("portal:access_log"))

    def test_it_lists_the_clinicians_who_opened_the_record_by_name_role_clinic_and_time(self):
        self.sign_in(self.alice)
        self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.sign_in(self.pat)
        response = self.page()
        self.assertContains(response, "Patient page opened")
        self.assertContains(response, "Alice Clinician, clinic staff at Riverside")

    def test_being_on_a_clinicians_list_is_on_it_too(self):
        self.sign_in(self.alice)
        self.client.get(reverse("portal:dashboard"))
        self.assertTrue(
            AuditEvent.objects.filter(action=Action.LISTED_ON_DASHBOARD, patient=self.pat).exists()
        )
        self.sign_in(self.pat)
        self.assertContains(self.page(), "Shown on a clinician&#x27;s patient list")

    def test_only_the_patients_own_rows_are_shown(self):
        self.sign_in(self.charlie)
        self.client.get(reverse("portal:patient_detail", args=[self.olive.code]))
        self.sign_in(self.pat)
        response = self.page()
        self.assertNotContains(response, "Charlie Outsider")
        self.assertEqual(list(response.context["page"].object_list), [])

    def test_a_clinician_gets_a_404(self):
        self.sign_in(self.alice)
        self.assertEqual(self.page().status_code, 404)

    def test_its_query_count_does_not_grow_with_the_log(self):
        self.sign_in(self.alice)
        self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.sign_in(self.pat)
        # session, user with their clinic (its time zone), the count for the pages, the
        # page of events with actor and clinic
        with self.assertNumQueries(4):
            self.page()
        self.sign_in(self.alice)
        for _ in range(5):
            self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.sign_in(self.pat)
        with self.assertNumQueries(4):
            self.page()


@override_settings(MFA_REQUIRED_FOR_STAFF=False)
class SecondStepEventsTests(EducationTestCase):
    def test_setting_up_and_passing_the_second_step_are_on_the_trail(self):
        from django_otp.oath import totp
        from django_otp.plugins.otp_totp.models import TOTPDevice

        self.sign_in(self.pat)
        self.client.get(reverse("accounts:mfa_setup"))
        device = TOTPDevice.objects.get(user=self.pat)
        code = f"{totp(device.bin_key):06d}"
        self.client.post(reverse("accounts:mfa_setup"), {"code": code})
        self.assertTrue(AuditEvent.objects.filter(action=Action.SECOND_STEP_SET_UP, actor=self.pat).exists())
