import math
from collections import Counter
from io import StringIO

from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models.functions import TruncDate
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Clinic, Membership, User
from education import services
from education.models import Acknowledgment, Answer, Assignment, PatientProgress, QuizAttempt, QuizDraw
from portal import demo
from portal.models import FollowUpVisit


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


class SeedDemoTests(TestCase):
    def test_it_prints_the_demo_sign_ins(self):
        output = seed()
        self.assertIn("clinician@example.org", output)
        self.assertIn("patient@example.org", output)
        self.assertIn("portal-demo", output)

    def test_running_it_twice_creates_nothing_more(self):
        seed()
        counts = (User.objects.count(), Clinic.objects.count(), Membership.objects.count())
        seed()
        self.assertEqual((User.objects.count(), Clinic.objects.count(), Membership.objects.count()), counts)

    def test_the_demo_clinician_signs_in_and_sees_the_demo_patient(self):
        seed()
        self.client.post(reverse("login"), {"username": "clinician@example.org", "password": "portal-demo"})
        response = self.client.get(reverse("portal:dashboard"))
        self.assertContains(response, "Jordan Lee")

    def test_the_demo_patient_signs_in_and_lands_on_their_modules(self):
        seed()
        self.client.post(reverse("login"), {"username": "patient@example.org", "password": "portal-demo"})
        response = self.client.get("/", follow=True)
        self.assertRedirects(response, reverse("education:my_modules"))

    def test_the_content_editor_can_reach_the_admin_and_the_clinic_admin_runs_the_clinic(self):
        clinic = demo.seed_demo_accounts()
        self.assertTrue(User.objects.get(email="editor@example.org").is_content_editor)
        self.assertTrue(User.objects.get(email="admin@example.org").is_clinic_admin(clinic))

    def test_patients_n_adds_n_more_patients_each_time(self):
        seed("--patients", "25")
        seed("--patients", "25")  # numbers continue, so nothing collides
        clinic = Clinic.objects.get(name=demo.DEMO_CLINIC_NAME)
        self.assertEqual(User.objects.patients().filter(clinic=clinic).count(), 50 + len(["Jordan", "Lucía"]))

    def test_synthetic_patients_and_their_history_are_bulk_inserted(self):
        seed("--patients", "0")  # the sign-ins and no synthetic patients yet
        written = [
            User,
            Assignment,
            QuizDraw,
            QuizAttempt,
            Answer,
            Acknowledgment,
            PatientProgress,
            FollowUpVisit,
        ]
        before = {model: model.objects.count() for model in written}
        clinic = Clinic.objects.get()
        with CaptureQueriesContext(connection) as queries:
            demo.add_synthetic_patients(clinic, 500)
        # Row by row would be thousands of statements; bulk inserts need as few per table as
        # the database's parameter cap allows (one on PostgreSQL, one per 999 on SQLite).
        for model in written:
            rows = model.objects.count() - before[model]
            batch = connection.ops.bulk_batch_size(model._meta.concrete_fields, [None] * rows)
            table = f'INSERT INTO "{model._meta.db_table}" '
            inserts = sum(1 for query in queries if query["sql"].startswith(table))
            self.assertLessEqual(inserts, math.ceil(rows / batch), model)
        # Besides the inserts: the numbering, the clinician, the library (modules, questions,
        # choices); per batch its transaction, planner statistics of the tables the progress
        # rows come from (PostgreSQL), the lock and the update of those rows.
        others = [q for q in queries if not q["sql"].startswith("INSERT")]
        self.assertLessEqual(len(others), 10, [q["sql"][:60] for q in others])
        self.assertEqual(User.objects.filter(email__startswith=demo.SYNTHETIC_EMAIL_PREFIX).count(), 500)

    def test_the_synthetic_history_looks_like_a_real_clinic_and_follows_the_rules(self):
        seed("--patients", "300")
        today = Clinic.objects.get().today()
        statuses = Counter(Assignment.objects.with_status(today).values_list("status", flat=True))
        for status in ("new", "in_progress", "overdue", "completed"):
            self.assertGreater(statuses[status], 20, statuses)
        for assignment in Assignment.objects.filter(completed_at__isnull=False).select_related("module"):
            progress = services.progress(assignment)
            self.assertTrue(progress.done, assignment)
        self.assertFalse(Assignment.objects.filter(due_date__lt=TruncDate("assigned_at")).exists())
        self.assertTrue(FollowUpVisit.objects.upcoming().exists())
        self.assertTrue(Answer.objects.filter(is_correct=False).exists())

    def test_a_negative_count_is_refused(self):
        with self.assertRaisesMessage(CommandError, "--patients must be 0 or more"):
            seed("--patients", "-1")

    @override_settings(PRODUCTION=True)
    def test_it_refuses_to_run_in_production(self):
        with self.assertRaisesMessage(CommandError, "refuses to run when PORTAL_ENV=production"):
            seed()
        self.assertFalse(User.objects.exists())
