"""`make run`'s demo: a clinic of about forty patients with histories, and a demo patient
who has finished one module and started another, written through the real services."""

import io
from collections import Counter

from django.core.management import call_command
from django.forms.models import model_to_dict
from django.test import TestCase, override_settings
from django.urls import reverse

from accounts.models import Clinic, User
from education import services
from education.models import Acknowledgment, Assignment, PatientProgress, QuizAttempt
from portal import demo
from tests.factories import PatientFactory


def seed():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def demo_patient_statuses():
    patient = User.objects.get(email=demo.PATIENT.email)
    statuses = Assignment.objects.for_patient(patient).with_status(patient.clinic.today())
    return Counter(statuses.values_list("status", flat=True))


class DemoPatientTests(TestCase):
    def test_the_demo_patient_has_one_module_completed_one_in_progress_and_the_rest_new(self):
        seed()
        statuses = demo_patient_statuses()
        self.assertEqual(statuses[Assignment.Status.COMPLETED], 1, statuses)
        self.assertEqual(statuses[Assignment.Status.IN_PROGRESS], 1, statuses)
        self.assertEqual(statuses[Assignment.Status.NEW], sum(statuses.values()) - 2, statuses)

    def test_the_completed_module_was_passed_and_acknowledged_with_the_patients_own_name(self):
        seed()
        completed = Assignment.objects.get(patient__email=demo.PATIENT.email, completed_at__isnull=False)
        self.assertTrue(services.progress(completed).done)
        self.assertEqual(completed.acknowledgments.get().typed_name, demo.PATIENT.full_name)
        self.assertEqual(list(completed.attempts.values_list("passed", flat=True)), [True])

    def test_the_module_in_progress_was_opened_and_its_quiz_failed(self):
        seed()
        started = Assignment.objects.get(
            patient__email=demo.PATIENT.email, opened_at__isnull=False, completed_at__isnull=True
        )
        attempt = started.attempts.get()
        self.assertFalse(attempt.passed)
        self.assertGreater(attempt.correct_count, 0)  # a near miss, not a blank page
        self.assertFalse(started.acknowledgments.exists())
        # and a question for the visit, which the clinician sees on the patient's page
        self.assertEqual(list(started.questions.open().values_list("section", flat=True)), [""])

    def test_the_progress_row_equals_a_rebuild_from_the_records(self):
        seed()
        row = model_to_dict(PatientProgress.objects.get(patient__email=demo.PATIENT.email))
        call_command("rebuild_progress", stdout=io.StringIO())
        self.assertEqual(model_to_dict(PatientProgress.objects.get(patient__email=demo.PATIENT.email)), row)
        self.assertEqual((row["opened_count"], row["completed_count"], row["latest_passed"]), (2, 1, False))

    def test_running_it_again_records_nothing_more_for_the_demo_patient(self):
        seed()
        records = (QuizAttempt.objects.count(), Acknowledgment.objects.count(), demo_patient_statuses())
        seed()
        self.assertEqual(
            (QuizAttempt.objects.count(), Acknowledgment.objects.count(), demo_patient_statuses()), records
        )

    def test_a_demo_patient_who_already_started_is_left_as_they_are(self):
        demo.seed_demo_accounts()
        first = Assignment.objects.filter(patient__email=demo.PATIENT.email).order_by("due_date").first()
        services.mark_opened(assignment=first)
        self.assertFalse(demo.give_the_demo_patient_a_history())
        self.assertFalse(QuizAttempt.objects.exists())

    def test_the_demo_patient_sees_both_on_my_modules(self):
        seed()
        self.client.post(reverse("login"), {"username": demo.PATIENT.email, "password": demo.DEMO_PASSWORD})
        response = self.client.get(reverse("education:my_modules"))
        self.assertContains(response, "Completed")
        self.assertContains(response, "In progress")
        self.assertContains(response, "1 of 7 done")


class DemoClinicTests(TestCase):
    def test_the_demo_clinic_gets_forty_synthetic_patients_with_histories(self):
        output = seed()
        clinic = Clinic.objects.get(name=demo.DEMO_CLINIC_NAME)
        synthetic = User.objects.filter(clinic=clinic, email__startswith=demo.SYNTHETIC_EMAIL_PREFIX)
        self.assertEqual(synthetic.count(), demo.DEMO_CLINIC_PATIENTS)
        self.assertTrue(QuizAttempt.objects.filter(assignment__patient__in=synthetic).exists())
        self.assertIn("40 synthetic patients (40 new)", output)

    def test_running_it_twice_does_not_add_forty_more(self):
        seed()
        output = seed()
        clinic = Clinic.objects.get(name=demo.DEMO_CLINIC_NAME)
        # The synthetic forty and the two demo patients (Jordan in English, Lucía in Spanish).
        self.assertEqual(User.objects.patients().filter(clinic=clinic).count(), demo.DEMO_CLINIC_PATIENTS + 2)
        self.assertIn("40 synthetic patients (0 new)", output)

    def test_it_tops_up_a_clinic_with_fewer_and_never_removes_any(self):
        clinic = demo.seed_demo_accounts()
        demo.add_synthetic_patients(clinic, 30)
        self.assertEqual(demo.top_up_synthetic_patients(clinic), 10)
        demo.add_synthetic_patients(clinic, 5)
        self.assertEqual(demo.top_up_synthetic_patients(clinic), 0)
        self.assertEqual(demo.synthetic_patient_count(clinic), 45)

    def test_the_clinician_sees_the_demo_patient_among_the_clinic_on_the_dashboard(self):
        seed()
        self.client.post(reverse("login"), {"username": demo.CLINICIAN.email, "password": demo.DEMO_PASSWORD})
        response = self.client.get(reverse("portal:dashboard"))
        self.assertContains(response, demo.PATIENT.full_name)
        self.assertContains(response, demo.SPANISH_PATIENT.full_name)
        self.assertContains(response, 'name="patients"', count=demo.DEMO_CLINIC_PATIENTS + 2)  # a box a row

    @override_settings(SITE_URL="http://127.0.0.1:8001")
    def test_it_names_the_sent_emails_page_at_the_sites_address(self):
        self.assertIn("http://127.0.0.1:8001/dev/emails/", seed())


class SignedOutPageTests(TestCase):
    def test_signing_out_says_you_have_signed_out_with_a_link_to_sign_in_again(self):
        self.client.force_login(PatientFactory())
        response = self.client.post(reverse("logout"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, '<h1 class="h3 mb-3">You have signed out</h1>', html=True)
        self.assertContains(response, f'<a href="{reverse("login")}">Sign in again</a>', html=True)
