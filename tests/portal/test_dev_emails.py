"""Email in development: a readable block in the console, the message kept on disk, and the
staff's "Sent emails" page, which exists only while that backend is the one chosen."""

import io
import tempfile
from pathlib import Path

from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import SimpleTestCase, override_settings
from django.urls import reverse

from portal import dev_email
from tests.base import PortalTestCase
from tests.portal.test_settings import manage, production_settings

LINK = "http://127.0.0.1:8001/accounts/invitation/abc123/"


def invitation(body=f"Hello Pat, café first — then set your password: {LINK}\n", to="pat@example.org"):
    message = EmailMultiAlternatives(subject="Your invitation", body=body, to=[to])
    message.attach_alternative(f'<p>Set your password: <a href="{LINK}">here</a></p>', "text/html")
    return message


class DevEmailTestCase(PortalTestCase):
    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)
        self.enterContext(override_settings(SENT_EMAILS_DIR=self.folder))
        self.console = io.StringIO()

    def send(self, *messages):
        return dev_email.EmailBackend(stream=self.console).send_messages(list(messages))


class BackendTests(DevEmailTestCase):
    def test_it_prints_who_the_subject_and_the_text_body_with_its_link(self):
        self.send(invitation())
        printed = self.console.getvalue()
        self.assertIn("Email to pat@example.org\nSubject: Your invitation\n", printed)
        self.assertIn(f"café first — then set your password: {LINK}\n", printed)

    def test_it_prints_no_mime_headers_no_base64_and_not_the_html_part(self):
        self.send(invitation())
        printed = self.console.getvalue()
        for mime in ("Content-Transfer-Encoding", "Content-Type", "MIME-Version", "base64", "<p>"):
            self.assertNotIn(mime, printed)

    def test_it_keeps_each_message_as_an_eml_file(self):
        self.assertEqual(self.send(invitation(), invitation(to="lee@example.org")), 2)
        self.assertEqual(len(list(self.folder.glob("*.eml"))), 2)
        self.assertEqual([e.to for e in dev_email.sent_emails()], ["lee@example.org", "pat@example.org"])
        self.assertIn(LINK, dev_email.sent_emails()[0].body)

    def test_djangos_send_mail_reaches_it_when_it_is_the_configured_backend(self):
        with override_settings(EMAIL_BACKEND="portal.dev_email.EmailBackend"):
            connection = mail.get_connection(stream=self.console)
            mail.send_mail("Reset your password", f"Go to {LINK}", None, ["pat@x.org"], connection=connection)
        self.assertEqual(dev_email.sent_emails()[0].subject, "Reset your password")
        self.assertIn("Subject: Reset your password", self.console.getvalue())


class SentEmailsPageTests(DevEmailTestCase):
    url = reverse("portal:dev_emails")

    def test_staff_see_the_emails_newest_first_with_a_clickable_link(self):
        self.send(invitation(body="First"), invitation(body=f"Second: {LINK}", to="lee@example.org"))
        self.sign_in(self.alice)
        response = self.client.get(self.url)
        self.assertContains(response, f'<a href="{LINK}" rel="nofollow">{LINK}</a>', html=True)
        self.assertContains(response, "To lee@example.org")
        content = response.content.decode()
        self.assertLess(content.index("Second:"), content.index("First"))

    def test_html_in_a_body_is_shown_as_text(self):
        self.send(invitation(body='<script>alert("x")</script> <b>bold</b>'))
        self.sign_in(self.alice)
        response = self.client.get(self.url)
        self.assertNotContains(response, '<script>alert("x")')
        self.assertContains(response, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;")
        self.assertContains(response, "&lt;b&gt;bold&lt;/b&gt;")

    def test_it_says_so_when_nothing_was_sent(self):
        self.sign_in(self.alice)
        self.assertContains(self.client.get(self.url), "No emails yet.")

    def test_a_patient_gets_404(self):
        self.sign_in(self.pat)
        self.assertEqual(self.client.get(self.url).status_code, 404)

    def test_an_anonymous_visitor_is_sent_to_sign_in(self):
        response = self.client.get(self.url)
        self.assertRedirects(response, f"{reverse('login')}?next={self.url}", fetch_redirect_response=False)

    def test_it_answers_405_to_a_post(self):
        self.sign_in(self.alice)
        self.assertEqual(self.client.post(self.url).status_code, 405)

    @override_settings(SENT_EMAILS_DIR=None, EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
    def test_with_a_real_mail_server_it_is_404_even_before_signing_in(self):
        self.assertEqual(self.client.get(self.url).status_code, 404)
        self.sign_in(self.alice)
        self.assertEqual(self.client.get(self.url).status_code, 404)

    @override_settings(PRODUCTION=True)
    def test_in_production_it_is_404_for_staff(self):
        self.sign_in(self.alice)
        self.assertEqual(self.client.get(self.url).status_code, 404)


class SettingsTests(SimpleTestCase):
    """Which backend settings.py chooses: each case a fresh manage.py."""

    def backend(self, **env):
        code = "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.SENT_EMAILS_DIR)"
        result = manage("shell", "-v", "0", "-c", code, **env)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.split()

    def test_development_without_a_mail_server_uses_the_development_backend(self):
        backend, folder = self.backend(EMAIL_URL="", EMAIL_HOST="")
        self.assertEqual(backend, "portal.dev_email.EmailBackend")
        self.assertTrue(folder.endswith("var/sent-emails"))

    def test_a_server_without_debug_prints_emails_and_keeps_no_page_of_their_links(self):
        # A staging server left in development mode but without DEBUG: reset and invitation
        # links must not be readable by every clinician.
        self.assertEqual(
            self.backend(EMAIL_URL="", EMAIL_HOST="", DEBUG="false"),
            ["django.core.mail.backends.console.EmailBackend", "None"],
        )

    def test_development_with_a_mail_server_sends_through_it_and_has_no_page(self):
        self.assertEqual(
            self.backend(EMAIL_URL="smtp://mail.example.org:25"),
            ["django.core.mail.backends.smtp.EmailBackend", "None"],
        )

    def test_production_never_uses_the_development_backend(self):
        self.assertEqual(
            production_settings("s.EMAIL_BACKEND", "s.SENT_EMAILS_DIR"),
            ["django.core.mail.backends.console.EmailBackend", "None"],
        )
