import re

from django.core import mail
from django.urls import reverse

from tests.base import PortalTestCase
from tests.factories import PatientFactory


def new_password(password):
    return {"new_password1": password, "new_password2": password}


class SignInTests(PortalTestCase):
    def sign_in_with(self, email, password):
        return self.client.post(reverse("login"), {"username": email, "password": password})

    def test_a_patient_signs_in_with_their_email_address(self):
        response = self.sign_in_with("pat@example.org", self.password)
        self.assertRedirects(response, reverse("home"), target_status_code=302)

    def test_the_email_address_is_not_case_sensitive(self):
        response = self.sign_in_with("  PAT@Example.ORG", self.password)
        self.assertRedirects(response, reverse("home"), target_status_code=302)

    def test_a_wrong_password_gets_a_clear_message(self):
        response = self.sign_in_with("pat@example.org", "wrong-password")
        self.assertContains(response, "Please enter a correct email address and password")
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_an_invited_patient_cannot_sign_in_before_setting_a_password(self):
        PatientFactory(email="new@example.org", invited=True)
        response = self.sign_in_with("new@example.org", "")
        self.assertNotIn("_auth_user_id", self.client.session)
        self.assertEqual(response.status_code, 200)

    def test_signing_out_needs_a_post(self):
        self.sign_in(self.pat)
        self.assertEqual(self.client.get(reverse("logout")).status_code, 405)
        self.client.post(reverse("logout"))
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_the_sign_in_page_is_styled_with_crispy_forms(self):
        response = self.client.get(reverse("login"))
        self.assertContains(response, "form-control", count=2)
        self.assertContains(response, "Email address")


class PasswordTests(PortalTestCase):
    def test_a_signed_in_user_changes_their_password(self):
        self.sign_in(self.pat)
        response = self.client.post(
            reverse("password_change"),
            {
                "old_password": self.password,
                "new_password1": "lantern-otter-river-7",
                "new_password2": "lantern-otter-river-7",
            },
        )
        self.assertRedirects(response, reverse("password_change_done"))
        self.pat.refresh_from_db()
        self.assertTrue(self.pat.check_password("lantern-otter-river-7"))

    def test_a_common_new_password_is_refused(self):
        self.sign_in(self.pat)
        response = self.client.post(
            reverse("password_change"),
            {"old_password": self.password, **new_password("password123")},
        )
        self.assertContains(response, "This password is too common")

    def test_a_password_reset_email_carries_a_working_link_and_no_health_information(self):
        self.client.post(reverse("password_reset"), {"email": "pat@example.org"})
        self.assertEqual(len(mail.outbox), 1)
        body = mail.outbox[0].body
        self.assertNotIn("Pat Patient", body)
        path = re.search(r"https?://[^/]+(/\S+)", body).group(1)
        form_url = self.client.get(path).url  # Django moves the token into the session
        response = self.client.post(form_url, new_password("lantern-otter-river-7"))
        self.assertRedirects(response, reverse("password_reset_complete"))
        self.pat.refresh_from_db()
        self.assertTrue(self.pat.check_password("lantern-otter-river-7"))

    def test_a_password_reset_for_an_unknown_email_looks_the_same_and_sends_nothing(self):
        response = self.client.post(reverse("password_reset"), {"email": "nobody@example.org"})
        self.assertRedirects(response, reverse("password_reset_done"))
        self.assertEqual(mail.outbox, [])


class MessagePrivacyTests(PortalTestCase):
    def test_a_message_about_a_patient_is_not_kept_in_a_cookie(self):
        self.sign_in(self.alice)
        self.client.post(reverse("portal:patient_resend_invitation", args=[self.pat.code]))
        self.assertNotIn("messages", self.client.cookies)

    def test_signing_out_drops_messages_the_next_person_would_see(self):
        self.sign_in(self.alice)
        self.client.post(reverse("portal:patient_resend_invitation", args=[self.pat.code]))
        self.client.post(reverse("logout"))
        self.sign_in(self.olive)
        response = self.client.get(reverse("education:my_modules"))
        self.assertNotContains(response, "already set up their account")
