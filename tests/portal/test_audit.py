import csv
import datetime
import io
import re

from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from portal.models import AuditEvent
from tests.education.base import EducationTestCase
from tests.factories import ClinicianFactory, PatientFactory, VisitFactory
from tests.services import postgresql_or_skip

Action = AuditEvent.Action


class AuditTestCase(EducationTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.admin = ClinicianFactory(
            email="admin@example.org", clinics=[cls.riverside], clinics__role=Membership.Role.ADMIN
        )

    def actions(self, **filters):
        return list(AuditEvent.objects.filter(**filters).order_by("pk").values_list("action", flat=True))


class RecordingTests(AuditTestCase):
    def test_a_clinician_opening_a_patient_page_is_recorded_with_who_whom_and_where(self):
        self.sign_in(self.alice)
        self.client.get(reverse("portal:patient_detail", args=[self.pat.code]), REMOTE_ADDR="203.0.113.7")
        event = AuditEvent.objects.get(action=Action.PATIENT_VIEWED)
        self.assertEqual((event.actor, event.patient, event.clinic), (self.alice, self.pat, self.riverside))
        self.assertEqual(event.ip_address, "203.0.113.7")

    def test_visit_summary_pdf_and_export_are_recorded(self):
        visit = VisitFactory(patient=self.pat, clinician=self.alice, in_days=1)
        self.sign_in(self.alice)
        self.client.get(reverse("portal:visit_summary", args=[visit.code]))
        self.client.get(reverse("portal:visit_pdf", args=[visit.code]))
        b"".join(self.client.get(reverse("portal:export_assignments")).streaming_content)
        self.assertEqual(
            [a for a in self.actions(actor=self.alice) if a != Action.SIGN_IN],
            [Action.VISIT_SUMMARY_VIEWED, Action.VISIT_PDF_DOWNLOADED, Action.EXPORT_DOWNLOADED],
        )

    def test_assigning_and_cancelling_are_recorded_without_naming_the_module(self):
        self.sign_in(self.alice)
        self.client.post(
            reverse("portal:patient_assign", args=[self.pat.code]),
            {"modules": [self.driving.pk], "due_date": self.in_a_week},
        )
        self.client.post(reverse("portal:assignment_cancel", args=[self.assignment.code]))
        self.client.post(
            reverse("portal:bulk_assign"),
            {"patients": [self.pat.code], "module_set": "starting", "due_date": self.in_a_week},
        )
        self.assertEqual(
            self.actions(patient=self.pat),
            [Action.ASSIGNMENT_CREATED, Action.ASSIGNMENT_CANCELLED, Action.ASSIGNMENT_CREATED],
        )
        details = " ".join(AuditEvent.objects.values_list("detail", flat=True))
        self.assertNotIn("Driving", details)
        self.assertNotIn("Sleep", details)

    def test_an_invitation_sent_and_accepted_are_recorded(self):
        self.sign_in(self.alice)
        self.client.post(
            reverse("portal:patient_new"),
            {"clinic": self.riverside.pk, "full_name": "Nia Newcomer", "email": "nia@example.org"},
        )
        path = re.search(r"http://\S+?(/accounts/invitation/\S+/)", mail.outbox[-1].body).group(1)
        self.client.logout()
        new = "river-otter-lantern-42"
        self.client.post(path, {"new_password1": new, "new_password2": new})
        nia = self.riverside.patients.get(email="nia@example.org")
        self.assertEqual(self.actions(patient=nia), [Action.INVITATION_SENT, Action.INVITATION_ACCEPTED])

    def test_sign_in_success_and_failure_are_recorded_and_the_typed_address_is_not_kept(self):
        self.client.post(reverse("login"), {"username": "pat@example.org", "password": "wrong"})
        self.client.post(reverse("login"), {"username": "nobody@example.org", "password": "wrong"})
        self.client.post(reverse("login"), {"username": "pat@example.org", "password": self.password})
        self.assertEqual(self.actions(actor=self.pat), [Action.SIGN_IN_FAILED, Action.SIGN_IN])
        unknown = AuditEvent.objects.get(action=Action.SIGN_IN_FAILED, actor=None)
        self.assertEqual(unknown.detail, "no such account")

    def test_a_password_change_is_recorded(self):
        self.client.post(reverse("login"), {"username": "pat@example.org", "password": self.password})
        new = "lantern-otter-river-7"
        self.client.post(
            reverse("password_change"),
            {"old_password": self.password, "new_password1": new, "new_password2": new},
        )
        self.assertIn(Action.PASSWORD_CHANGED, self.actions(actor=self.pat))


class TrailPageTests(AuditTestCase):
    def setUp(self):
        self.sign_in(self.alice)
        self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.sign_in(self.charlie)
        self.client.get(reverse("portal:patient_detail", args=[self.olive.code]))
        self.sign_in(self.admin)

    def rows(self, **params):
        return list(self.client.get(reverse("portal:audit_trail"), params).context["page"].object_list)

    def test_a_clinic_admin_sees_their_clinics_trail_only(self):
        patients = {event.patient for event in self.rows() if event.patient}
        self.assertEqual(patients, {self.pat})

    def test_it_filters_by_patient_actor_and_date(self):
        bea = PatientFactory(clinic=self.riverside)
        self.client.get(reverse("portal:patient_detail", args=[bea.code]))
        self.assertEqual({e.patient for e in self.rows(patient=bea.code)}, {bea})
        self.assertEqual({e.actor for e in self.rows(actor=self.alice.code)}, {self.alice})
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        self.assertEqual(self.rows(since=tomorrow), [])

    def test_a_clinician_who_is_not_an_admin_gets_a_404(self):
        self.sign_in(self.alice)
        self.assertEqual(self.client.get(reverse("portal:audit_trail")).status_code, 404)

    def test_a_page_costs_the_same_queries_however_long_the_trail(self):
        # session, user, the admin check, count for the paginator, one page of events
        with self.assertNumQueries(5):
            self.client.get(reverse("portal:audit_trail"))
        AuditEvent.objects.bulk_create(
            AuditEvent(
                action=Action.PATIENT_VIEWED, actor=self.alice, patient=self.pat, clinic=self.riverside
            )
            for _ in range(300)
        )
        with self.assertNumQueries(5):
            response = self.client.get(reverse("portal:audit_trail"))
        self.assertEqual(len(response.context["page"].object_list), 50)

    def test_one_patients_trail_downloads_as_csv(self):
        response = self.client.get(reverse("portal:audit_patient_csv", args=[self.pat.code]))
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        self.assertEqual(rows[0], ["when", "action", "by", "patient", "clinic", "address", "detail"])
        # The download is itself a disclosure, and is on the trail it downloads.
        self.assertEqual(
            [row[1] for row in rows[1:]], ["Patient page opened", "Patient's audit trail exported"]
        )
        self.assertEqual(rows[1][2], "alice@example.org")

    def test_another_clinics_patient_trail_is_a_404(self):
        self.assertEqual(
            self.client.get(reverse("portal:audit_patient_csv", args=[self.olive.code])).status_code, 404
        )


class AppendOnlyTrailTests(AuditTestCase):
    def setUp(self):
        postgresql_or_skip(connection)
        self.sign_in(self.alice)
        self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))

    def test_the_database_refuses_to_update_an_audit_event(self):
        with self.assertRaisesMessage(DatabaseError, "append-only"), transaction.atomic():
            AuditEvent.objects.update(detail="changed")

    def test_the_database_refuses_to_delete_an_audit_event(self):
        with self.assertRaisesMessage(DatabaseError, "append-only"), transaction.atomic():
            AuditEvent.objects.all().delete()


class AccessChangeTests(AuditTestCase):
    def setUp(self):
        self.superuser = ClinicianFactory(is_staff=True, is_superuser=True)
        self.sign_in(self.superuser)

    def test_adding_a_clinician_to_a_clinic_in_the_admin_is_recorded_for_that_clinic(self):
        nurse = ClinicianFactory()
        data = {
            "email": nurse.email,
            "full_name": nurse.full_name,
            "role": "clinician",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-clinic": self.riverside.pk,
            "memberships-0-role": "clinician",
        }
        self.client.post(reverse("admin:accounts_user_change", args=[nurse.pk]), data)
        event = AuditEvent.objects.get(action=Action.ACCESS_CHANGED)
        self.assertEqual(
            (event.actor, event.clinic, event.detail),
            (self.superuser, self.riverside, f"account {nurse.code}"),
        )

    def test_saving_without_a_change_records_nothing(self):
        self.client.post(
            reverse("admin:accounts_clinic_change", args=[self.riverside.pk]),
            {
                "name": self.riverside.name,
                "time_zone": self.riverside.time_zone,
                "memberships-TOTAL_FORMS": "0",
                "memberships-INITIAL_FORMS": "0",
            },
        )
        self.assertFalse(AuditEvent.objects.filter(action=Action.ACCESS_CHANGED).exists())
