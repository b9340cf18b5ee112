"""Reminders by text message: the number and consent, one text per patient per sweep as an
email would be, the quiet hours, a real HTTP provider (a fake one in this process), and
STOP replies through the signed webhook."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from django.core import mail
from django.test import override_settings
from django.urls import reverse

from accounts.models import User
from portal import reminders, sms
from portal.models import Reminder, SmsConsent
from tests.factories import PatientFactory
from tests.portal.test_reminders import ReminderTestCase, days
from tests.services import free_port

NEVER_QUIET = {"SMS_QUIET_HOURS": [0, 0], "SMS_BACKEND": "portal.sms.LocMemBackend"}
SETTINGS = "/settings/"


def on_texts(patient, phone="+14155552671"):
    User.objects.filter(pk=patient.pk).update(reminder_channel="sms", phone=phone)


@override_settings(**NEVER_QUIET)
class ChoosingTextsTests(ReminderTestCase):
    def setUp(self):
        self.sign_in(self.pat)

    def post(self, **data):
        return self.client.post(SETTINGS, {"reminder_emails": "on", "language": "en", **data})

    def test_a_patient_chooses_texts_with_a_number_and_the_consent_shown(self):
        page = self.client.get(SETTINGS)
        self.assertContains(page, "I agree to get text messages from Riverside")
        self.post(reminder_channel="sms", phone="(415) 555-2671", sms_consent="on")
        self.pat.refresh_from_db()
        self.assertEqual((self.pat.reminder_channel, self.pat.phone), ("sms", "+14155552671"))
        consent = SmsConsent.objects.get()
        self.assertTrue(consent.given)
        self.assertIn("Reply STOP to stop them", consent.wording)
        self.assertEqual(consent.source, SmsConsent.Source.SETTINGS)

    def test_the_clinician_sees_how_the_patient_gets_reminders(self):
        self.sign_in(self.alice)
        detail = reverse("portal:patient_detail", args=[self.pat.code])
        self.assertContains(self.client.get(detail), "By email")
        on_texts(self.pat)
        self.assertContains(self.client.get(detail), "By text message to +14155552671")
        User.objects.filter(pk=self.pat.pk).update(reminder_emails=False)
        self.assertContains(self.client.get(detail), "Off: the patient switched them off")

    def test_a_malformed_number_or_no_consent_gets_a_message_and_changes_nothing(self):
        for data, words in (
            ({"phone": "12345", "sms_consent": "on"}, "Enter a mobile number we can text"),
            ({"phone": "+1 415 555 2671"}, "tick the box to agree"),
        ):
            response = self.post(reminder_channel="sms", reminder_emails="", **data)
            self.assertContains(response, words, status_code=400)
        self.pat.refresh_from_db()
        self.assertEqual(
            (self.pat.reminder_channel, self.pat.phone, self.pat.reminder_emails), ("email", "", True)
        )
        self.assertFalse(SmsConsent.objects.exists())

    def test_going_back_to_email_is_recorded(self):
        self.post(reminder_channel="sms", phone="+14155552671", sms_consent="on")
        self.post(reminder_channel="email")
        self.assertEqual(User.objects.get(pk=self.pat.pk).reminder_channel, "email")
        self.assertEqual(
            list(SmsConsent.objects.order_by("pk").values_list("given", flat=True)), [True, False]
        )


@override_settings(**NEVER_QUIET)
class TextDeliveryTests(ReminderTestCase):
    def setUp(self):
        sms.LocMemBackend.outbox = []
        self.due(1)
        self.kim = PatientFactory(email="kim@example.org", clinic=self.riverside)
        self.assign(self.kim, self.sleep, due_date=days(1))
        self.lee = PatientFactory(email="lee@example.org", clinic=self.riverside)
        self.assign(self.lee, self.driving, due_date=days(1))

    def test_a_sweep_sends_as_many_texts_as_it_would_send_emails_one_per_patient(self):
        self.sweep()
        emails = len(mail.outbox)
        self.assertEqual(emails, 3)
        Reminder.objects.all().delete()
        mail.outbox = []
        for patient in (self.pat, self.kim, self.lee):
            on_texts(patient)
        self.sweep()
        self.assertEqual((len(sms.LocMemBackend.outbox), len(mail.outbox)), (emails, 0))
        self.sweep()  # nothing left to send: nothing sent twice
        self.assertEqual(len(sms.LocMemBackend.outbox), emails)

    def test_a_text_carries_the_clinics_name_and_a_link_only(self):
        on_texts(self.pat)
        self.sweep()
        to, body = next(text for text in sms.LocMemBackend.outbox if text[0] == "+14155552671")
        self.assertIn("Riverside", body)
        self.assertIn("http://", body)
        for word in ("Sleep", "sleep", "clonazepam", "Pat", "due", "overdue"):
            self.assertNotIn(word, body)
        self.assertEqual(sorted(m.to[0] for m in mail.outbox), ["kim@example.org", "lee@example.org"])

    @override_settings(SMS_QUIET_HOURS=[0, 24])
    def test_in_the_quiet_hours_texts_wait_for_the_next_sweep(self):
        on_texts(self.pat)
        self.sweep()
        self.assertEqual(sms.LocMemBackend.outbox, [])
        waiting = Reminder.objects.get(recipient=self.pat)
        self.assertIsNone(waiting.sent_at)
        self.assertEqual(waiting.attempts, 0)
        with override_settings(SMS_QUIET_HOURS=[0, 0]):
            self.sweep()
        self.assertEqual(len(sms.LocMemBackend.outbox), 1)


class FakeProvider:
    """An SMS provider's HTTP API in this process, answering each message with `status`."""

    def __init__(self, status=200):
        self.status, self.received = status, []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                provider.received.append((self.headers["Authorization"], json.loads(body)))
                self.send_response(provider.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", free_port()), Handler)

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def settings(self):
        return {
            "SMS_BACKEND": "portal.sms.HttpBackend",
            "SMS_PROVIDER_URL": f"http://127.0.0.1:{self.server.server_port}/messages",
            "SMS_PROVIDER_TOKEN": "provider-token",
            "SMS_QUIET_HOURS": [0, 0],
        }


class HttpProviderTests(ReminderTestCase):
    def setUp(self):
        self.due(1)
        on_texts(self.pat)
        reminders.plan_patient_reminders()

    def deliver(self):
        return [reminders.deliver_reminders(batch) for batch in reminders.pending_recipient_batches()]

    def test_the_provider_gets_the_number_the_text_and_the_token(self):
        with FakeProvider() as provider, override_settings(**provider.settings()):
            self.deliver()
        self.assertEqual(len(provider.received), 1)
        authorization, message = provider.received[0]
        self.assertEqual(authorization, "Bearer provider-token")
        self.assertEqual(message["to"], "+14155552671")
        self.assertIsNotNone(Reminder.objects.get().sent_at)

    def test_a_provider_that_is_down_keeps_the_reminder_for_the_next_try(self):
        with (
            FakeProvider(status=503) as provider,
            override_settings(**provider.settings()),
            self.assertRaises(reminders.TransientDeliveryError),
        ):
            self.deliver()
        waiting = Reminder.objects.get()
        self.assertEqual((waiting.sent_at, waiting.claim, waiting.failed_at), (None, None, None))
        with FakeProvider() as provider, override_settings(**provider.settings()):
            self.deliver()
        self.assertIsNotNone(Reminder.objects.get().sent_at)

    def test_a_number_the_provider_refuses_fails_that_reminder(self):
        with FakeProvider(status=400) as provider, override_settings(**provider.settings()):
            self.deliver()
        self.assertIn("provider refused", Reminder.objects.get().error)
        self.assertIsNotNone(Reminder.objects.get().failed_at)


@override_settings(SMS_WEBHOOK_SECRET="webhook-secret")
class StopReplyTests(ReminderTestCase):
    def reply(self, text, secret="webhook-secret", sender="+1 415 555 2671"):  # noqa: S107 (the test's own)
        body = json.dumps({"from": sender, "text": text}).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest() if secret else ""
        return self.client.post(
            reverse("portal:sms_inbound"), body, content_type="application/json", HTTP_X_SIGNATURE=signature
        )

    def setUp(self):
        on_texts(self.pat)

    def test_stop_moves_the_patient_back_to_email_and_is_recorded(self):
        response = self.reply(" stop ")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(User.objects.get(pk=self.pat.pk).reminder_channel, "email")
        stopped = SmsConsent.objects.get()
        self.assertEqual((stopped.given, stopped.source), (False, SmsConsent.Source.STOP_REPLY))

    def test_an_unsigned_or_wrongly_signed_reply_is_refused_and_changes_nothing(self):
        for secret in ("", "not-the-secret"):
            self.assertEqual(self.reply("STOP", secret=secret).status_code, 403)
        self.assertEqual(User.objects.get(pk=self.pat.pk).reminder_channel, "sms")
        self.assertFalse(SmsConsent.objects.exists())

    def test_another_reply_changes_nothing(self):
        self.assertEqual(self.reply("Thanks!").status_code, 200)
        self.assertEqual(User.objects.get(pk=self.pat.pk).reminder_channel, "sms")
