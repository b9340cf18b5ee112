from unittest import mock

from django.db import OperationalError
from django.test import TestCase, override_settings

from tests.services import broker_url_or_skip

# A port nothing listens on: the broker is down.
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


@override_settings(CELERY_BROKER_URL="")
class HealthCheckTests(TestCase):
    def test_it_answers_200_with_json_when_the_database_answers(self):
        response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.json(), {"status": "ok", "database": "ok", "outbox": {"stale_claims": 0, "overdue": 0}}
        )

    def test_it_needs_no_sign_in_and_is_never_cached(self):
        response = self.client.get("/healthz")
        self.assertIn("no-cache", response["Cache-Control"])

    def test_it_answers_503_when_the_database_does_not_answer(self):
        # The only mock: we cannot stop the test database under the test itself.
        with mock.patch("portal.views.connection.cursor", side_effect=OperationalError("down")):
            response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["database"], "down")

    @override_settings(CELERY_BROKER_URL=UNREACHABLE_BROKER)
    def test_it_answers_503_when_the_configured_broker_is_down(self):
        response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["status"], "unavailable")
        self.assertEqual(response.json()["broker"], "down")

    def test_it_checks_the_configured_broker(self):
        with override_settings(CELERY_BROKER_URL=broker_url_or_skip()):
            response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["broker"], "ok")

    def test_it_refuses_a_post(self):
        self.assertEqual(self.client.post("/healthz").status_code, 405)
