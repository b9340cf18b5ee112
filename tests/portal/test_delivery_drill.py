"""The fault drill: a real worker (2 processes) and beat on the real broker, the PostgreSQL
test database, and an SMTP server that greylists, answers 451 at DATA and drops a
connection; the worker is killed once and PostgreSQL restarted once in the middle. Every
due reminder must arrive, with at most REMINDER_MAX_DUPLICATES_PER_WORKER duplicates per
crash, and no hand step. Time limits are shortened so the drill takes about two minutes:
a 20-second task limit, a one-minute lease, a re-queue every five seconds."""

import collections
import datetime
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from education.models import Assignment, Module
from portal.models import Reminder
from tests.factories import ClinicFactory, ClinicianFactory, PatientFactory
from tests.library import load_and_approve
from tests.services import SmtpServer, broker_url_or_skip, postgresql_or_skip

PROJECT = Path(__file__).resolve().parents[2]
PATIENTS = 120
GREYLISTED = 5
FAILS_AT_DATA = 50
MAX_DUPLICATES_PER_CRASH = 10
LEASE_MINUTES = 1


def restart_postgresql():
    """Restart the local cluster, as an operator or a crash would. CI runs as root beside it."""
    clusters = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not clusters or not shutil.which("pg_ctlcluster"):
        if os.environ.get("CI") == "true":
            pytest.fail("The drill restarts PostgreSQL with pg_ctlcluster; CI must allow it.")
        pytest.skip("No local PostgreSQL cluster to restart.")
    subprocess.run(  # noqa: S603 - a fixed command on the local cluster
        ["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1], "main", "restart"],  # noqa: S607
        check=True,
        capture_output=True,
        timeout=60,
    )


class DeliveryDrillTests(TransactionTestCase):
    def setUp(self):
        postgresql_or_skip(connection)
        self.broker = broker_url_or_skip()
        self.queue = f"drill-{uuid.uuid4().hex[:8]}"
        load_and_approve()
        clinic = ClinicFactory(name="Drill clinic")
        clinician = ClinicianFactory(clinics=[clinic])
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        module = Module.objects.get(slug="sleep-medicines")
        self.patients = PatientFactory.create_batch(PATIENTS, clinic=clinic)
        Assignment.objects.bulk_create(
            Assignment(patient=p, module=module, assigned_by=clinician, due_date=tomorrow)
            for p in self.patients
        )
        self.processes = []

    def environment(self, smtp_port):
        db = connection.settings_dict
        login = f"{db['USER']}:{db['PASSWORD'] or ''}"
        where = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        return os.environ | {
            "DATABASE_URL": f"postgres://{login}@{where}/{db['NAME']}",
            "CELERY_BROKER_URL": self.broker,
            "CELERY_QUEUE": self.queue,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "REMINDER_RETRY_SECONDS": "1",
            "REMINDER_MAX_RETRIES": "20",
            "REMINDER_LEASE_MINUTES": str(LEASE_MINUTES),
            "CELERY_TASK_TIME_LIMIT": "20",
            "REMINDER_REQUEUE_SECONDS": "5",
            "CELERY_WORKER_CONCURRENCY": "2",
        }

    def start(self, smtp_port, *arguments):
        process = subprocess.Popen(  # noqa: S603 - our own Celery app with fixed arguments
            [sys.executable, "-m", "celery", "-A", "portal", *arguments, "--loglevel=WARNING"],
            cwd=PROJECT,
            env=self.environment(smtp_port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a process group, so a kill reaches the pool's children
        )
        self.processes.append(process)
        self.addCleanup(self.stop, process)
        return process

    def start_worker(self, smtp_port):
        return self.start(
            smtp_port,
            "worker",
            "-Q",
            self.queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        )

    def start_beat(self, smtp_port, folder):
        schedule = str(Path(folder) / "beat-schedule")
        return self.start(smtp_port, "beat", "--schedule", schedule)

    @staticmethod
    def stop(process):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def wait_until(self, condition, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.5)
        return False

    def test_every_reminder_arrives_through_mail_worker_and_database_faults(self):
        import tempfile

        greylisted = {p.email for p in self.patients[:GREYLISTED]}
        fails = set(range(10, 10 + FAILS_AT_DATA))
        with (
            tempfile.TemporaryDirectory() as folder,
            SmtpServer(
                greylist=greylisted, fail_messages=fails, drop_messages={75}, seconds_per_message=0.4
            ) as server,
        ):
            worker = self.start_worker(server.port)
            self.start_beat(server.port, folder)
            # The hourly sweep, once, as beat would run it.
            from celery import Celery

            client = Celery(broker=self.broker)
            client.send_task("portal.tasks.send_due_reminders", queue=self.queue)

            def delivered():
                return len({to for tos, _ in server.received for to in tos})

            self.assertTrue(
                self.wait_until(lambda: delivered() >= 30, 120), "the sweep did not start sending"
            )
            os.killpg(worker.pid, signal.SIGKILL)  # crash 1: the worker, mid-sweep
            worker.wait()
            self.start_worker(server.port)
            self.assertTrue(self.wait_until(lambda: delivered() >= 70, 180), "no recovery after the kill")
            at_restart = delivered()
            restart_postgresql()  # crash 2: the database, mid-sweep
            connection.close()
            last_fault = time.monotonic()
            everyone = {p.email for p in self.patients}
            arrived = self.wait_until(lambda: delivered() == len(everyone), LEASE_MINUTES * 60 + 5 * 60)
            recovered_in = time.monotonic() - last_fault
            emails = collections.Counter(to for tos, _ in server.received for to in tos)
        self.assertTrue(arrived, f"{len(everyone) - delivered()} patients never got their reminder")
        self.assertLess(at_restart, PATIENTS, "the database restart came after the sweep had ended")
        duplicates = sum(count - 1 for count in emails.values())
        print(
            f"\ndrill: {len(emails)} of {PATIENTS} patients reached, {duplicates} duplicate emails, "
            f"{len(server.received)} messages accepted of {server.messages} tried, "
            f"database restarted at {at_restart} delivered, "
            f"all delivered {recovered_in:.0f} s after the last fault"
        )
        self.assertLessEqual(duplicates, 2 * MAX_DUPLICATES_PER_CRASH)
        self.assertEqual(Reminder.objects.filter(sent_at__isnull=True).count(), 0)
        self.assertFalse(Reminder.objects.filter(failed_at__isnull=False).exists())
