"""Every URL pattern, every persona, GET and POST, with real records of patient A.

A pattern added without an expectation here fails `test_every_url_pattern_has_an_expectation`.
Outcomes: "login" (sent to sign in), 404 (not yours, or not for your role), 405 (wrong
method), "ok" (reached the page or action: 200, a redirect elsewhere, or 400 for an
invalid form). Each request runs in a savepoint rolled back afterwards.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import CONTENT_EDITORS_GROUP, Membership
from education import services
from education.models import Assignment, Module
from portal import reminders
from portal.caregivers import services as caregiver_services
from portal.interop import services as interop_services
from tests.base import PortalTestCase
from tests.factories import ClinicianFactory, PatientFactory, VisitFactory
from tests.library import load_and_approve

# The record system's API clients: A's clinic's token and another clinic's. They have no
# session: on the site's pages they are visitors.
API_CLIENTS = {"api_client_a", "api_client_b"}
# Caregivers: patient A's, and patient B's (an outsider to A's modules).
CAREGIVERS = {"caregiver_a", "caregiver_b"}
PERSONAS = [
    "anonymous",
    "patient_a",
    "patient_b",
    "clinician_a",
    "clinician_other",
    "editor",
    "clinic_admin",
    *sorted(CAREGIVERS),
    *sorted(API_CLIENTS),
]
STAFF = {"clinician_a", "clinician_other", "editor", "clinic_admin"}
PATIENTS = {"patient_a", "patient_b"}

# Who may reach a page at all; everyone else gets the outcome named.
PUBLIC = "public"  # everyone
SIGNED_IN = "signed_in"  # anonymous: login
PATIENT_PAGE = "patient_page"  # anonymous: login; staff: 404
OWN_RECORD = "own_record"  # patient A only; anonymous: login; everyone else: 404
CLINICIAN_PAGE = "clinician_page"  # anonymous: login; patients: 404
CLINIC_A_RECORD = "clinic_a_record"  # A's clinicians only; anonymous: login; others: 404
ADMIN_PAGE = "admin_page"  # clinic admins only; anonymous: login; everyone else: 404
CLINIC_A_ADMIN_RECORD = "clinic_a_admin_record"  # A's clinic admin only
EDITOR_PAGE = "editor_page"  # content editors only; anonymous: login; everyone else: 404
SIGNED_WEBHOOK = "signed_webhook"  # everyone: 403 (no provider's signature)
API_PAGE = "api_page"  # any API client (its own clinic's records); everyone else: 401
API_A_RECORD = "api_a_record"  # A's clinic's API client only; the other's: 404; everyone else: 401
CAREGIVER_PAGE = (
    "caregiver_page"  # caregivers and patients (one may help another); anonymous: login; staff: 404
)
CAREGIVER_A_RECORD = "caregiver_a_record"  # A's caregiver only, through A's live access


@dataclass
class Rule:
    access: str
    methods: set[str]
    args: str | None = None  # which record fills the URL
    method_checked_first: bool = False  # the view refuses a wrong method before asking who you are
    lands_on_login: bool = False  # its success is the sign-in page (signing out)


RULES = {
    "home": Rule(SIGNED_IN, {"GET"}, method_checked_first=True),
    "healthz": Rule(PUBLIC, {"GET"}),
    "login": Rule(PUBLIC, {"GET", "POST"}),
    "logout": Rule(PUBLIC, {"POST"}, lands_on_login=True),
    "password_change": Rule(SIGNED_IN, {"GET", "POST"}),
    "password_change_done": Rule(SIGNED_IN, {"GET"}),
    "password_reset": Rule(PUBLIC, {"GET", "POST"}),
    "password_reset_done": Rule(PUBLIC, {"GET"}),
    "password_reset_confirm": Rule(PUBLIC, {"GET", "POST"}, args="reset"),
    "password_reset_complete": Rule(PUBLIC, {"GET"}),
    # A patient's emailed sign-in link: asking is public, and so is the link (its token is the key).
    "sign_in_link": Rule(PUBLIC, {"GET", "POST"}),
    "sign_in_link_use": Rule(PUBLIC, {"GET", "POST"}, args="sign_in_link"),
    "accounts:accept_invitation": Rule(PUBLIC, {"GET", "POST"}, args="invitation"),
    "accounts:mfa_setup": Rule(SIGNED_IN, {"GET", "POST"}),
    "accounts:mfa_verify": Rule(SIGNED_IN, {"GET", "POST"}),
    # The language menu: anyone may choose, a visitor in a cookie, a user on their account.
    "accounts:choose_language": Rule(PUBLIC, {"POST"}, method_checked_first=True),
    "education:my_modules": Rule(PATIENT_PAGE, {"GET"}),
    "education:reader": Rule(OWN_RECORD, {"GET"}, args="assignment"),
    "education:quiz": Rule(OWN_RECORD, {"GET", "POST"}, args="assignment"),
    "education:acknowledge": Rule(OWN_RECORD, {"GET", "POST"}, args="assignment"),
    "education:quiz_result": Rule(OWN_RECORD, {"GET"}, args="attempt"),
    "education:ask_question": Rule(OWN_RECORD, {"POST"}, args="assignment"),
    "education:my_questions": Rule(PATIENT_PAGE, {"GET"}),
    "education:withdraw_question": Rule(OWN_RECORD, {"POST"}, args="question"),
    "education:receipt": Rule(OWN_RECORD, {"GET"}, args="acknowledgment"),
    "portal:dashboard": Rule(CLINICIAN_PAGE, {"GET"}),
    "portal:dashboard_search": Rule(CLINICIAN_PAGE, {"POST"}),
    "portal:bulk_assign": Rule(CLINICIAN_PAGE, {"POST"}),
    "portal:patient_new": Rule(CLINICIAN_PAGE, {"GET", "POST"}),
    "portal:overview": Rule(CLINICIAN_PAGE, {"GET"}),
    "portal:export_assignments": Rule(CLINICIAN_PAGE, {"GET"}),
    "portal:patient_detail": Rule(CLINIC_A_RECORD, {"GET"}, args="patient"),
    "portal:patient_assign": Rule(CLINIC_A_RECORD, {"POST"}, args="patient"),
    "portal:visit_new": Rule(CLINIC_A_RECORD, {"POST"}, args="patient"),
    "portal:patient_resend_invitation": Rule(CLINIC_A_RECORD, {"POST"}, args="patient"),
    "portal:patient_edit": Rule(CLINIC_A_RECORD, {"GET", "POST"}, args="patient"),
    "portal:patient_deactivate": Rule(CLINIC_A_RECORD, {"POST"}, args="patient"),
    "portal:patient_reactivate": Rule(CLINIC_A_RECORD, {"POST"}, args="patient"),
    "portal:patient_transfer": Rule(CLINIC_A_RECORD, {"GET", "POST"}, args="patient"),
    "portal:assignment_cancel": Rule(CLINIC_A_RECORD, {"POST"}, args="assignment"),
    "portal:visit_summary": Rule(CLINIC_A_RECORD, {"GET"}, args="visit"),
    "portal:visit_pdf": Rule(CLINIC_A_RECORD, {"GET"}, args="visit"),
    "portal:visit_held": Rule(CLINIC_A_RECORD, {"POST"}, args="visit"),
    "portal:visit_no_show": Rule(CLINIC_A_RECORD, {"POST"}, args="visit"),
    "portal:visit_cancel": Rule(CLINIC_A_RECORD, {"GET", "POST"}, args="visit"),
    "portal:visit_reschedule": Rule(CLINIC_A_RECORD, {"GET", "POST"}, args="visit"),
    "portal:visit_teach_back": Rule(CLINIC_A_RECORD, {"POST"}, args="visit"),
    "portal:visit_assign_again": Rule(CLINIC_A_RECORD, {"POST"}, args="visit"),
    "portal:question_answered": Rule(CLINIC_A_RECORD, {"POST"}, args="question"),
    "portal:verify_receipt": Rule(CLINICIAN_PAGE, {"GET", "POST"}),
    "portal:patient_settings": Rule(PATIENT_PAGE, {"GET", "POST"}),
    "portal:access_log": Rule(PATIENT_PAGE, {"GET"}),
    # Who the patient shares their modules with: theirs to see and end, and their clinic's.
    "portal:caregivers": Rule(PATIENT_PAGE, {"GET", "POST"}),
    "portal:caregiver_revoke": Rule(OWN_RECORD, {"POST"}, args="caregiver_access"),
    "portal:patient_caregivers": Rule(CLINIC_A_RECORD, {"GET", "POST"}, args="patient"),
    "portal:patient_caregiver_revoke": Rule(CLINIC_A_RECORD, {"POST"}, args="caregiver_access"),
    # The caregiver's pages: the modules A shares, and the caregiver's own quiz results.
    "caregivers:home": Rule(CAREGIVER_PAGE, {"GET"}),
    "caregivers:reader": Rule(CAREGIVER_A_RECORD, {"GET"}, args="caregiver_module"),
    "caregivers:quiz": Rule(CAREGIVER_A_RECORD, {"GET", "POST"}, args="caregiver_module"),
    "caregivers:acknowledge": Rule(CAREGIVER_A_RECORD, {"GET", "POST"}, args="caregiver_module"),
    "caregivers:quiz_result": Rule(CAREGIVER_A_RECORD, {"GET"}, args="caregiver_attempt"),
    "portal:audit_trail": Rule(ADMIN_PAGE, {"GET"}),
    "portal:audit_patient_csv": Rule(CLINIC_A_ADMIN_RECORD, {"GET"}, args="patient"),
    "portal:staff": Rule(ADMIN_PAGE, {"GET"}),
    "portal:staff_invite": Rule(ADMIN_PAGE, {"POST"}),
    "portal:staff_resend": Rule(CLINIC_A_ADMIN_RECORD, {"POST"}, args="membership"),
    "portal:staff_role": Rule(CLINIC_A_ADMIN_RECORD, {"POST"}, args="membership"),
    "portal:staff_remove": Rule(CLINIC_A_ADMIN_RECORD, {"POST"}, args="membership"),
    "portal:unsubscribe": Rule(PUBLIC, {"GET", "POST"}, args="unsubscribe"),
    # The SMS provider's webhook: no one's session opens it, only the provider's signature.
    "portal:sms_inbound": Rule(SIGNED_WEBHOOK, {"POST"}, method_checked_first=True),
    "portal:library_review": Rule(EDITOR_PAGE, {"GET"}),
    "portal:library_load": Rule(EDITOR_PAGE, {"POST"}),
    "portal:library_version": Rule(EDITOR_PAGE, {"GET"}, args="version"),
    "portal:library_diff": Rule(EDITOR_PAGE, {"GET"}, args="version"),
    "portal:library_approve": Rule(EDITOR_PAGE, {"POST"}, args="version"),
    "portal:library_reject": Rule(EDITOR_PAGE, {"POST"}, args="version"),
    # Reachable here: the test settings have no mail server, so SENT_EMAILS_DIR is set as for
    # `make run`; its 404s (production, a real mail server) are in tests/portal/test_dev_emails.py.
    "portal:dev_emails": Rule(CLINICIAN_PAGE, {"GET"}),
    # The clinic admins' record-system page.
    "portal:integration": Rule(ADMIN_PAGE, {"GET"}),
    "portal:integration_client_new": Rule(CLINIC_A_ADMIN_RECORD, {"POST"}, args="clinic"),
    "portal:integration_client_revoke": Rule(CLINIC_A_ADMIN_RECORD, {"POST"}, args="api_client"),
    "portal:integration_rule": Rule(CLINIC_A_ADMIN_RECORD, {"POST"}, args="rule"),
    # The record system's API: a bearer token, never a session; the method first.
    "interop:metadata": Rule(API_PAGE, {"GET"}, method_checked_first=True),
    "interop:search": Rule(API_PAGE, {"GET"}, args="fhir_type", method_checked_first=True),
    "interop:read": Rule(API_A_RECORD, {"GET"}, args="fhir_task", method_checked_first=True),
    "interop:events": Rule(API_PAGE, {"POST"}, method_checked_first=True),
}


def url_names(patterns=None, namespace=""):
    """Every named URL pattern of the URLconf, namespaced, the admin site's aside."""
    names = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(namespace + pattern.name)
    return names


def allowed(access, persona):
    """None when the persona may reach the page, else the outcome they get instead."""
    if access == PUBLIC:
        return None
    if access == SIGNED_WEBHOOK:
        return 403
    if access in (API_PAGE, API_A_RECORD):
        if persona not in API_CLIENTS:
            return 401
        return 404 if access == API_A_RECORD and persona != "api_client_a" else None
    if persona == "anonymous" or persona in API_CLIENTS:
        return "login"
    if access == SIGNED_IN:
        return None
    if access == PATIENT_PAGE:
        return None if persona in PATIENTS else 404
    if access == OWN_RECORD:
        return None if persona == "patient_a" else 404
    if access == CLINICIAN_PAGE:
        return None if persona in STAFF else 404
    if access == CLINIC_A_RECORD:
        return None if persona in {"clinician_a", "clinic_admin"} else 404
    if access in (ADMIN_PAGE, CLINIC_A_ADMIN_RECORD):
        return None if persona == "clinic_admin" else 404
    if access == EDITOR_PAGE:
        return None if persona == "editor" else 404
    if access == CAREGIVER_PAGE:
        return None if persona in CAREGIVERS | PATIENTS else 404
    if access == CAREGIVER_A_RECORD:
        return None if persona == "caregiver_a" else 404
    raise AssertionError(f"unknown access {access}")


# The role a page asks for comes before the method; whose record it is comes after. So a
# wrong method gets 405 from anyone with the right role, whether or not the record is
# theirs: the answer does not depend on the record, and tells nothing about it.
ROLE_GATE = {
    OWN_RECORD: PATIENT_PAGE,
    CLINIC_A_RECORD: CLINICIAN_PAGE,
    CLINIC_A_ADMIN_RECORD: ADMIN_PAGE,
    API_A_RECORD: API_PAGE,
    CAREGIVER_A_RECORD: CAREGIVER_PAGE,
}


def expected(rule, persona, method):
    if method not in rule.methods:
        role_refused = allowed(ROLE_GATE.get(rule.access, rule.access), persona)
        return 405 if rule.method_checked_first or role_refused is None else role_refused
    return allowed(rule.access, persona) or "ok"


class AuthorizationMatrixTests(PortalTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        load_and_approve()
        cls.bea = PatientFactory(email="bea@example.org", full_name="Bea Second", clinic=cls.riverside)
        cls.editor = ClinicianFactory(email="editor@example.org", is_staff=True)
        cls.editor.groups.add(Group.objects.get(name=CONTENT_EDITORS_GROUP))
        cls.admin = ClinicianFactory(
            email="admin@example.org", clinics=[cls.riverside], clinics__role=Membership.Role.ADMIN
        )
        module = Module.objects.get(slug="sleep-medicines")
        cls.a_assignment = Assignment.objects.create(
            patient=cls.pat, module=module, assigned_by=cls.alice, due_date=timezone.localdate()
        )
        draw, questions = services.issue_draw(assignment=cls.a_assignment)
        answers = {q.pk: next(c.pk for c in q.shown_choices if c.is_correct) for q in questions}
        cls.a_attempt = services.submit_quiz(assignment=cls.a_assignment, draw=draw, answers=answers)
        cls.a_visit = VisitFactory(patient=cls.pat, clinician=cls.alice, in_days=3)
        cls.a_question = services.ask_question(assignment=cls.a_assignment, section="", text="May I drive?")
        cls.a_acknowledgment = services.acknowledge(
            assignment=cls.a_assignment,
            version=module.current_version,
            typed_name=cls.pat.full_name,
            ip_address=None,
            user_agent="",
        )
        cls.ivy = account_services.invite_patient(
            clinician=cls.alice, clinic=cls.riverside, full_name="Ivy Invited", email="ivy@example.org"
        ).invitation.invitee
        cls.hank = ClinicianFactory(
            email="hank@example.org", clinics=[cls.hillside], clinics__role=Membership.Role.ADMIN
        )
        new = interop_services.create_client(
            clinic=cls.riverside, name="A's EHR", can_read=True, can_write=True, created_by=cls.admin
        )
        cls.a_api_client, cls.a_token = new.client, new.token
        cls.b_token = interop_services.create_client(
            clinic=cls.hillside, name="B's EHR", can_read=True, can_write=True, created_by=cls.hank
        ).token
        cls.a_caregiver_access = caregiver_services.invite_caregiver(
            patient=cls.pat,
            invited_by=cls.pat,
            full_name="Cara A",
            email="cara@example.org",
            consent="patient",
        ).access
        cls.b_caregiver = caregiver_services.invite_caregiver(
            patient=cls.bea, invited_by=cls.bea, full_name="Cal B", email="cal@example.org", consent="patient"
        ).access.caregiver
        version = module.current_version
        draw, questions = caregiver_services.issue_draw(cls.a_caregiver_access, version)
        cls.a_caregiver_attempt = caregiver_services.submit_quiz(
            access=cls.a_caregiver_access,
            version=version,
            draw=draw,
            answers={q.pk: q.shown_choices[0].pk for q in questions},
            language="en",
        )

    def setUp(self):
        # Only the token's hash is stored: take a fresh link from the email it sends.
        account_services.resend_invitation(patient=self.ivy, sent_by=self.alice)
        self.invitation_token = mail.outbox[-1].body.split("/accounts/invitation/", 1)[1].split("/", 1)[0]
        account_services.send_sign_in_link(self.pat.email)
        self.sign_in_token = mail.outbox[-1].body.split("/accounts/sign-in-link/", 1)[1].split("/", 1)[0]

    def personas(self):
        return {
            "anonymous": None,
            "patient_a": self.pat,
            "patient_b": self.bea,
            "clinician_a": self.alice,
            "clinician_other": self.charlie,
            "editor": self.editor,
            "clinic_admin": self.admin,
            "caregiver_a": self.a_caregiver_access.caregiver,
            "caregiver_b": self.b_caregiver,
            "api_client_a": {"HTTP_AUTHORIZATION": f"Bearer {self.a_token}"},
            "api_client_b": {"HTTP_AUTHORIZATION": f"Bearer {self.b_token}"},
        }

    def url(self, name, rule):
        args = {
            None: [],
            "assignment": [self.a_assignment.code],
            "attempt": [self.a_attempt.code],
            "question": [self.a_question.code],
            "acknowledgment": [self.a_acknowledgment.code],
            "visit": [self.a_visit.code],
            "patient": [self.pat.code],
            "membership": [self.riverside.code, self.alice.code],
            "reset": ["MQ", "set-password"],
            "unsubscribe": [reminders.unsubscribe_token(self.pat)],
            "invitation": [self.invitation_token],
            "sign_in_link": [self.sign_in_token],
            "version": [Module.objects.get(slug="sleep-medicines").current_version.code],
            "clinic": [self.riverside.code],
            "api_client": [self.riverside.code, self.a_api_client.code],
            "rule": [self.riverside.code, "dose-lowered"],
            "fhir_type": ["Task"],
            "caregiver_access": [self.a_caregiver_access.code],
            "caregiver_module": [
                self.a_caregiver_access.code,
                Module.objects.get(slug="sleep-medicines").current_version.code,
            ],
            "caregiver_attempt": [self.a_caregiver_attempt.code],
            "fhir_task": ["Task", self.a_assignment.code],
        }[rule.args]
        return reverse(name, args=args)

    def outcome(self, response):
        location = response.get("Location", "")
        if response.status_code == 302 and location.startswith("/accounts/login/"):
            return "login"
        if response.status_code in (401, 403, 404, 405):
            return response.status_code
        if response.status_code in (200, 302, 400):
            return "ok"
        return response.status_code

    def test_every_url_pattern_has_an_expectation(self):
        self.assertEqual(url_names() - set(RULES), set(), "add these URL patterns to RULES")
        self.assertEqual(set(RULES) - url_names(), set(), "these RULES name no URL pattern")

    maxDiff = None

    def test_every_persona_gets_the_expected_outcome_on_every_url(self):
        failures = []
        for name, rule in sorted(RULES.items()):
            for persona, user in self.personas().items():
                for method in ("GET", "POST"):
                    headers = user if isinstance(user, dict) else {}
                    with transaction.atomic():
                        self.client.logout()
                        if user and not headers:
                            self.client.force_login(user)
                        url = self.url(name, rule)
                        response = getattr(self.client, method.lower())(url, **headers)
                        transaction.set_rollback(True)
                    got, want = self.outcome(response), expected(rule, persona, method)
                    if rule.lands_on_login and got == "login":
                        got = "ok"
                    if got != want:
                        failures.append(f"{method} {name} as {persona}: got {got}, expected {want}")
        self.assertEqual(failures, [])

    def test_the_admin_site_is_for_staff_only(self):
        for user, status in ((None, 302), (self.pat, 302), (self.alice, 302), (self.editor, 200)):
            self.client.logout()
            if user:
                self.client.force_login(user)
            response = self.client.get(reverse("admin:index"))
            self.assertEqual(response.status_code, status, user)
            if status == 302:
                self.assertTrue(response["Location"].startswith("/admin/login/"))
