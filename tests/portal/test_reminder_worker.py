"""A real Celery worker on the real broker (CELERY_BROKER_URL), a real SMTP server, and
the PostgreSQL test database: the reminder guarantee end to end."""

import datetime
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from celery import Celery
from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from education.models import Assignment, Module
from portal.models import Reminder
from tests.factories import ClinicFactory, ClinicianFactory, PatientFactory
from tests.library import load_and_approve
from tests.services import SmtpServer, broker_url_or_skip, postgresql_or_skip

PROJECT = Path(__file__).resolve().parents[2]


class RealWorkerTests(TransactionTestCase):
    def setUp(self):
        postgresql_or_skip(connection)
        self.broker = broker_url_or_skip()
        self.queue = f"test-reminders-{uuid.uuid4().hex[:8]}"
        self.client_app = Celery(broker=self.broker, backend=self.broker)
        load_and_approve()
        clinic = ClinicFactory(name="Riverside")
        alice = ClinicianFactory(clinics=[clinic])
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        module = Module.objects.get(slug="sleep-medicines")
        self.patients = PatientFactory.create_batch(3, clinic=clinic)
        for patient in self.patients:
            Assignment.objects.create(patient=patient, module=module, assigned_by=alice, due_date=tomorrow)

    def start_worker(self, smtp_port):
        db = connection.settings_dict
        login = f"{db['USER']}:{db['PASSWORD'] or ''}"
        where = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        environment = os.environ | {
            # The worker must see this test's rows: the test database, committed.
            "DATABASE_URL": f"postgres://{login}@{where}/{db['NAME']}",
            "CELERY_BROKER_URL": self.broker,
            "CELERY_RESULT_BACKEND": self.broker,
            "CELERY_QUEUE": self.queue,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "REMINDER_RETRY_SECONDS": "1",
        }
        worker = subprocess.Popen(  # noqa: S603 - our own Celery app with fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "-Q",
                self.queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
            ],
            cwd=PROJECT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.addCleanup(self.stop_worker, worker)
        return worker

    def stop_worker(self, worker):
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()

    def sweep(self):
        result = self.client_app.send_task("portal.tasks.send_due_reminders", queue=self.queue)
        return result.get(timeout=60)

    def wait_for_emails(self, server, count, timeout=60):
        deadline = time.monotonic() + timeout
        while len(server.received) < count and time.monotonic() < deadline:
            time.sleep(0.2)

    def test_a_queued_sweep_sends_each_email_once_through_a_mail_server_that_fails_twice(self):
        with SmtpServer(fail_messages={1, 2}) as server:
            self.start_worker(server.port)
            self.assertEqual(self.sweep(), {"planned": 3, "batches": 1})
            self.wait_for_emails(server, 3)
            # The mail server refused the first two tries; the retries sent each email once.
            self.assertEqual(server.messages, 5)
            self.assertEqual(server.recipients(), sorted(p.email for p in self.patients))
            self.assertEqual(Reminder.objects.filter(sent_at__isnull=False).count(), 3)
            # A second sweep plans and sends nothing.
            self.assertEqual(self.sweep(), {"planned": 0, "batches": 0})
            time.sleep(1)
            self.assertEqual(len(server.received), 3)
