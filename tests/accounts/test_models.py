from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import Clinic, User
from tests.base import PortalTestCase
from tests.factories import PatientFactory


class AccountRulesTests(PortalTestCase):
    def test_the_database_refuses_a_patient_without_a_clinic(self):
        with self.assertRaises(IntegrityError):
            User.objects.bulk_create([User(email="lost@example.org", role=User.Role.PATIENT, clinic=None)])

    def test_the_database_refuses_a_duplicate_record_number_in_one_clinic(self):
        PatientFactory(clinic=self.riverside, record_number="R-1")
        with self.assertRaises(IntegrityError):
            User.objects.bulk_create(
                [User(email="x@example.org", clinic=self.riverside, record_number="R-1")]
            )

    def test_many_patients_may_have_no_record_number(self):
        PatientFactory.create_batch(2, clinic=self.riverside, record_number="")
        self.assertEqual(User.objects.filter(clinic=self.riverside, record_number="").count(), 3)

    def test_emails_are_stored_lowercased(self):
        user = User.objects.create_user(
            "Mixed@Example.ORG", "a-long-passphrase", full_name="Mixed", clinic=self.riverside
        )
        self.assertEqual(user.email, "mixed@example.org")

    def test_a_clinic_time_zone_must_exist(self):
        with self.assertRaisesMessage(ValidationError, "not a known time zone"):
            Clinic(name="Nowhere", time_zone="Mars/Olympus").full_clean()
