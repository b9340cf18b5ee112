"""Two transactions changing one patient's records at the same moment (PostgreSQL)."""

import datetime
import threading

from django.db import connection, transaction
from django.test import TransactionTestCase

from education import progress as patient_progress
from education import services
from education.models import Module, PatientProgress
from tests.factories import ClinicFactory, ClinicianFactory, PatientFactory
from tests.library import load_and_approve
from tests.services import postgresql_or_skip


class ConcurrentRefreshTests(TransactionTestCase):
    def test_a_refresh_waiting_on_another_transaction_counts_its_records(self):
        postgresql_or_skip(connection)
        load_and_approve()
        clinic = ClinicFactory()
        alice = ClinicianFactory(clinics=[clinic])
        pat = PatientFactory(clinic=clinic)
        due = datetime.date.today() + datetime.timedelta(days=7)
        sleep, driving = (Module.objects.get(slug=s) for s in ("sleep-medicines", "driving-and-machinery"))
        first = services.assign_modules(patients=[pat], modules=[sleep], assigned_by=alice, due_date=due)
        assigned, release = threading.Event(), threading.Event()

        def assign_and_hold():
            try:
                with transaction.atomic():
                    services.assign_modules(
                        patients=[pat], modules=[driving], assigned_by=alice, due_date=due
                    )
                    assigned.set()
                    release.wait(5)
            finally:
                connection.close()

        other = threading.Thread(target=assign_and_hold)
        other.start()
        self.assertTrue(assigned.wait(5))
        # Opening the first module refreshes the same row while that assignment is not
        # committed yet; the other transaction commits a second later.
        threading.Timer(1.0, release.set).start()
        services.mark_opened(assignment=first.created[0])
        other.join()
        row = PatientProgress.objects.get(patient=pat)
        self.assertEqual((row.assigned_count, row.opened_count), (2, 1))
        kept_up = list(PatientProgress.objects.values())
        patient_progress.rebuild()
        self.assertEqual(kept_up, list(PatientProgress.objects.values()))
