import datetime

from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from tests.base import PortalTestCase


class LockoutTests(PortalTestCase):
    def attempt(self, email, password, address="198.51.100.4"):
        return self.client.post(
            reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address
        )

    def fail(self, times, email="pat@example.org", address="198.51.100.4"):
        for _ in range(times):
            self.attempt(email, "not-the-password", address)

    def test_five_failures_lock_the_account_from_that_address_even_with_the_right_password(self):
        self.fail(5)
        response = self.attempt("pat@example.org", self.password)
        self.assertContains(response, "Sign-in is paused for this account", status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_four_failures_do_not(self):
        self.fail(4)
        response = self.attempt("pat@example.org", self.password)
        self.assertEqual(response.status_code, 302)

    def test_the_same_account_from_another_address_is_not_locked(self):
        self.fail(5)
        response = self.attempt("pat@example.org", self.password, address="203.0.113.99")
        self.assertEqual(response.status_code, 302)

    def test_capitals_in_the_address_do_not_reset_the_count(self):
        for email in [
            "pat@example.org",
            "PAT@example.org",
            "Pat@Example.org",
            "pat@EXAMPLE.org",
            " pat@example.org",
        ]:
            self.attempt(email, "not-the-password")
        self.assertEqual(self.attempt("pat@example.org", self.password).status_code, 429)

    def test_the_lock_lifts_after_fifteen_minutes(self):
        self.fail(5)
        AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
        self.assertEqual(self.attempt("pat@example.org", self.password).status_code, 302)

    def test_an_unknown_address_and_a_wrong_password_get_the_same_message(self):
        unknown = self.attempt("nobody@example.org", "not-the-password").content.decode()
        wrong = self.attempt("pat@example.org", "not-the-password").content.decode()
        message = "Please enter a correct email address and password"
        self.assertIn(message, unknown)
        self.assertIn(message, wrong)

    def test_a_lockout_is_on_the_audit_trail(self):
        self.fail(5)
        self.assertTrue(
            AuditEvent.objects.filter(action=AuditEvent.Action.LOCKED_OUT, actor=self.pat).exists()
        )


class PasswordRuleTests(PortalTestCase):
    def test_a_password_needs_twelve_characters(self):
        self.sign_in(self.pat)
        response = self.client.post(
            reverse("password_change"),
            {"old_password": self.password, "new_password1": "otter-lamp7", "new_password2": "otter-lamp7"},
        )
        self.assertContains(response, "at least 12 characters")


class PasswordResetThrottleTests(PortalTestCase):
    def request_reset(self, email="pat@example.org", address="198.51.100.4"):
        return self.client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)

    def test_three_resets_an_hour_per_account_then_the_same_page_and_no_email(self):
        for _ in range(3):
            self.request_reset()
        self.assertEqual(len(mail.outbox), 3)
        response = self.request_reset(address="203.0.113.50")
        self.assertRedirects(response, reverse("password_reset_done"))
        self.assertEqual(len(mail.outbox), 3)
        self.assertTrue(AuditEvent.objects.filter(action=AuditEvent.Action.PASSWORD_RESET_THROTTLED).exists())

    def test_ten_resets_an_hour_per_address_whatever_the_account(self):
        for n in range(10):
            self.request_reset(email=f"nobody{n}@example.org")
        self.request_reset()
        self.assertEqual(mail.outbox, [])

    def test_requests_older_than_an_hour_do_not_count(self):
        # The trail is append-only (on PostgreSQL the database refuses an UPDATE): insert
        # old requests rather than ageing new ones.
        two_hours_ago = timezone.now() - datetime.timedelta(hours=2)
        AuditEvent.objects.bulk_create(
            AuditEvent(action=AuditEvent.Action.PASSWORD_RESET_REQUESTED, actor=self.pat, at=two_hours_ago)
            for _ in range(3)
        )
        self.request_reset()
        self.assertEqual(len(mail.outbox), 1)
