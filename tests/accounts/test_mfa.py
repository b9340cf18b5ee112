import re

from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.base import PortalTestCase
from tests.portal.test_settings import production_settings


def current_code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


@override_settings(MFA_REQUIRED_FOR_STAFF=True)
class StaffSecondStepTests(PortalTestCase):
    def sign_in_with_password(self, user):
        self.client.post(reverse("login"), {"username": user.email, "password": self.password})

    def set_up(self):
        self.client.get(reverse("accounts:mfa_setup"))
        device = TOTPDevice.objects.get(user=self.alice)
        response = self.client.post(reverse("accounts:mfa_setup"), {"code": current_code(device)})
        return response, device

    def test_a_clinician_must_set_up_the_second_step_before_any_page(self):
        self.sign_in_with_password(self.alice)
        response = self.client.get(reverse("portal:dashboard"), follow=True)
        self.assertRedirects(response, reverse("accounts:mfa_setup"))

    def test_the_two_step_redirect_carries_the_frame_and_security_headers(self):
        self.sign_in_with_password(self.alice)
        response = self.client.get(reverse("portal:dashboard"))
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["X-Frame-Options"], "DENY")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertIn("Content-Security-Policy", response)

    def test_the_qr_code_is_drawn_by_the_portal_as_svg(self):
        self.sign_in_with_password(self.alice)
        page = self.client.get(reverse("accounts:mfa_setup")).content.decode()
        self.assertIn("<svg", page)
        self.assertNotRegex(page, r'<img[^>]+src="https?://')

    def test_a_right_code_turns_it_on_shows_recovery_codes_once_and_opens_the_portal(self):
        self.sign_in_with_password(self.alice)
        response, device = self.set_up()
        codes = re.findall(r"<li>(\w{8})</li>", response.content.decode())
        self.assertEqual(len(codes), 10)
        device.refresh_from_db()
        self.assertTrue(device.confirmed)
        self.assertEqual(self.client.get(reverse("portal:dashboard")).status_code, 200)

    def test_a_wrong_code_is_refused_and_nothing_is_turned_on(self):
        self.sign_in_with_password(self.alice)
        self.client.get(reverse("accounts:mfa_setup"))
        response = self.client.post(reverse("accounts:mfa_setup"), {"code": "000000"})
        self.assertContains(response, "That code is not right")
        self.assertFalse(TOTPDevice.objects.get(user=self.alice).confirmed)

    def test_next_sign_in_asks_for_a_code_and_a_recovery_code_works_once(self):
        self.sign_in_with_password(self.alice)
        response, _ = self.set_up()
        recovery = re.findall(r"<li>(\w{8})</li>", response.content.decode())[0]
        self.client.post(reverse("logout"))
        self.sign_in_with_password(self.alice)
        self.assertRedirects(self.client.get(reverse("portal:dashboard")), reverse("accounts:mfa_verify"))
        self.client.post(reverse("accounts:mfa_verify"), {"code": recovery})
        self.assertEqual(self.client.get(reverse("portal:dashboard")).status_code, 200)
        self.client.post(reverse("logout"))
        self.sign_in_with_password(self.alice)
        response = self.client.post(reverse("accounts:mfa_verify"), {"code": recovery})
        self.assertContains(response, "already used")

    def test_patients_are_not_asked(self):
        self.sign_in_with_password(self.pat)
        self.assertEqual(self.client.get(reverse("education:my_modules")).status_code, 200)


class SecondStepSettingTests(PortalTestCase):
    def test_without_the_requirement_a_demo_clinician_goes_straight_in(self):
        self.client.post(reverse("login"), {"username": self.alice.email, "password": self.password})
        self.assertEqual(self.client.get(reverse("portal:dashboard")).status_code, 200)

    def test_production_requires_it_by_default(self):
        self.assertEqual(production_settings("s.MFA_REQUIRED_FOR_STAFF"), ["True"])


class PatientSecondStepTests(PortalTestCase):
    def test_a_patient_may_set_it_up_and_is_then_asked_at_every_sign_in(self):
        self.client.post(reverse("login"), {"username": self.pat.email, "password": self.password})
        self.assertContains(self.client.get(reverse("portal:patient_settings")), "Set up two-step sign-in")
        self.client.get(reverse("accounts:mfa_setup"))
        device = TOTPDevice.objects.get(user=self.pat)
        self.client.post(reverse("accounts:mfa_setup"), {"code": current_code(device)})
        self.client.post(reverse("logout"))
        self.client.post(reverse("login"), {"username": self.pat.email, "password": self.password})
        response = self.client.get(reverse("education:my_modules"))
        self.assertRedirects(response, reverse("accounts:mfa_verify"))
