import datetime
from io import StringIO
from unittest import mock

from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from education.models import Assignment, Module
from portal import reminders, services
from portal.models import FollowUpVisit, Reminder
from portal.tasks import deliver_reminders, requeue_pending_reminders, send_due_reminders, send_visit_digests
from tests.education.base import EducationTestCase
from tests.factories import PatientFactory, VisitFactory
from tests.services import SmtpServer, eager_celery

Kind = Reminder.Kind


def days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


class ReminderTestCase(EducationTestCase):
    """Pat's sleep module falls due in a week; each test moves the due date it needs."""

    def due(self, n, assignment=None):
        Assignment.objects.filter(pk=(assignment or self.assignment).pk).update(due_date=days(n))

    def planned(self):
        return sorted(Reminder.objects.values_list("kind", flat=True))

    def sweep(self):
        with eager_celery():
            return send_due_reminders.delay().get()


class WhoGetsWhatWhenTests(ReminderTestCase):
    def test_due_within_two_days_plans_a_due_soon_reminder(self):
        self.due(2)
        reminders.plan_patient_reminders()
        self.assertEqual(self.planned(), [Kind.DUE_SOON])

    def test_due_in_three_days_plans_nothing(self):
        self.due(3)
        reminders.plan_patient_reminders()
        self.assertEqual(self.planned(), [])

    def test_one_day_after_the_due_date_plans_overdue(self):
        self.due(-1)
        reminders.plan_patient_reminders()
        self.assertEqual(self.planned(), [Kind.OVERDUE])

    def test_seven_days_after_plans_the_second_and_last_overdue(self):
        self.due(-1)
        reminders.plan_patient_reminders()
        self.due(-7)
        reminders.plan_patient_reminders()
        self.due(-30)
        reminders.plan_patient_reminders()
        self.assertEqual(self.planned(), [Kind.OVERDUE, Kind.STILL_OVERDUE])

    def test_a_second_sweep_plans_and_sends_nothing_more(self):
        self.due(1)
        self.sweep()
        self.sweep()
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(Reminder.objects.count(), 1)

    def test_completed_and_cancelled_modules_get_no_reminder(self):
        self.due(-1)
        other = self.assign(self.pat, self.driving, due_date=days(-1))
        Assignment.objects.filter(pk=self.assignment.pk).update(completed_at=timezone.now())
        Assignment.objects.filter(pk=other.pk).update(cancelled_at=timezone.now())
        reminders.plan_patient_reminders()
        self.assertEqual(self.planned(), [])

    def test_a_patient_who_switched_reminders_off_gets_none(self):
        self.due(1)
        reminders.set_reminder_emails(patient=self.pat, enabled=False)
        self.sweep()
        self.assertEqual((self.planned(), mail.outbox), ([], []))

    def test_switching_off_after_planning_drops_what_is_pending(self):
        self.due(1)
        reminders.plan_patient_reminders()
        reminders.set_reminder_emails(patient=self.pat, enabled=False)
        self.sweep()
        self.assertEqual(mail.outbox, [])
        self.assertIsNotNone(Reminder.objects.get().skipped_at)

    def test_a_patient_who_has_not_set_up_their_account_gets_none(self):
        invited = PatientFactory(clinic=self.riverside, invited=True)
        self.assign(invited, self.sleep, due_date=days(1))
        reminders.plan_patient_reminders()
        self.assertFalse(Reminder.objects.filter(recipient=invited).exists())

    def test_a_patient_gets_one_email_for_several_reminders(self):
        self.due(1)
        self.assign(self.pat, self.driving, due_date=days(-8))
        self.sweep()
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(Reminder.objects.filter(sent_at__isnull=False).count(), 3)
        self.assertIn("2 items waiting", mail.outbox[0].body)


class EmailTextTests(ReminderTestCase):
    def setUp(self):
        self.due(1)
        self.sweep()
        self.email = mail.outbox[0]
        self.texts = [self.email.subject, self.email.body, self.email.alternatives[0][0]]

    def test_it_names_the_clinic_the_count_and_the_link(self):
        self.assertEqual(self.email.to, ["pat@example.org"])
        self.assertIn("Riverside has 1 item waiting for you", self.email.body)
        self.assertIn("http://127.0.0.1:8000/modules/", self.email.body)

    def test_it_says_nothing_about_the_module_the_medicine_or_the_patient(self):
        forbidden = [
            self.sleep.title,
            "sleep",
            "clonazepam",
            "benzodiazepine",
            "Klonopin",
            "Pat Patient",
            "overdue",
        ]
        for text in self.texts:
            for word in forbidden:
                self.assertNotIn(word.lower(), text.lower())

    def test_it_has_a_working_unsubscribe_link_and_header(self):
        link = self.email.extra_headers["List-Unsubscribe"].strip("<>")
        self.assertIn(link, self.email.body)
        path = link.removeprefix("http://127.0.0.1:8000")
        self.assertContains(self.client.get(path), "Stop reminder emails?")
        self.client.post(path)
        self.pat.refresh_from_db()
        self.assertFalse(self.pat.reminder_emails)


class DeliveryTests(ReminderTestCase):
    def setUp(self):
        self.due(1)
        self.kim = PatientFactory(email="kim@example.org", clinic=self.riverside)
        self.kims = self.assign(self.kim, self.sleep, due_date=days(1))
        reminders.plan_patient_reminders()

    def deliver(self):
        return [reminders.deliver_reminders(batch) for batch in reminders.pending_recipient_batches()]

    def test_a_module_cancelled_between_planning_and_sending_sends_nothing_and_the_rest_goes_out(self):
        Assignment.objects.filter(pk=self.assignment.pk).update(cancelled_at=timezone.now())
        self.deliver()
        self.assertEqual([email.to for email in mail.outbox], [["kim@example.org"]])
        self.assertIsNotNone(Reminder.objects.get(assignment=self.assignment).skipped_at)

    def test_a_refused_address_fails_that_reminder_only_and_logs_no_health_information(self):
        with (
            SmtpServer(refuse={"pat@example.org"}) as server,
            override_settings(**server.settings()),
            self.assertLogs("portal.reminders", "WARNING") as logs,
        ):
            self.deliver()
        self.assertEqual(server.recipients(), ["kim@example.org"])
        failed = Reminder.objects.get(recipient=self.pat)
        self.assertEqual(failed.error, "address refused by the mail server")
        log = "\n".join(logs.output)
        self.assertIn(str(failed.code), log)
        for word in ("pat@example.org", "Pat Patient", "Sleep"):
            self.assertNotIn(word, log)

    def test_a_patient_without_an_address_is_logged_by_code_and_the_rest_still_goes_out(self):
        User.objects.filter(pk=self.pat.pk).update(email="")
        with self.assertLogs("portal.reminders", "WARNING") as logs:
            self.deliver()
        self.assertEqual([email.to for email in mail.outbox], [["kim@example.org"]])
        failed = Reminder.objects.get(recipient=self.pat)
        self.assertEqual(failed.error, "no usable address")
        self.assertIn(str(failed.code), logs.output[0])

    def test_a_mail_server_that_is_down_keeps_the_reminders_for_the_next_try(self):
        with SmtpServer() as server:
            down = server.settings() | {"EMAIL_PORT": 1}
        with override_settings(**down), self.assertRaises(reminders.TransientDeliveryError):
            self.deliver()
        self.assertEqual(Reminder.objects.filter(sent_at__isnull=True, claim__isnull=True).count(), 2)
        with SmtpServer() as server, override_settings(**server.settings()):
            self.deliver()
            self.deliver()
        self.assertEqual(server.recipients(), ["kim@example.org", "pat@example.org"])

    def test_a_temporary_failure_mid_batch_resends_only_what_was_not_sent(self):
        with SmtpServer(fail_messages={2}) as server, override_settings(**server.settings()):
            with self.assertRaises(reminders.TransientDeliveryError):
                self.deliver()
            self.assertEqual(len(server.received), 1)
            self.deliver()
        self.assertEqual(server.recipients(), ["kim@example.org", "pat@example.org"])
        self.assertEqual(Reminder.objects.filter(sent_at__isnull=False).count(), 2)

    def test_a_claim_held_by_another_delivery_is_left_alone_until_its_lease_runs_out(self):
        Reminder.objects.filter(recipient=self.pat).update(
            claim="6f1e2c1e-5c57-4f6e-9a50-0c3f7a1b2c3d", claimed_at=timezone.now()
        )
        self.deliver()
        self.assertEqual([email.to for email in mail.outbox], [["kim@example.org"]])
        # The other delivery died: after the lease, the next sweep sends it, once.
        Reminder.objects.filter(recipient=self.pat).update(
            claimed_at=timezone.now() - datetime.timedelta(hours=1)
        )
        self.deliver()
        self.deliver()
        self.assertEqual([email.to for email in mail.outbox], [["kim@example.org"], ["pat@example.org"]])

    def test_a_greylisted_address_4xx_at_rcpt_is_retried_not_failed(self):
        with SmtpServer(greylist={"pat@example.org"}) as server, override_settings(**server.settings()):
            with self.assertRaises(reminders.TransientDeliveryError):
                self.deliver()
            self.assertIsNone(Reminder.objects.get(recipient=self.pat).failed_at)
            self.deliver()
        self.assertEqual(server.recipients(), ["kim@example.org", "pat@example.org"])
        self.assertEqual(Reminder.objects.filter(sent_at__isnull=False).count(), 2)

    def test_a_4xx_at_mail_from_is_retried_not_failed(self):
        with (
            SmtpServer(refuse_sender="421 4.3.2 Service not available, try later") as server,
            override_settings(**server.settings()),
            self.assertRaises(reminders.TransientDeliveryError),
        ):
            self.deliver()
        self.assertFalse(Reminder.objects.filter(failed_at__isnull=False).exists())
        self.assertEqual(Reminder.objects.filter(claim__isnull=True, sent_at__isnull=True).count(), 2)

    def test_a_5xx_at_data_fails_that_message_only(self):
        with SmtpServer(reject_messages={1}) as server, override_settings(**server.settings()):
            self.deliver()
        failed = Reminder.objects.get(failed_at__isnull=False)
        self.assertEqual(failed.error, "message refused by the mail server (554)")
        self.assertEqual(len(server.received), 1)

    def test_after_the_give_up_age_a_temporary_failure_fails_the_row_with_its_reason(self):
        Reminder.objects.filter(recipient=self.pat).update(
            created_at=timezone.now() - datetime.timedelta(days=4)
        )
        with (
            SmtpServer(refuse_sender="421 4.3.2 Try later") as server,
            override_settings(**server.settings()),
            self.assertRaises(reminders.TransientDeliveryError),
        ):
            self.deliver()
        given_up = Reminder.objects.get(recipient=self.pat)
        self.assertEqual(given_up.error, "not delivered within 72 hours")
        self.assertIsNotNone(given_up.failed_at)
        self.assertIsNone(Reminder.objects.get(recipient=self.kim).failed_at)  # younger: retried

    def test_the_two_minute_task_resends_rows_a_crashed_delivery_left_claimed(self):
        dead_claim = "6f1e2c1e-5c57-4f6e-9a50-0c3f7a1b2c3d"
        Reminder.objects.update(claim=dead_claim, claimed_at=timezone.now() - datetime.timedelta(minutes=11))
        with eager_celery():
            result = requeue_pending_reminders.delay().get()
        self.assertEqual(result["batches"], 1)
        self.assertEqual(
            sorted(to for email in mail.outbox for to in email.to), ["kim@example.org", "pat@example.org"]
        )
        self.assertFalse(Reminder.objects.filter(sent_at__isnull=True).exists())

    def test_a_claim_within_its_lease_is_not_resent_by_the_two_minute_task(self):
        Reminder.objects.update(claim="6f1e2c1e-5c57-4f6e-9a50-0c3f7a1b2c3d", claimed_at=timezone.now())
        with eager_celery():
            requeue_pending_reminders.delay().get()
        self.assertEqual(mail.outbox, [])

    def test_a_database_error_in_delivery_is_retried_on_a_new_connection(self):
        from celery.exceptions import Retry
        from django.db import OperationalError

        with (
            mock.patch("portal.tasks.reminders.deliver_reminders", side_effect=OperationalError("restart")),
            mock.patch("portal.tasks.close_old_connections") as reconnect,
            eager_celery(),
            self.assertRaises(Retry),
        ):
            deliver_reminders.apply(args=[[self.pat.pk]], throw=True)
        reconnect.assert_called_once()

    def test_the_command_runs_a_sweep_once(self):
        Reminder.objects.all().delete()
        out = StringIO()
        call_command("send_reminders", stdout=out)
        self.assertIn("Planned 2 reminders; sent 2 in 2 emails", out.getvalue())


class VisitDigestTests(ReminderTestCase):
    def visit(self, patient, in_days, **fields):
        when = timezone.now().replace(hour=10, minute=0) + datetime.timedelta(days=in_days)
        return VisitFactory(patient=patient, clinician=self.alice, scheduled_at=when, **fields)

    def digest(self):
        with eager_celery():
            return send_visit_digests.delay().get()

    def test_the_clinician_gets_one_email_counting_tomorrows_visits_and_naming_no_patient(self):
        self.visit(self.pat, 1)
        self.visit(PatientFactory(full_name="Kim Other", clinic=self.riverside), 1)
        self.visit(self.pat, 2)
        self.digest()
        self.assertEqual(len(mail.outbox), 1)
        email = mail.outbox[0]
        self.assertEqual(email.to, ["alice@example.org"])
        self.assertIn("You have 2 follow-up visits tomorrow at Riverside", email.body)
        for name in ("Pat", "Kim", self.sleep.title):
            self.assertNotIn(name, email.body + email.alternatives[0][0])

    def test_a_second_run_sends_no_second_digest(self):
        self.visit(self.pat, 1)
        self.digest()
        self.digest()
        self.assertEqual(len(mail.outbox), 1)

    def test_a_visit_moved_after_its_digest_went_out_gets_a_digest_for_its_new_day(self):
        visit = self.visit(self.pat, 1)
        self.digest()
        services.reschedule_visit(
            visit=visit,
            scheduled_at=visit.scheduled_at + datetime.timedelta(days=1),
            clinician=self.alice,
            changed_by=self.alice,
        )
        # The eve of the new day: the planner runs as the daily task does.
        self.assertEqual(reminders.plan_visit_digests(now=timezone.now() + datetime.timedelta(days=1)), 1)
        reminders.deliver_reminders([self.alice.pk])
        self.assertEqual(len(mail.outbox), 2)
        self.assertEqual(
            self.digest_times(visit), [visit.scheduled_at - datetime.timedelta(days=1), visit.scheduled_at]
        )

    def test_a_digest_planned_before_its_visit_moved_is_not_sent(self):
        visit = self.visit(self.pat, 1)
        reminders.plan_visit_digests()
        # Moved by hand, around the service that drops the unsent digest.
        FollowUpVisit.objects.filter(pk=visit.pk).update(
            scheduled_at=visit.scheduled_at + datetime.timedelta(days=3)
        )
        reminders.deliver_reminders([self.alice.pk])
        self.assertEqual(mail.outbox, [])

    def digest_times(self, visit):
        return list(
            Reminder.objects.filter(visit=visit).order_by("visit_at").values_list("visit_at", flat=True)
        )

    def test_a_visit_already_held_gets_no_digest(self):
        self.visit(self.pat, 1, held_at=timezone.now())
        self.digest()
        self.assertEqual(mail.outbox, [])


class ReminderSettingsTests(ReminderTestCase):
    def test_a_patient_switches_reminder_emails_off_and_on(self):
        self.sign_in(self.pat)
        self.client.post(reverse("portal:patient_settings"), {})
        self.pat.refresh_from_db()
        self.assertFalse(self.pat.reminder_emails)
        self.client.post(reverse("portal:patient_settings"), {"reminder_emails": "on"})
        self.pat.refresh_from_db()
        self.assertTrue(self.pat.reminder_emails)

    def test_a_clinician_has_no_patient_settings_page(self):
        self.sign_in(self.alice)
        self.assertEqual(self.client.get(reverse("portal:patient_settings")).status_code, 404)

    def test_opening_the_unsubscribe_link_changes_nothing_until_confirmed(self):
        token = reminders.unsubscribe_token(self.pat)
        self.client.get(reverse("portal:unsubscribe", args=[token]))
        self.pat.refresh_from_db()
        self.assertTrue(self.pat.reminder_emails)

    def test_a_forged_unsubscribe_link_changes_nothing(self):
        token = reminders.unsubscribe_token(self.pat)[:-2] + "xx"
        response = self.client.post(reverse("portal:unsubscribe", args=[token]))
        self.assertContains(response, "This link is not valid", status_code=404)
        self.assertTrue(User.objects.get(pk=self.pat.pk).reminder_emails)

    def test_modules_the_patient_can_read_are_unaffected_by_unsubscribing(self):
        reminders.unsubscribe(reminders.unsubscribe_token(self.pat))
        self.sign_in(self.pat)
        self.assertContains(
            self.client.get(reverse("education:my_modules")), Module.objects.get(pk=self.sleep.pk).title
        )

    def test_the_unsubscribe_link_is_one_click_and_carries_no_record_code(self):
        token = reminders.unsubscribe_token(self.pat)
        for identifier in (str(self.pat.code), self.pat.code.hex, self.pat.email):
            self.assertNotIn(identifier, token)
        response = self.client.post(reverse("portal:unsubscribe", args=[token]))
        self.assertContains(response, "You will get no more reminder emails")
        self.assertFalse(User.objects.get(pk=self.pat.pk).reminder_emails)

    def test_a_link_older_than_60_days_has_expired_and_offers_the_settings_page(self):
        sixty_one_days_ago = timezone.now() - datetime.timedelta(days=61)
        with mock.patch("django.core.signing.time.time", return_value=sixty_one_days_ago.timestamp()):
            token = reminders.unsubscribe_token(self.pat)
        for method in ("get", "post"):
            response = getattr(self.client, method)(reverse("portal:unsubscribe", args=[token]))
            self.assertContains(response, "This link has expired", status_code=410)
            self.assertContains(response, reverse("portal:patient_settings"), status_code=410)
        self.assertTrue(User.objects.get(pk=self.pat.pk).reminder_emails)

    def test_a_link_59_days_old_still_works(self):
        fifty_nine_days_ago = timezone.now() - datetime.timedelta(days=59)
        with mock.patch("django.core.signing.time.time", return_value=fifty_nine_days_ago.timestamp()):
            token = reminders.unsubscribe_token(self.pat)
        self.client.post(reverse("portal:unsubscribe", args=[token]))
        self.assertFalse(User.objects.get(pk=self.pat.pk).reminder_emails)


class DuplicateBoundTests(ReminderTestCase):
    """A worker killed before writing its sent marks repeats at most the emails it holds
    unmarked: the per-worker bound shared among its processes."""

    def test_each_process_holds_at_most_its_share_of_the_workers_bound(self):
        for concurrency, max_duplicates, group in ((2, 10, 5), (16, 10, 1), (1, 10, 10), (4, 10, 2)):
            with override_settings(
                CELERY_WORKER_CONCURRENCY=concurrency, REMINDER_MAX_DUPLICATES_PER_WORKER=max_duplicates
            ):
                self.assertEqual(reminders.sent_mark_group(), group)
                self.assertLessEqual(group * concurrency, max(max_duplicates, concurrency))

    @override_settings(CELERY_WORKER_CONCURRENCY=4, REMINDER_MAX_DUPLICATES_PER_WORKER=10)
    def test_sent_marks_are_written_once_a_process_holds_its_share(self):
        reminder_rows = [
            Reminder.objects.create(
                kind=Kind.DUE_SOON,
                assignment=self.assign(PatientFactory(clinic=self.riverside), self.driving),
                recipient=self.pat,
            )
            for _ in range(3)
        ]
        marks = reminders.SentMarks()
        marks.add([reminder_rows[0].pk])
        self.assertFalse(Reminder.objects.filter(sent_at__isnull=False).exists())  # 1 held of 2
        marks.add([reminder_rows[1].pk])
        self.assertEqual(Reminder.objects.filter(sent_at__isnull=False).count(), 2)  # written at 2
        marks.add([reminder_rows[2].pk])
        self.assertEqual(Reminder.objects.filter(sent_at__isnull=False).count(), 2)


class OutboxStatusTests(ReminderTestCase):
    def setUp(self):
        self.due(1)
        reminders.plan_patient_reminders()

    def test_a_fresh_outbox_is_healthy(self):
        out = StringIO()
        call_command("outbox_status", stdout=out)
        self.assertIn("pending 1; stale claims 0; overdue 0", out.getvalue())

    def test_a_stale_claim_and_an_overdue_row_raise_the_alert(self):
        an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
        Reminder.objects.update(
            claim="6f1e2c1e-5c57-4f6e-9a50-0c3f7a1b2c3d", claimed_at=an_hour_ago, created_at=an_hour_ago
        )
        err = StringIO()
        with self.assertRaises(SystemExit) as exit_code:
            call_command("outbox_status", stdout=StringIO(), stderr=err)
        self.assertEqual(exit_code.exception.code, 1)
        self.assertIn("ALERT", err.getvalue())
        body = self.client.get("/healthz").json()
        self.assertEqual(body["outbox"], {"stale_claims": 1, "overdue": 1})
