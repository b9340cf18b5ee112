import contextlib

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from tests.factories import PASSWORD, ClinicFactory, ClinicianFactory, PatientFactory


class PortalTestCase(TestCase):
    """Named personas, as in every test of the portal:

    - alice: clinician at the Riverside clinic
    - pat: Alice's patient at Riverside
    - charlie: clinician at the Hillside clinic, an outsider to Riverside
    - olive: Charlie's patient at Hillside, an outsider to Alice
    """

    password = PASSWORD

    @classmethod
    def setUpTestData(cls):
        cls.riverside = ClinicFactory(name="Riverside")
        cls.hillside = ClinicFactory(name="Hillside")
        cls.alice = ClinicianFactory(
            email="alice@example.org", full_name="Alice Clinician", clinics=[cls.riverside]
        )
        cls.charlie = ClinicianFactory(
            email="charlie@example.org", full_name="Charlie Outsider", clinics=[cls.hillside]
        )
        cls.pat = PatientFactory(email="pat@example.org", full_name="Pat Patient", clinic=cls.riverside)
        cls.olive = PatientFactory(email="olive@example.org", full_name="Olive Other", clinic=cls.hillside)

    def sign_in(self, user):
        self.client.force_login(user)

    @contextlib.contextmanager
    def assertStatements(self, expected):  # noqa: N802 - named like assertNumQueries
        """assertNumQueries without the savepoints the test's own transaction adds: in
        production the service's transaction is BEGIN and COMMIT, which are not queries."""
        with CaptureQueriesContext(connection) as captured:
            yield
        transaction_control = ("SAVEPOINT", "RELEASE SAVEPOINT")
        statements = [q["sql"] for q in captured if not q["sql"].startswith(transaction_control)]
        self.assertEqual(len(statements), expected, "\n".join(statements))
