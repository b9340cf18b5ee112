"""The FHIR R4 read API: each mapping, paging, _lastUpdated, one clinic's records only,
and every resource it returns accepted by the fhir.resources R4B models."""

import base64
import datetime

from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from education import services as education_services
from education.models import Acknowledgment, Assignment, QuizAttempt
from portal.interop import fhir
from portal.models import AuditEvent
from tests.education.base import publish_edit
from tests.factories import PatientFactory
from tests.interop.base import ApiTestCase, validated


class PatientTests(ApiTestCase):
    def test_a_clinic_reads_its_own_patients_with_record_number_name_and_birth_date(self):
        self.pat.date_of_birth = datetime.date(1961, 4, 9)
        self.pat.save(update_fields=["date_of_birth", "updated_at"])
        patients = self.resources(self.bundle("Patient"))
        self.assertEqual([p["id"] for p in patients], [str(self.pat.code)])
        pat = patients[0]
        self.assertEqual(pat["name"], [{"text": "Pat Patient"}])
        self.assertEqual(pat["birthDate"], "1961-04-09")
        self.assertEqual(pat["identifier"][0]["value"], "MRN-1001")
        self.assertEqual(pat["identifier"][0]["type"]["coding"][0]["code"], "MR")

    def test_another_clinics_token_finds_none_of_them_and_reads_none_by_id(self):
        olive_only = self.resources(self.bundle("Patient", token=self.hillside_token))
        self.assertEqual([p["id"] for p in olive_only], [str(self.olive.code)])
        for path in (
            f"/fhir/R4/Patient/{self.pat.code}",
            f"/fhir/R4/Task/{self.assignment.code}",
        ):
            response = self.api_get(path, token=self.hillside_token)
            self.assertEqual(response.status_code, 404, path)
            self.assertEqual(validated(response.json())["resourceType"], "OperationOutcome")
        by_patient = self.bundle("Task", token=self.hillside_token, patient=f"Patient/{self.pat.code}")
        self.assertEqual(by_patient["entry"], [])

    def test_search_by_record_number(self):
        PatientFactory(clinic=self.riverside, record_number="MRN-2002")
        found = self.resources(self.bundle("Patient", identifier="MRN-1001"))
        self.assertEqual([p["id"] for p in found], [str(self.pat.code)])

    def test_read_one_patient(self):
        response = self.api_get(f"/fhir/R4/Patient/{self.pat.code}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(validated(response.json())["id"], str(self.pat.code))


class TaskTests(ApiTestCase):
    def task(self, assignment=None):
        response = self.api_get(f"/fhir/R4/Task/{(assignment or self.assignment).code}")
        self.assertEqual(response.status_code, 200, response.content)
        return validated(response.json())

    def test_an_assignment_is_a_task_for_the_patient_with_its_module_and_due_date(self):
        task = self.task()
        self.assertEqual(task["for"]["reference"], f"Patient/{self.pat.code}")
        self.assertEqual(task["owner"]["reference"], f"Patient/{self.pat.code}")
        self.assertEqual(task["focus"]["identifier"]["value"], "sleep-medicines")
        self.assertEqual(task["focus"]["type"], "DocumentReference")
        self.assertEqual(task["restriction"]["period"]["end"], self.in_a_week.isoformat())
        self.assertEqual(task["requester"]["display"], "Alice Clinician")

    def test_each_state_maps_to_a_task_status(self):
        self.assertEqual(
            (self.task()["status"], self.task()["businessStatus"]["coding"][0]["code"]), ("requested", "new")
        )
        education_services.mark_opened(assignment=self.assignment)
        self.assertEqual(self.task()["status"], "in-progress")
        self.sign_in(self.pat)
        self.pass_quiz()
        self.acknowledge()
        task = self.task()
        self.assertEqual(task["status"], "completed")
        self.assertIn("end", task["executionPeriod"])
        # A material update asks for a fresh acknowledgment: work for the patient again.
        publish_edit("sleep-medicines", "Sleep", "Sleep", material=True)
        education_services.ask_to_acknowledge_again(module=self.sleep, since=timezone.now())
        task = self.task()
        self.assertEqual(
            (task["status"], task["businessStatus"]["coding"][0]["code"]), ("in-progress", "updated")
        )
        driving = self.assign(self.pat, self.driving)
        education_services.cancel_assignment(assignment=driving, cancelled_by=self.alice)
        self.assertEqual(self.task(driving)["status"], "cancelled")

    def test_overdue_is_left_to_the_due_date_so_last_updated_stays_true(self):
        late = self.assign(
            self.pat, self.driving, due_date=datetime.date.today() - datetime.timedelta(days=3)
        )
        task = self.task(late)
        self.assertEqual(task["status"], "requested")
        self.assertEqual(task["restriction"]["period"]["end"], late.due_date.isoformat())


class QuizTests(ApiTestCase):
    def setUp(self):
        self.sign_in(self.pat)
        data = self.answers(right=1)
        self.client.post(self.url("quiz"), data)
        self.attempt = QuizAttempt.objects.get(assignment=self.assignment)
        self.shown = [key for key in data if key.startswith("question_")]
        self.client.logout()

    def test_a_quiz_attempt_is_a_questionnaire_response_with_the_choices_in_the_order_shown(self):
        responses = self.resources(self.bundle("QuestionnaireResponse", patient=str(self.pat.code)))
        self.assertEqual(len(responses), 1)
        response = responses[0]
        answers = list(self.attempt.answers.order_by("pk").select_related("question", "choice"))
        self.assertEqual([item["text"] for item in response["item"]], [a.question.text for a in answers])
        self.assertEqual(
            [item["answer"][0]["valueCoding"]["display"] for item in response["item"]],
            [a.choice.text for a in answers],
        )
        correct = [item["answer"][0]["extension"][0]["valueBoolean"] for item in response["item"]]
        self.assertEqual(correct, [a.is_correct for a in answers])
        self.assertEqual(correct.count(True), 1)
        extensions = {e["url"].rsplit("/", 1)[1]: e for e in response["extension"]}
        self.assertEqual(extensions["quiz-score"]["valueInteger"], self.attempt.score)
        self.assertFalse(extensions["quiz-passed"]["valueBoolean"])
        self.assertEqual(response["subject"]["reference"], f"Patient/{self.pat.code}")
        self.assertEqual(len(response["item"]), len(self.shown))

    def test_its_questionnaire_holds_every_question_of_the_version_and_the_choices_answered(self):
        response = self.resources(self.bundle("QuestionnaireResponse"))[0]
        version_code = response["questionnaire"].rsplit("/", 1)[1]
        got = self.api_get(f"/fhir/R4/Questionnaire/{version_code}")
        questionnaire = validated(got.json())
        items = {item["linkId"]: item for item in questionnaire["item"]}
        self.assertEqual(len(items), self.sleep.current_version.questions.count())
        for item in response["item"]:
            options = [option["valueCoding"]["code"] for option in items[item["linkId"]]["answerOption"]]
            self.assertIn(item["answer"][0]["valueCoding"]["code"], options)
        self.assertEqual(questionnaire["status"], "active")

    def test_a_spanish_attempt_shows_the_words_the_patient_saw(self):
        self.pat.language = "es"
        self.pat.save(update_fields=["language", "updated_at"])
        self.sign_in(self.pat)
        self.client.post(self.url("quiz"), self.answers())
        spanish = QuizAttempt.objects.filter(assignment=self.assignment, language="es").get()
        response = validated(self.api_get(f"/fhir/R4/QuestionnaireResponse/{spanish.code}").json())
        first = spanish.answers.order_by("pk").select_related("question").first()
        self.assertEqual(response["language"], "es")
        self.assertEqual(response["item"][0]["text"], first.question.text_in("es"))
        self.assertNotEqual(first.question.text_in("es"), first.question.text)


class AcknowledgmentTests(ApiTestCase):
    def test_an_acknowledgment_carries_statement_typed_name_version_and_hash_with_its_provenance(self):
        self.sign_in(self.pat)
        self.acknowledge(name="Pat Patient")
        acknowledgment = Acknowledgment.objects.get(assignment=self.assignment)
        bundle = self.bundle("DocumentReference", patient=f"Patient/{self.pat.code}")
        document = self.resources(bundle)[0]
        self.assertEqual(
            base64.b64decode(document["content"][0]["attachment"]["data"]).decode(), acknowledgment.statement
        )
        extensions = {e["url"].rsplit("/", 1)[1]: e["valueString"] for e in document["extension"]}
        self.assertEqual(extensions["typed-name"], "Pat Patient")
        self.assertEqual(extensions["content-sha256"], acknowledgment.content_hash)
        self.assertEqual(extensions["module-version"], f"sleep-medicines|{acknowledgment.version.number}")
        self.assertEqual(document["date"], fhir.instant(acknowledgment.acknowledged_at))
        provenance = self.resources(bundle, mode="include")[0]
        self.assertEqual(provenance["target"], [{"reference": f"DocumentReference/{acknowledgment.code}"}])
        self.assertEqual(provenance["agent"][0]["who"]["reference"], f"Patient/{self.pat.code}")
        read = self.api_get(f"/fhir/R4/Provenance/{acknowledgment.code}")
        self.assertEqual(validated(read.json())["recorded"], provenance["recorded"])
        # Reading it is a disclosure of Pat's record, like the rest.
        self.assertEqual(AuditEvent.objects.filter(action="api_read").first().patient_id, self.pat.pk)


class PagingTests(ApiTestCase):
    def test_pages_of_100_follow_the_next_link_to_every_patient_once(self):
        PatientFactory.create_batch(230, clinic=self.riverside)
        seen, url, pages = [], "/fhir/R4/Patient", 0
        while url:
            response = self.client.get(url, HTTP_AUTHORIZATION=f"Bearer {self.token}")
            bundle = validated(response.json())
            seen += [entry["resource"]["id"] for entry in bundle["entry"]]
            pages += 1
            following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
            url = following[0].removeprefix(fhir.base().removesuffix("/fhir/R4")) if following else None
            self.assertLessEqual(len(bundle["entry"]), 100)
        self.assertEqual(pages, 3)
        self.assertEqual(len(seen), 231)
        self.assertEqual(
            set(seen),
            {str(code) for code in User.objects.filter(clinic=self.riverside).values_list("code", flat=True)},
        )

    def test_a_changed_page_link_is_refused_clearly(self):
        response = self.api_get("/fhir/R4/Patient", _cursor="forged")
        self.assertEqual(response.status_code, 400)
        self.assertIn("page link is not valid", response.json()["issue"][0]["diagnostics"])

    def test_count_and_unknown_parameters_are_refused_with_a_reason(self):
        for params, words in (
            ({"_count": "500"}, "_count must be"),
            ({"_count": "ten"}, "_count must be"),
            ({"name": "Pat"}, "Unknown search parameter"),
            ({"_lastUpdated": "2026-01-01"}, "needs a prefix"),
            ({"_lastUpdated": "ge2026-13-01"}, "is not a date"),
            ({"patient": "Patient/123"}, "not a patient id"),
        ):
            path = "/fhir/R4/Task" if "patient" in params else "/fhir/R4/Patient"
            response = self.api_get(path, **params)
            self.assertEqual(response.status_code, 400, params)
            self.assertIn(words, response.json()["issue"][0]["diagnostics"], params)


class LastUpdatedTests(ApiTestCase):
    def test_polling_since_a_time_returns_only_what_changed_after_it(self):
        Assignment.objects.filter(pk=self.assignment.pk).update(updated_at=self.days_ago(3))
        since = self.days_ago(1)
        self.assertEqual(self.bundle("Task", _lastUpdated=f"gt{since.isoformat()}")["entry"], [])
        education_services.mark_opened(assignment=self.assignment)
        changed = self.resources(self.bundle("Task", _lastUpdated=f"gt{since.isoformat()}"))
        self.assertEqual([task["id"] for task in changed], [str(self.assignment.code)])
        before = self.resources(self.bundle("Task", _lastUpdated=f"lt{since.isoformat()}"))
        self.assertEqual(before, [])

    def test_a_date_means_the_whole_day_and_edits_to_a_patient_move_its_time(self):
        User.objects.filter(pk=self.pat.pk).update(updated_at=self.days_ago(10))
        today = timezone.now().date().isoformat()
        self.assertEqual(self.bundle("Patient", _lastUpdated=f"ge{today}")["entry"], [])
        from portal import services as portal_services

        portal_services.deactivate_patient(patient=self.pat, changed_by=self.alice)
        found = self.resources(self.bundle("Patient", _lastUpdated=f"ge{today}"))
        self.assertEqual([(p["id"], p["active"]) for p in found], [(str(self.pat.code), False)])


class QueryCountTests(ApiTestCase):
    """The same statements for a page of 3 records and a page of 100."""

    def assert_page_costs(self, resource_type, grow, expected):
        for _size in (3, 100):
            with self.assertStatements(expected):
                bundle = self.bundle(resource_type)
            grow(100 - len(bundle["entry"]))

    def test_patient_pages(self):
        # 1 the client by its token's hash, with its clinic; 2 the page of patients with their
        # clinic; 3 the audit trail's rows, one INSERT.
        self.assert_page_costs("Patient", lambda n: PatientFactory.create_batch(n, clinic=self.riverside), 3)

    def test_task_pages(self):
        # 1 the client; 2 the tasks with patient, clinic, module and assigning clinician; 3 audit.
        def grow(n):
            for patient in PatientFactory.create_batch(n, clinic=self.riverside):
                self.assign(patient, self.sleep)

        self.assert_page_costs("Task", grow, 3)

    def test_questionnaire_response_pages(self):
        # 1 the client; 2 the attempts with patient and version; 3 their answers (the banks'
        # words come from the process's cache once read); 4 audit.
        self.sign_in(self.pat)
        self.pass_quiz()
        self.client.logout()
        self.bundle("QuestionnaireResponse")  # reads the bank into the process's cache

        def grow(n):
            for patient in PatientFactory.create_batch(n, clinic=self.riverside):
                assignment = self.assign(patient, self.sleep)
                self.sign_in(patient)
                self.pass_quiz(assignment)
            self.client.logout()  # a record system sends no session cookie

        self.assert_page_costs("QuestionnaireResponse", grow, 4)


@override_settings(API_CALLS_PER_MINUTE=3)
class RateLimitTests(ApiTestCase):
    def test_a_client_over_its_calls_per_minute_is_told_to_wait(self):
        from django.core.cache import cache

        cache.clear()
        statuses = [self.api_get("/fhir/R4/Patient").status_code for _ in range(4)]
        self.assertEqual(statuses, [200, 200, 200, 429])
        response = self.api_get("/fhir/R4/Patient")
        self.assertEqual(response["Retry-After"], "60")
        self.assertEqual(self.api_get("/fhir/R4/Patient", token=self.hillside_token).status_code, 200)
