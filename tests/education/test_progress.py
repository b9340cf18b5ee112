"""The dashboard's progress rows: kept up to date by the services, equal to a rebuild."""

import datetime
import io

from django.core.management import call_command
from django.db.models import Count
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from education import progress as patient_progress
from education import services
from education.models import Assignment, ClinicRoster, Module, PatientProgress
from portal import services as portal_services
from tests.education.base import EducationTestCase, publish_edit
from tests.education.test_versions import CHANGE
from tests.factories import PatientFactory


def snapshot():
    return {row.pk: model_to_dict(row) for row in PatientProgress.objects.order_by("pk")}


class ProgressRowTests(EducationTestCase):
    def test_after_a_mixed_sequence_the_rows_equal_a_rebuild_from_the_records(self):
        sam, lee = (PatientFactory(full_name=name, clinic=self.riverside) for name in ("Sam Ray", "Lee Fox"))
        modules = list(Module.objects.order_by("slug")[:3])
        result = services.assign_modules(
            patients=[self.pat, sam, lee], modules=modules, assigned_by=self.alice, due_date=self.in_a_week
        )
        sams = [a for a in result.created if a.patient_id == sam.pk]
        services.mark_opened(assignment=self.assignment)
        services.mark_opened(assignment=sams[0])
        self.sign_in(self.pat)
        self.client.post(self.url("quiz"), self.answers(right=1))
        self.pass_quiz()
        self.acknowledge()
        self.sign_in(sam)
        self.client.post(self.url("quiz", sams[0]), self.answers(sams[0]))
        services.cancel_assignment(assignment=sams[1], cancelled_by=self.alice)
        visit = portal_services.schedule_visit(
            patient=lee,
            created_by=self.alice,
            clinician=self.alice,
            scheduled_at=timezone.now() + datetime.timedelta(days=3),
            assignments=[a for a in result.created if a.patient_id == lee.pk],
        )
        portal_services.mark_visit_held(visit=visit, held_by=self.alice, note="Went over the modules.")
        publish_edit("sleep-medicines", *CHANGE)  # Pat acknowledged it: asked to acknowledge again
        account_services.invite_patient(
            clinician=self.alice, clinic=self.riverside, full_name="Noor New", email="noor@example.org"
        )

        kept_up = snapshot()
        call_command("rebuild_progress", stdout=io.StringIO())
        self.assertEqual(kept_up, snapshot())

        pat = kept_up[self.pat.pk]
        # sleep from the start and three more; sleep opened, passed and acknowledged
        self.assertEqual((pat["assigned_count"], pat["opened_count"], pat["completed_count"]), (4, 1, 1))
        self.assertEqual((pat["latest_score"], pat["latest_passed"]), (100, True))
        self.assertIsNotNone(pat["reacknowledge_since"])
        self.assertEqual(kept_up[sam.pk]["assigned_count"], 2)  # one cancelled
        noor = PatientProgress.objects.get(patient__email="noor@example.org")
        self.assertEqual((noor.assigned_count, noor.next_due, noor.last_activity), (0, None, None))

    def test_a_rebuild_repairs_rows_written_around_the_services(self):
        Assignment.objects.filter(pk=self.assignment.pk).update(opened_at=timezone.now())
        self.assertEqual(PatientProgress.objects.get(patient=self.pat).opened_count, 0)
        call_command("rebuild_progress", stdout=io.StringIO())
        self.assertEqual(PatientProgress.objects.get(patient=self.pat).opened_count, 1)

    def test_a_patient_added_through_the_page_is_on_the_dashboard_at_once(self):
        self.sign_in(self.alice)
        self.client.post(
            reverse("portal:patient_new"),
            {"clinic": self.riverside.pk, "full_name": "Noor New", "email": "noor@example.org"},
        )
        names = [
            p.full_name for p in self.client.get(reverse("portal:dashboard")).context["page"].object_list
        ]
        self.assertIn("Noor New", names)

    def test_refresh_accepts_a_query_of_patients(self):
        Assignment.objects.filter(pk=self.assignment.pk).update(opened_at=timezone.now())
        patient_progress.refresh(Assignment.objects.filter(pk=self.assignment.pk).values("patient_id"))
        self.assertEqual(PatientProgress.objects.get(patient=self.pat).opened_count, 1)


def rosters():
    return dict(ClinicRoster.objects.filter(patients__gt=0).values_list("clinic", "patients"))


def counted_rows():
    return dict(PatientProgress.objects.values("clinic").annotate(n=Count("pk")).values_list("clinic", "n"))


class ClinicRosterTests(EducationTestCase):
    def test_each_clinic_counts_its_patients_as_they_come_move_and_go(self):
        PatientFactory.create_batch(3, clinic=self.riverside)  # without rows: no one counts them yet
        patient_progress.refresh(list(User.objects.patients().values_list("pk", flat=True)))  # all rows
        account_services.invite_patient(
            clinician=self.alice, clinic=self.riverside, full_name="Noor New", email="noor@example.org"
        )
        self.assertEqual(rosters(), counted_rows())
        self.assertEqual(rosters()[self.riverside.pk], 5)  # Pat, the three, Noor
        moving = PatientProgress.objects.filter(clinic=self.riverside).exclude(patient=self.pat).first()
        PatientProgress.objects.filter(pk=moving.pk).update(clinic=self.hillside)
        PatientProgress.objects.filter(patient__email="noor@example.org").delete()
        self.assertEqual(rosters(), counted_rows())
        self.assertEqual(rosters()[self.riverside.pk], 3)

    def test_a_rebuild_recounts_a_roster_that_was_written_around_the_triggers(self):
        patient_progress.refresh([self.pat.pk, self.olive.pk])
        ClinicRoster.objects.filter(clinic=self.riverside).update(patients=40)
        call_command("rebuild_progress", stdout=io.StringIO())
        self.assertEqual(rosters(), counted_rows())
