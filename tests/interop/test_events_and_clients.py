"""Clinical events in (rules, repeats, unknown patients, concurrency), API tokens (scopes,
revocation), the audit trail of API calls, and the clinic admin's record-system page."""

import datetime
import threading

from django.db import connection
from django.test import TransactionTestCase
from django.urls import reverse

from accounts.models import Membership
from education.models import Assignment, Module
from portal.interop import services
from portal.interop.models import ApiClient, ClinicalEvent, EventRule
from portal.models import AuditEvent
from tests.factories import ClinicFactory, ClinicianFactory, PatientFactory
from tests.interop.base import ApiTestCase
from tests.library import load_and_approve
from tests.services import postgresql_or_skip

EVENTS = "/api/v1/events"


def event(event_id="rx-1", kind="dose-lowered", patient=None, occurred_on="2026-11-20"):
    return {
        "event_id": event_id,
        "type": kind,
        "occurred_on": occurred_on,
        "patient": patient or {"identifier": "MRN-1001"},
    }


class EventRuleTests(ApiTestCase):
    def open_slugs(self):
        return sorted(
            Assignment.objects.filter(patient=self.pat).open().values_list("module__slug", flat=True)
        )

    def test_each_kind_of_event_assigns_its_default_set_with_its_due_date(self):
        expected = {
            "benzodiazepine-started": (services.DEFAULT_RULES["benzodiazepine-started"][0], 7),
            "dose-lowered": (services.DEFAULT_RULES["dose-lowered"][0], 7),
            "opioid-added": (("breathing-and-interactions",), 7),
            "annual-review": (
                tuple(Module.objects.filter(current_version__isnull=False).values_list("slug", flat=True)),
                14,
            ),
        }
        for number, (kind, (slugs, days)) in enumerate(expected.items()):
            Assignment.objects.filter(patient=self.pat).delete()
            response = self.api_post(EVENTS, event(f"ev-{number}", kind))
            self.assertEqual(response.status_code, 201, response.content)
            self.assertEqual(sorted(response.json()["assigned"]), sorted(slugs), kind)
            self.assertEqual(self.open_slugs(), sorted(slugs), kind)
            due = {a.due_date for a in Assignment.objects.filter(patient=self.pat)}
            self.assertEqual(due, {self.riverside.today() + datetime.timedelta(days=days)}, kind)
            made = Assignment.objects.filter(patient=self.pat).first()
            self.assertEqual(
                (made.event_id, made.event_kind, made.event_on),
                (f"ev-{number}", kind, datetime.date(2026, 11, 20)),
            )

    def test_a_clinics_own_rule_replaces_the_default(self):
        services.set_rule(
            clinic=self.riverside,
            kind="opioid-added",
            modules=[self.driving, self.sleep],
            due_in_days=3,
            updated_by=self.rita,
        )
        Assignment.objects.filter(patient=self.pat).delete()
        response = self.api_post(EVENTS, event(kind="opioid-added"))
        self.assertEqual(sorted(response.json()["assigned"]), ["driving-and-machinery", "sleep-medicines"])
        self.assertEqual(
            Assignment.objects.get(patient=self.pat, module=self.sleep).due_date,
            self.riverside.today() + datetime.timedelta(days=3),
        )

    def test_an_event_posted_twice_assigns_once(self):
        first = self.api_post(EVENTS, event("rx-42", "benzodiazepine-started"))
        count = Assignment.objects.filter(patient=self.pat).count()
        again = self.api_post(EVENTS, event("rx-42", "benzodiazepine-started"))
        self.assertEqual((first.status_code, again.status_code), (201, 200))
        self.assertFalse(again.json()["created"])
        self.assertEqual(again.json()["assigned"], first.json()["assigned"])
        self.assertEqual(Assignment.objects.filter(patient=self.pat).count(), count)
        self.assertEqual(ClinicalEvent.objects.filter(event_id="rx-42").count(), 1)

    def test_an_open_module_is_left_as_it_is_and_reported(self):
        response = self.api_post(EVENTS, event(kind="dose-lowered"))
        self.assertIn("sleep-medicines", response.json()["already_open"])
        self.assertEqual(Assignment.objects.filter(patient=self.pat, module=self.sleep).count(), 1)

    def test_an_unknown_or_other_clinics_patient_is_a_clear_422_and_assigns_nothing(self):
        before = Assignment.objects.count()
        for patient in ({"identifier": "MRN-9999"}, {"id": str(self.olive.code)}):
            response = self.api_post(EVENTS, event(patient=patient))
            self.assertEqual(response.status_code, 422, patient)
            self.assertIn("No active patient of this clinic", response.json()["issue"][0]["diagnostics"])
        self.assertEqual(Assignment.objects.count(), before)
        self.assertFalse(ClinicalEvent.objects.exists())

    def test_a_malformed_event_names_each_problem_and_assigns_nothing(self):
        response = self.api_post(EVENTS, {"event_id": "has spaces", "type": "coffee", "occurred_on": "3 Dec"})
        self.assertEqual(response.status_code, 400)
        text = response.json()["issue"][0]["diagnostics"]
        for words in ("event_id:", "type must be one of", "occurred_on:", "patient:"):
            self.assertIn(words, text)
        self.assertEqual(
            self.client.post(
                EVENTS, "not json", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {self.token}"
            ).status_code,
            400,
        )
        self.assertFalse(ClinicalEvent.objects.exists())

    def test_the_patient_page_says_why_it_was_assigned(self):
        self.api_post(EVENTS, event("rx-7", "opioid-added", occurred_on="2026-11-03"))
        self.sign_in(self.alice)
        page = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.assertContains(
            page, "Assigned because: opioid added on 3 November 2026 (event rx-7 from the record system)"
        )
        task = self.api_get(f"/fhir/R4/Task/{Assignment.objects.get(event_id='rx-7').code}").json()
        self.assertEqual(task["identifier"][0]["value"], "rx-7")


class TokenTests(ApiTestCase):
    def test_no_token_a_wrong_one_or_a_session_is_401(self):
        self.sign_in(self.alice)  # a clinician's session opens no API door
        for header in ({}, {"HTTP_AUTHORIZATION": "Bearer cep_wrong"}, {"HTTP_AUTHORIZATION": self.token}):
            response = self.client.get("/fhir/R4/Patient", **header)
            self.assertEqual(response.status_code, 401, header)
            self.assertIn("Bearer", response["WWW-Authenticate"])

    def test_a_revoked_token_stops_working_at_once(self):
        self.assertEqual(self.api_get("/fhir/R4/Patient").status_code, 200)
        services.revoke_client(client=self.api_client, revoked_by=self.rita)
        self.assertEqual(self.api_get("/fhir/R4/Patient").status_code, 401)
        self.assertEqual(self.api_post(EVENTS, event()).status_code, 401)

    def test_scopes_limit_what_a_client_may_do(self):
        reader = services.create_client(
            clinic=self.riverside, name="Reader", can_read=True, can_write=False, created_by=self.rita
        )
        writer = services.create_client(
            clinic=self.riverside, name="Writer", can_read=False, can_write=True, created_by=self.rita
        )
        self.assertEqual(self.api_post(EVENTS, event(), token=reader.token).status_code, 403)
        self.assertEqual(self.api_get("/fhir/R4/Patient", token=writer.token).status_code, 403)
        self.assertEqual(self.api_post(EVENTS, event(), token=writer.token).status_code, 201)
        self.assertFalse(ClinicalEvent.objects.filter(client=reader.client).exists())

    def test_only_the_hash_of_a_token_is_kept(self):
        stored = ApiClient.objects.get(pk=self.api_client.pk)
        self.assertNotIn(self.token, str(stored.__dict__))
        self.assertEqual(stored.token_hash, services.hash_token(self.token))

    def test_only_a_clinic_admin_of_the_clinic_makes_or_revokes_clients(self):
        from django.core.exceptions import ValidationError

        with self.assertRaises(ValidationError):
            services.create_client(
                clinic=self.riverside, name="X", can_read=True, can_write=False, created_by=self.alice
            )
        with self.assertRaises(ValidationError):
            services.revoke_client(client=self.api_client, revoked_by=self.hank)


class ApiAuditTests(ApiTestCase):
    def test_every_read_is_on_the_trail_per_patient_with_the_clients_name(self):
        self.bundle("Task")
        row = AuditEvent.objects.get(action=AuditEvent.Action.API_READ)
        self.assertEqual(
            (row.patient_id, row.clinic_id, row.actor_id), (self.pat.pk, self.riverside.pk, None)
        )
        self.assertIn("API client “Riverside EHR”", row.detail)
        self.assertIn("Task search, 1 found", row.detail)

    def test_events_are_on_the_trail_and_so_are_refused_ones(self):
        self.api_post(EVENTS, event())
        self.api_post(EVENTS, event("rx-2", patient={"identifier": "nobody"}))
        details = list(
            AuditEvent.objects.filter(action=AuditEvent.Action.API_EVENT_RECEIVED)
            .order_by("pk")
            .values_list("detail", flat=True)
        )
        self.assertEqual(len(details), 2)
        self.assertIn("assigned", details[0])
        self.assertIn("unknown patient", details[1])
        self.assertNotIn("MRN", " ".join(details))


class IntegrationPageTests(ApiTestCase):
    def test_a_clinic_admin_creates_a_client_and_sees_its_token_once(self):
        self.sign_in(self.rita)
        url = reverse("portal:integration_client_new", args=[self.riverside.code])
        response = self.client.post(url, {"name": "Epic test", "can_read": "on"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("no-store", response["Cache-Control"])
        token = response.context["new_token"].token
        self.assertContains(response, token)
        self.assertEqual(self.api_get("/fhir/R4/Patient", token=token).status_code, 200)
        page = self.client.get(reverse("portal:integration"))
        self.assertNotContains(page, token)
        self.assertContains(page, "Epic test")
        self.assertTrue(AuditEvent.objects.filter(action=AuditEvent.Action.API_CLIENT_CREATED).exists())

    def test_bad_input_gets_a_message_and_changes_nothing(self):
        self.sign_in(self.rita)
        url = reverse("portal:integration_client_new", args=[self.riverside.code])
        before = ApiClient.objects.count()
        for data, words in (
            ({"name": "", "can_read": "on"}, "This field is required"),
            ({"name": "X"}, "Choose what the client may do"),
        ):
            response = self.client.post(url, data)
            self.assertContains(response, words, status_code=400)
        self.assertEqual(ApiClient.objects.count(), before)
        rule = reverse("portal:integration_rule", args=[self.riverside.code, "dose-lowered"])
        response = self.client.post(rule, {"dose-lowered-due_in_days": "500"})
        self.assertContains(response, "Choose at least one module", status_code=400)
        self.assertFalse(EventRule.objects.exists())

    def test_a_rule_saved_on_the_page_is_used_by_the_next_event(self):
        self.sign_in(self.rita)
        rule = reverse("portal:integration_rule", args=[self.riverside.code, "dose-lowered"])
        response = self.client.post(
            rule, {"dose-lowered-modules": [self.driving.pk], "dose-lowered-due_in_days": "21"}
        )
        self.assertRedirects(response, reverse("portal:integration"))
        Assignment.objects.filter(patient=self.pat).delete()
        self.assertEqual(self.api_post(EVENTS, event()).json()["assigned"], ["driving-and-machinery"])

    def test_revoking_from_the_page(self):
        self.sign_in(self.rita)
        url = reverse("portal:integration_client_revoke", args=[self.riverside.code, self.api_client.code])
        self.assertRedirects(self.client.post(url), reverse("portal:integration"))
        self.assertEqual(self.api_get("/fhir/R4/Patient").status_code, 401)
        # Another clinic's admin cannot even find it.
        self.sign_in(self.hank)
        self.assertEqual(self.client.post(url).status_code, 404)


class ConcurrentEventTests(TransactionTestCase):
    """Twenty identical posts at once, each on its own connection: one event, one set of
    assignments (PostgreSQL: SQLite serialises writers)."""

    def test_twenty_identical_posts_at_once_assign_once(self):
        postgresql_or_skip(connection)
        load_and_approve()
        clinic = ClinicFactory(name="Concurrent")
        admin = ClinicianFactory(clinics=[clinic], clinics__role=Membership.Role.ADMIN)
        patient = PatientFactory(clinic=clinic, record_number="C-1")
        new = services.create_client(
            clinic=clinic, name="EHR", can_read=True, can_write=True, created_by=admin
        )
        request = services.EventRequest(
            "same-1", "benzodiazepine-started", datetime.date(2026, 11, 20), record_number="C-1"
        )
        barrier, outcomes, errors = threading.Barrier(20), [], []

        def post():
            from django.db import connections

            try:
                barrier.wait()
                outcomes.append(services.receive_event(client=new.client, request=request).created)
            except Exception as error:  # noqa: BLE001  (reported below)
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=post) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(sorted(outcomes), [False] * 19 + [True])
        self.assertEqual(ClinicalEvent.objects.filter(event_id="same-1").count(), 1)
        slugs = services.DEFAULT_RULES["benzodiazepine-started"][0]
        self.assertEqual(Assignment.objects.filter(patient=patient).count(), len(slugs))
