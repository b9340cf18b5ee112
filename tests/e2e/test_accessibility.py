"""Every page of both roles, and the public ones, checked with axe-core against WCAG 2.1
A and AA: no violation of impact serious or critical."""

import contextlib
import datetime
import io

from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from django.core.mail import EmailMessage
from django.test import override_settings
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Invitation, Membership
from education import services as education_services
from education.models import Assignment
from portal import dev_email, reminders
from portal.caregivers import services as caregiver_services
from tests.e2e.conftest import PHONE, sign_in
from tests.e2e.data import (
    ALL_MODULES,
    PASSWORD,
    a_content_editor,
    a_draft_of,
    answer_quiz,
    clinic_with_a_patient,
    complete,
)
from tests.factories import VisitFactory

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BLOCKING = {"serious", "critical"}


def violations(page):
    found = Axe().run(page, options=WCAG_21_AA).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes'][:3]]}"
        for v in found
        if v["impact"] in BLOCKING
    ]


def check(page, paths, before=None):
    """Visit each path (or run each callable) and collect blocking violations by page."""
    problems = {}
    for path in paths:
        if callable(path):
            label = path.__name__
            path(page)
        else:
            label = path
            page.goto(path)
        page.wait_for_load_state()
        found = violations(page)
        if found:
            problems[label] = found
    return problems


def test_public_pages_have_no_serious_accessibility_violations(new_page):
    setup = clinic_with_a_patient()
    sent = account_services.invite_patient(
        clinician=setup.alice, clinic=setup.clinic, full_name="Nia Newcomer", email="nia@example.org"
    )
    invitation_path = mail.outbox[-1].body.split("http://127.0.0.1:8000", 1)[1].split()[0]
    expired = account_services.invite_patient(
        clinician=setup.alice, clinic=setup.clinic, full_name="Late Larkin", email="late@example.org"
    )
    expired_path = mail.outbox[-1].body.split("http://127.0.0.1:8000", 1)[1].split()[0]
    Invitation.objects.filter(pk=expired.invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(days=1)
    )
    new_page.expect_console_error("status of 410")
    new_page.expect_console_error("status of 404")
    assert sent.email_sent

    def login_with_an_error(page):
        page.goto("/accounts/login/")
        page.get_by_role("button", name="Sign in").click()

    paths = [
        "/accounts/login/",
        login_with_an_error,
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        invitation_path,
        expired_path,
        f"/unsubscribe/{reminders.unsubscribe_token(setup.pat)}/",
        "/no-such-page/",
    ]
    for viewport in (PHONE, None):
        page = new_page(viewport=viewport) if viewport else new_page()
        assert check(page, paths) == {}


def test_patient_pages_have_no_serious_accessibility_violations(new_page):
    setup = clinic_with_a_patient(modules=ALL_MODULES)
    assignments = Assignment.objects.filter(patient=setup.pat)
    assignment = assignments.get(module__slug="driving-and-machinery")
    done = assignments.get(module__slug="sleep-medicines")
    complete(done, "Pat Patient")
    education_services.ask_question(assignment=assignment, section="", text="Can I drive the day after?")
    new_page.expect_console_error("status of 400")  # the forms shown again with their errors
    page = new_page(viewport=PHONE)
    sign_in(page, "pat@example.org", PASSWORD)

    def quiz_with_errors(page):
        page.goto(f"/modules/{assignment.code}/quiz/")
        page.get_by_role("button", name="Submit my answers").click()

    def quiz_result(page):
        page.goto(f"/modules/{assignment.code}/quiz/")
        answer_quiz(page, right=3)

    def acknowledgment_with_errors(page):
        page.goto(f"/modules/{assignment.code}/acknowledge/")
        page.get_by_role("button", name="Confirm").click()

    paths = [
        "/modules/",
        # Every module's reader: the key points, the emergency card, icons, the tool.
        *[f"/modules/{code}/" for code in assignments.values_list("code", flat=True)],
        f"/modules/{assignment.code}/quiz/",
        quiz_with_errors,
        quiz_result,
        f"/modules/{assignment.code}/acknowledge/",
        acknowledgment_with_errors,
        "/settings/",
        "/accounts/password_change/",
    ]
    assert check(page, paths) == {}
    # The navigation collapses into a menu on a phone: it must work from the keyboard too.
    page.goto("/modules/")
    page.get_by_role("button", name="Show menu").click()
    page.get_by_role("link", name="Settings").wait_for(state="visible")

    # Issue 15's pages, on a phone and on a desktop.
    def reader_with_a_question_form_open(page):
        page.goto(f"/modules/{assignment.code}/")
        page.locator("summary", has_text="Ask at my visit").first.click()

    def question_too_long(page):
        reader_with_a_question_form_open(page)
        form = page.locator("details[open] form")
        # The box stops typing at 500 characters; a longer one can still be sent.
        form.locator("textarea").evaluate(
            "box => { box.removeAttribute('maxlength'); box.value = 'Why '.repeat(130); }"
        )
        form.get_by_role("button", name="Save my question").click()
        page.get_by_role("heading", name="Ask at my visit").wait_for()

    def signed_out(page):
        page.goto("/modules/")
        menu = page.get_by_role("button", name="Show menu")
        if menu.is_visible():
            menu.click()
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("heading", name="You have signed out").wait_for()

    new_pages = [
        reader_with_a_question_form_open,
        question_too_long,
        "/questions/",
        f"/modules/{done.code}/acknowledge/",
        signed_out,  # last: it ends the session
    ]
    assert check(page, new_pages) == {}
    desktop = new_page()
    sign_in(desktop, "pat@example.org", PASSWORD)
    assert check(desktop, ["/modules/", f"/modules/{assignment.code}/", *new_pages]) == {}


def test_clinician_pages_have_no_serious_accessibility_violations(new_page, tmp_path):
    with contextlib.ExitStack() as stack:
        check_clinician_pages(new_page, tmp_path, stack)


def check_clinician_pages(new_page, tmp_path, stack):
    setup = clinic_with_a_patient()
    visit = VisitFactory(
        patient=setup.pat,
        clinician=setup.alice,
        in_days=3,
        assignments=Assignment.objects.filter(patient=setup.pat),
    )
    assignment = Assignment.objects.get(patient=setup.pat)
    education_services.ask_question(assignment=assignment, section="", text="Is <b>this</b> safe with tea?")
    receipt = complete(assignment, "Pat Patient").receipt
    # The Sent emails page with an email on it, its link drawn on the page (not the
    # checkout's own var/sent-emails).
    emails = tmp_path / "sent-emails"
    stack.enter_context(override_settings(SENT_EMAILS_DIR=emails))
    reset = EmailMessage(
        "Reset your password",
        "Set a new one: http://127.0.0.1:8000/accounts/reset/x/",
        to=["pat@example.org"],
    )
    dev_email.EmailBackend(stream=io.StringIO()).send_messages([reset])
    new_page.expect_console_error("status of 400")  # forms shown again with their errors
    page = new_page()
    sign_in(page, "alice@example.org", PASSWORD)

    def new_patient_with_errors(page):
        page.goto("/patients/new/")
        page.get_by_role("button", name="Add and send invitation").click()

    paths = [
        "/patients/",
        "/patients/?status=overdue&sort=activity",
        "/patients/new/",
        new_patient_with_errors,
        f"/patients/{setup.pat.code}/",
        f"/visits/{visit.code}/",
        "/overview/",
        "/accounts/password_change/",
        "/accounts/two-step/setup/",
    ]
    assert check(page, paths) == {}

    # Issue 15's pages, on a desktop and on a phone.
    def receipt_checked(page):
        page.goto("/receipts/verify/")
        page.get_by_label("Verification code").fill(receipt.verification_code)
        page.get_by_role("button", name="Check the receipt").click()
        page.get_by_text("The receipt matches the record").wait_for()

    def receipt_not_found(page):
        page.goto("/receipts/verify/")
        page.get_by_label("Verification code").fill("00000-00000")
        page.get_by_role("button", name="Check the receipt").click()
        page.get_by_text("No receipt in your clinics has this code").wait_for()

    new_pages = [
        f"/visits/{visit.code}/",
        f"/patients/{setup.pat.code}/",
        "/receipts/verify/",
        "/dev/emails/",
    ]
    new_pages += [receipt_checked, receipt_not_found]
    assert check(page, new_pages) == {}
    phone = new_page(viewport=PHONE)
    sign_in(phone, "alice@example.org", PASSWORD)
    assert check(phone, new_pages) == {}

    # Issue 16's pages: changing a visit, a patient's upkeep, the staff page (Alice as the
    # clinic's admin), on a desktop and on a phone.
    Membership.objects.filter(user=setup.alice).update(role=Membership.Role.ADMIN)

    def staff_invite_with_errors(page):
        page.goto("/staff/")
        page.get_by_role("button", name="Send the invitation").click()
        page.get_by_text("This field is required.").first.wait_for()

    upkeep_pages = [
        f"/visits/{visit.code}/move/",
        f"/visits/{visit.code}/cancel/",
        f"/patients/{setup.pat.code}/edit/",
        f"/patients/{setup.pat.code}/move/",
        "/patients/?status=inactive",
        "/staff/",
        staff_invite_with_errors,
    ]
    assert check(page, upkeep_pages) == {}
    assert check(phone, upkeep_pages) == {}

    # Issue 18's record-system page: empty, with a new token shown once, and a rule refused.
    def token_shown(page):
        page.goto("/integration/")
        # Names are unique among a clinic's active clients: one per screen size.
        page.get_by_label("Name of the record system").fill(f"Clinic EHR {page.viewport_size['width']}")
        page.get_by_role("button", name="Create and show its token").click()
        page.get_by_text("It will not be shown again").wait_for()

    def rule_with_errors(page):
        page.goto("/integration/")
        page.get_by_label("Due in (days)").first.fill("500")
        page.get_by_role("button", name="Save this rule").first.click()
        page.get_by_text("less than or equal to 90").first.wait_for()

    Assignment.objects.filter(patient=setup.pat).update(
        event_id="rx-1", event_kind="dose-lowered", event_on=datetime.date.today()
    )
    integration_pages = ["/integration/", token_shown, rule_with_errors, f"/patients/{setup.pat.code}/"]
    assert check(page, integration_pages) == {}
    assert check(phone, integration_pages) == {}


def test_editor_pages_have_no_serious_accessibility_violations(new_page):
    clinic_with_a_patient()
    a_content_editor()
    draft = a_draft_of(
        "sleep-medicines", "Ask your care team about CBT-I.", "Ask your care team about CBT-I at your visit."
    )
    new_page.expect_console_error("status of 400")
    page = new_page()
    sign_in(page, "edith@example.org", PASSWORD)

    def approve_with_errors(page):
        page.goto(f"/library/versions/{draft.code}/")
        page.get_by_role("button", name=f"Approve version {draft.number}").click()

    paths = [
        "/library/review/",
        f"/library/versions/{draft.code}/",
        f"/library/versions/{draft.code}/?width=phone",
        f"/library/versions/{draft.code}/compare/",
        approve_with_errors,
    ]
    assert check(page, paths) == {}


def test_caregiver_pages_and_their_management_have_no_serious_accessibility_violations(new_page):
    setup = clinic_with_a_patient()
    access = caregiver_services.invite_caregiver(
        patient=setup.pat,
        invited_by=setup.pat,
        full_name="Cara Caregiver",
        email="cara@example.org",
        consent="patient",
    ).access
    access.caregiver.set_password(PASSWORD)
    access.caregiver.save()
    version = Assignment.objects.get(patient=setup.pat).module.current_version
    module_path = f"/caregiving/{access.code}/modules/{version.code}/"
    new_page.expect_console_error("status of 400")  # the forms shown again with their errors
    page = new_page(viewport=PHONE)
    sign_in(page, "cara@example.org", PASSWORD)

    def quiz_result(page):
        page.goto(module_path + "quiz/")
        answer_quiz(page, right=3)

    def acknowledgment_with_errors(page):
        page.goto(module_path + "acknowledge/")
        page.get_by_role("button", name="Confirm").click()

    paths = ["/caregiving/", module_path, module_path + "quiz/", quiz_result, acknowledgment_with_errors]
    assert check(page, paths) == {}

    def invitation_with_errors(page):
        page.goto("/settings/caregivers/")
        page.get_by_role("button", name="Send the invitation").click()

    sign_in(page, "pat@example.org", PASSWORD)
    assert check(page, ["/settings/caregivers/", invitation_with_errors]) == {}
    sign_in(page, "alice@example.org", PASSWORD)
    assert check(page, [f"/patients/{setup.pat.code}/caregivers/"]) == {}
