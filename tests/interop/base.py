import datetime

from fhir.resources.R4B import get_fhir_model_class

from accounts.models import Membership
from portal.interop import services
from tests.education.base import EducationTestCase
from tests.factories import ClinicianFactory


def validated(resource: dict) -> dict:
    """The resource, after the fhir.resources R4B model of its type accepted it (and every
    resource inside it, for a Bundle): raises pydantic's ValidationError otherwise."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return resource


class ApiTestCase(EducationTestCase):
    """The education personas, a clinic admin at each clinic, and an API client of each
    clinic allowed to read and write: Riverside's token in `self.token`, Hillside's in
    `self.hillside_token`."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.rita = ClinicianFactory(
            email="rita@example.org",
            full_name="Rita Admin",
            clinics=[cls.riverside],
            clinics__role=Membership.Role.ADMIN,
        )
        cls.hank = ClinicianFactory(
            email="hank@example.org",
            full_name="Hank Admin",
            clinics=[cls.hillside],
            clinics__role=Membership.Role.ADMIN,
        )
        new = services.create_client(
            clinic=cls.riverside, name="Riverside EHR", can_read=True, can_write=True, created_by=cls.rita
        )
        cls.api_client, cls.token = new.client, new.token
        other = services.create_client(
            clinic=cls.hillside, name="Hillside EHR", can_read=True, can_write=True, created_by=cls.hank
        )
        cls.hillside_token = other.token
        cls.pat.record_number = "MRN-1001"
        cls.pat.save(update_fields=["record_number", "updated_at"])

    def api_get(self, path, token=None, **params):
        return self.client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {token or self.token}")

    def api_post(self, path, body, token=None):
        return self.client.post(
            path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token or self.token}"
        )

    def bundle(self, resource_type, token=None, **params):
        response = self.api_get(f"/fhir/R4/{resource_type}", token, **params)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response["Content-Type"], "application/fhir+json; charset=utf-8")
        return validated(response.json())

    @staticmethod
    def resources(bundle, mode="match"):
        return [entry["resource"] for entry in bundle["entry"] if entry["search"]["mode"] == mode]

    @staticmethod
    def days_ago(days):
        return datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)
