import json

from django.urls import reverse

from tests.base import PortalTestCase


class RequestLogTests(PortalTestCase):
    def test_a_patient_page_view_logs_a_request_id_and_user_id_and_nothing_about_the_patient(self):
        self.pat.date_of_birth = "1980-04-02"
        self.pat.record_number = "R-77"
        self.pat.save()
        self.sign_in(self.alice)
        url = reverse("portal:patient_detail", args=[self.pat.code]) + "?q=Pat+Patient&email=pat@example.org"
        with self.assertLogs("portal.requests", "INFO") as logs:
            response = self.client.get(url)
        line = logs.output[-1]
        entry = json.loads(line.split(":", 2)[2])
        self.assertEqual(entry["user_id"], self.alice.pk)
        self.assertEqual(entry["request_id"], response["X-Request-ID"])
        self.assertEqual((entry["route"], entry["status"]), ("patients/<uuid:code>/", 200))
        for secret in ("Pat", "pat@example.org", "1980", "R-77", "q=", str(self.pat.code)):
            self.assertNotIn(secret, line)

    def test_a_proxys_request_id_is_kept_and_a_malformed_one_replaced(self):
        response = self.client.get("/healthz", HTTP_X_REQUEST_ID="edge-1234abcd")
        self.assertEqual(response["X-Request-ID"], "edge-1234abcd")
        response = self.client.get("/healthz", HTTP_X_REQUEST_ID="<script>")
        self.assertNotEqual(response["X-Request-ID"], "<script>")

    def test_an_invitation_link_token_never_reaches_the_log(self):
        with self.assertLogs("portal.requests", "INFO") as logs:
            self.client.get("/accounts/invitation/secret-token-value/")
        self.assertNotIn("secret-token-value", logs.output[-1])
