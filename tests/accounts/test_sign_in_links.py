"""A patient's emailed sign-in link: one-time, 15 minutes, hashed, throttled with password
resets, refused while locked out, never for staff, and the second step still asked."""

import datetime

from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SignInLink
from portal.models import AuditEvent
from tests.base import PortalTestCase
from tests.factories import PatientFactory

ASK = "/accounts/sign-in-link/"


class SignInLinkTests(PortalTestCase):
    def ask(self, email="pat@example.org", address="198.51.100.7"):
        return self.client.post(ASK, {"email": email}, REMOTE_ADDR=address)

    def link_path(self):
        return mail.outbox[-1].body.split("http://127.0.0.1:8000", 1)[1].split()[0]

    def signed_in(self):
        return "_auth_user_id" in self.client.session

    def test_a_patient_gets_a_link_that_signs_them_in_once(self):
        response = self.ask()
        self.assertContains(response, "If a patient account uses that address")
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["pat@example.org"])
        self.assertIn("Riverside", mail.outbox[0].subject)
        path = self.link_path()
        # Opening the link (or a mail scanner following it) uses nothing.
        self.assertContains(self.client.get(path), "Sign me in")
        self.assertFalse(self.signed_in())
        self.assertRedirects(self.client.post(path), reverse("home"), fetch_redirect_response=False)
        self.assertEqual(int(self.client.session["_auth_user_id"]), self.pat.pk)
        self.client.post(reverse("logout"))
        again = self.client.post(path)
        self.assertContains(again, "This link no longer works", status_code=410)
        self.assertFalse(self.signed_in())

    def test_after_fifteen_minutes_it_no_longer_works(self):
        self.ask()
        SignInLink.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
        self.assertContains(self.client.post(self.link_path()), "This link no longer works", status_code=410)
        self.assertFalse(self.signed_in())

    def test_the_link_lasts_fifteen_minutes_and_only_its_hash_is_kept(self):
        self.ask()
        link = SignInLink.objects.get()
        self.assertEqual(link.expires_at - link.created_at, datetime.timedelta(minutes=15))
        token = self.link_path().rstrip("/").rsplit("/", 1)[1]
        self.assertNotEqual(link.token_hash, token)
        self.assertNotIn(token, str(SignInLink.objects.values().get()))

    def test_unknown_staff_inactive_and_invited_addresses_get_the_same_page_and_no_email(self):
        PatientFactory(email="gone@example.org", clinic=self.riverside, is_active=False)
        PatientFactory(email="new@example.org", clinic=self.riverside, invited=True)
        for email in ("nobody@example.org", "alice@example.org", "gone@example.org", "new@example.org"):
            response = self.ask(email)
            self.assertContains(response, "If a patient account uses that address")
        self.assertEqual(mail.outbox, [])
        self.assertFalse(SignInLink.objects.exists())

    def test_a_forged_link_is_refused_and_writes_nothing(self):
        response = self.client.post("/accounts/sign-in-link/not-a-token/")
        self.assertContains(response, "This link no longer works", status_code=410)
        self.assertFalse(self.signed_in())

    def test_a_bad_address_gets_a_message(self):
        response = self.client.post(ASK, {"email": "not an address"})
        self.assertContains(response, "Enter a valid email address", status_code=400)
        self.assertEqual(mail.outbox, [])

    def test_requests_share_the_password_reset_limit_per_account(self):
        self.client.post(reverse("password_reset"), {"email": "pat@example.org"}, REMOTE_ADDR="198.51.100.7")
        for _ in range(3):
            self.ask()
        self.assertEqual(len(mail.outbox), 3)  # one reset, two links: the fourth request is over the limit
        self.assertTrue(AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_LINK_THROTTLED).exists())

    def test_a_locked_out_account_cannot_sign_in_with_a_link(self):
        self.ask()
        path = self.link_path()
        for _ in range(5):
            self.client.post(reverse("login"), {"username": "pat@example.org", "password": "wrong-password"})
        response = self.client.post(path)
        self.assertContains(response, "Sign-in is paused for this account", status_code=429)
        self.assertFalse(self.signed_in())

    def test_a_patient_with_a_second_step_still_passes_it(self):
        TOTPDevice.objects.create(user=self.pat, name="phone", confirmed=True)
        self.ask()
        self.client.post(self.link_path())
        response = self.client.get(reverse("education:my_modules"))
        self.assertRedirects(response, reverse("accounts:mfa_verify"))
