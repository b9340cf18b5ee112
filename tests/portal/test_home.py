import uuid

from django.test import override_settings
from django.urls import reverse

from tests.base import PortalTestCase


class HomeTests(PortalTestCase):
    def test_an_anonymous_visitor_goes_to_sign_in(self):
        self.assertRedirects(self.client.get("/"), "/accounts/login/")

    def test_a_patient_goes_to_their_modules(self):
        self.sign_in(self.pat)
        response = self.client.get("/", follow=True)
        self.assertRedirects(response, reverse("education:my_modules"))
        self.assertContains(response, "My modules")

    def test_a_clinician_goes_to_their_clinics_patient_list(self):
        self.sign_in(self.alice)
        response = self.client.get("/", follow=True)
        self.assertRedirects(response, reverse("portal:dashboard"))
        self.assertContains(response, "Pat Patient")

    def test_a_clinician_cannot_open_the_patients_modules_page(self):
        self.sign_in(self.alice)
        self.assertEqual(self.client.get(reverse("education:my_modules")).status_code, 404)

    def test_an_anonymous_visitor_to_my_modules_is_asked_to_sign_in(self):
        response = self.client.get(reverse("education:my_modules"))
        self.assertRedirects(response, "/accounts/login/?next=/modules/")

    def test_home_refuses_a_post(self):
        self.assertEqual(self.client.post("/").status_code, 405)


@override_settings(DEBUG=True)
class NotFoundWithDebugTests(PortalTestCase):
    """`make run` serves with DEBUG on; under the record pages a 404 must still be the
    portal's page, not Django's, which repeats the path and lists every URL pattern."""

    def test_record_pages_answer_with_the_portals_own_page(self):
        self.sign_in(self.alice)
        for path in (
            f"/patients/{self.olive.code}/",  # another clinic's patient
            "/patients/not-a-code/",  # no such URL at all
            f"/visits/{uuid.uuid4()}/",
            f"/patients/{self.olive.code}/edit/",
        ):
            response = self.client.get(path)
            self.assertContains(response, "We could not find that page", status_code=404)
            self.assertNotContains(response, "URLconf", status_code=404)
            self.assertNotContains(response, str(self.olive.code), status_code=404)

    def test_elsewhere_developers_keep_djangos_page(self):
        response = self.client.get("/no-such-page/")
        self.assertContains(response, "URLconf", status_code=404)
