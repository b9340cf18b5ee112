"""The journeys of the issue, each one test from start to end in a real browser."""

import csv
import datetime
import io
import re
from pathlib import Path

from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from accounts import services as account_services
from accounts.models import Invitation, Membership
from education.models import Answer, Assignment
from tests.e2e.conftest import PHONE, sign_in
from tests.e2e.data import (
    PASSWORD,
    a_content_editor,
    a_draft_of,
    answer_quiz,
    clinic_with_a_patient,
    complete,
    shown_quiz,
)
from tests.factories import VisitFactory

NEW_PASSWORD = "river-otter-lantern-42"
SLEEP = "Sleep medicines: short-term help, not a long-term fix"


def test_a_clinician_invites_a_patient_who_sets_a_password_and_sees_the_assigned_modules(new_page):
    setup = clinic_with_a_patient(modules=())
    clinician = new_page()
    sign_in(clinician, "alice@example.org", PASSWORD)
    clinician.get_by_role("link", name="Add a patient", exact=True).first.click()
    clinician.get_by_label("Full name").fill("Nia Newcomer")
    clinician.get_by_label("Email address").fill("nia@example.org")
    clinician.get_by_role("button", name="Add and send invitation").click()
    clinician.get_by_text("The invitation email is on its way").wait_for()
    clinician.get_by_label("Driving and machinery").check()
    clinician.get_by_role("button", name="Assign").click()
    clinician.get_by_text("Assigned 1 module to 1 patient").wait_for()

    patient = new_page(viewport=PHONE)
    accept_the_emailed_invitation(patient, "Riverside invited you")
    patient.get_by_role("heading", name="My modules").wait_for()
    assert patient.get_by_role("link", name="Start: Driving and machinery").first.is_visible()
    assert setup.clinic.patients.get(email="nia@example.org").has_usable_password()


def accept_the_emailed_invitation(page, greeting):
    """Open the link of the last email sent, check its greeting, and set NEW_PASSWORD."""
    link = re.search(r"http://\S+?(/accounts/invitation/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(link)
    page.get_by_text(greeting).wait_for()
    page.get_by_label("New password*", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and continue").click()


def test_a_patient_on_a_phone_reads_fails_retakes_passes_and_acknowledges(new_page):
    setup = clinic_with_a_patient()
    page = new_page(viewport=PHONE)
    sign_in(page, "pat@example.org", PASSWORD)
    page.get_by_role("link", name="Start: Driving and machinery").first.click()
    page.get_by_role("heading", name="Alcohol makes it worse").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (
        "the reader scrolls sideways"
    )

    page.get_by_role("link", name="Take the quiz").first.click()
    answer_quiz(page, right=0)
    page.get_by_text("Not passed this time").wait_for()
    # Before a pass the page teaches without handing out the answers: why each choice was
    # wrong, and a link to the part of the module that covers it.
    assert page.get_by_text("Right answer:").count() == 0
    read_again = page.get_by_role("link", name=re.compile("^Read again: "))
    assert read_again.count() == 5
    section = read_again.first.inner_text().removeprefix("Read again: ")
    read_again.first.click()
    heading = page.get_by_role("heading", name=section, exact=True)
    heading.wait_for()
    assert heading.is_visible() and page.url.endswith("#" + heading.get_attribute("id"))

    page.go_back()
    page.get_by_role("link", name="Take the quiz again").first.click()
    answer_quiz(page)
    page.get_by_text("You passed").wait_for()
    assert page.get_by_text("Right answer:").count() == 0  # nothing was wrong

    page.get_by_role("link", name="Confirm I read it").first.click()
    page.get_by_label(re.compile("I have read and understood")).check()
    page.get_by_label("Type your name").fill("pat patient")
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("Your acknowledgment is recorded").wait_for()

    page.get_by_role("link", name="My modules").first.click()
    card = page.locator("li.card", has_text="Driving and machinery")
    assert card.locator(".badge").inner_text() == "Completed"
    assert Assignment.objects.get(patient=setup.pat).completed_at is not None


def test_a_patient_reads_the_everyday_safety_module_on_a_phone(new_page):
    clinic_with_a_patient(modules=("everyday-safety",))
    page = new_page(viewport=PHONE)
    sign_in(page, "pat@example.org", PASSWORD)
    page.get_by_role("link", name="Start: Everyday safety").first.click()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (
        "the reader scrolls sideways"
    )
    key_points = page.locator(".key-points")
    assert key_points.get_by_text("Key points").is_visible()
    # The emergency card: three rungs in order, each number a link the phone can call.
    card = page.locator(".emergency-ladder")
    card.scroll_into_view_if_needed()
    assert card.is_visible()
    rungs = card.locator("ol > li")
    assert rungs.count() == 3
    assert "Call 911" in rungs.nth(0).inner_text()
    assert card.get_by_role("link", name="1-800-222-1222").get_attribute("href") == "tel:18002221222"
    assert card.get_by_role("link", name="988").get_attribute("href") == "tel:988"
    # Every picture says what it means, and each one loaded from the portal itself.
    icons = page.locator(".module-body img")
    assert icons.count() >= 5
    for index in range(icons.count()):
        icon = icons.nth(index)
        assert icon.get_attribute("alt").strip()
        assert icon.evaluate("img => img.complete && img.naturalWidth > 0"), icon.get_attribute("src")
    tool = page.locator(".admonition.tool")
    tool.scroll_into_view_if_needed()
    assert tool.get_by_role("button", name=re.compile("^Print")).is_visible()
    page.get_by_role("heading", name="Questions to ask your care team").wait_for()


def test_the_clinician_sees_the_completion_the_visit_summary_the_pdf_and_the_csv(new_page):
    setup = clinic_with_a_patient()
    VisitFactory(
        patient=setup.pat,
        clinician=setup.alice,
        in_days=2,
        assignments=Assignment.objects.filter(patient=setup.pat),
    )
    patient = new_page(viewport=PHONE)
    sign_in(patient, "pat@example.org", PASSWORD)
    patient.get_by_role("link", name="Start: Driving and machinery").first.click()
    patient.get_by_role("link", name="Take the quiz").first.click()
    answer_quiz(patient, right=4)
    patient.get_by_text("You passed").wait_for()
    patient.get_by_role("link", name="Confirm I read it").first.click()
    patient.get_by_label(re.compile("I have read and understood")).check()
    patient.get_by_label("Type your name").fill("Pat Patient")
    patient.get_by_role("button", name="Confirm").click()

    clinician = new_page()
    sign_in(clinician, "alice@example.org", PASSWORD)
    row = clinician.locator("tr", has_text="Pat Patient")
    assert "1 of 1" in row.inner_text()
    assert "80% passed" in row.inner_text()
    row.get_by_role("link", name="Pat Patient").click()
    clinician.get_by_role("link", name=re.compile(r"\d{1,2} \w{3} \d{4}")).first.click()
    clinician.get_by_role("heading", name="Follow-up visit summary").wait_for()
    missed = Answer.objects.select_related("question__version").get(is_correct=False).question
    # The table's talking point, then the question as asked under "Quiz details".
    table = clinician.locator("table.summary-table")
    table.get_by_text(missed.version.concepts[missed.concept]).wait_for()
    clinician.locator("summary", has_text="Quiz details per module").click()
    clinician.get_by_text("Talking points: not yet shown (1)").wait_for()
    clinician.get_by_text(missed.text, exact=False).first.wait_for()

    with clinician.expect_download() as pdf:
        clinician.get_by_role("link", name="Download PDF").click()
    text = " ".join(page.extract_text() for page in PdfReader(pdf.value.path()).pages)
    assert "Pat Patient" in text and "Driving and machinery" in text

    clinician.goto("/patients/")
    with clinician.expect_download() as export:
        clinician.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(Path(export.value.path()).read_text(encoding="utf-8"))))
    assert rows[0][0] == "patient"
    assert [rows[1][0], rows[1][4], rows[1][6]] == ["Pat Patient", "Driving and machinery", "Completed"]


def test_an_editor_approves_a_material_change_and_the_patient_acknowledges_it_again(new_page):
    setup = clinic_with_a_patient()
    assignment = Assignment.objects.get(patient=setup.pat)
    complete(assignment, "Pat Patient")
    a_content_editor()
    draft = a_draft_of(
        "driving-and-machinery",
        "Do not drink any alcohol while you take clonazepam.",
        "Do not drink any alcohol at all while you take clonazepam.",
    )

    editor = new_page()
    sign_in(editor, "edith@example.org", PASSWORD)
    editor.get_by_role("link", name="Module review").click()
    editor.get_by_role("link", name="Driving and machinery", exact=True).click()
    editor.get_by_text("patients who acknowledged version 1 will be asked to acknowledge again").wait_for()
    editor.get_by_label("Reviewer's name").fill("Dana Reviewer")
    editor.get_by_label("Credential").fill("PharmD")
    editor.get_by_label("What changed, for patients").fill("We made the alcohol rule clearer.")
    editor.get_by_role("button", name=f"Approve version {draft.number}").click()
    editor.get_by_text("Patients read it now").wait_for()

    patient = new_page(viewport=PHONE)
    sign_in(patient, "pat@example.org", PASSWORD)
    card = patient.locator("li.card", has_text="Driving and machinery")
    assert card.locator(".badge").inner_text() == "Updated: please review"
    card.get_by_role("link", name="Review: Driving and machinery").click()
    patient.get_by_role("heading", name="What changed").wait_for()
    patient.get_by_text("We made the alcohol rule clearer.").wait_for()
    patient.get_by_text("Reviewed by Dana Reviewer, PharmD").wait_for()
    patient.get_by_role("link", name="confirm that you read it").click()
    patient.get_by_label(re.compile("I have read and understood")).check()
    patient.get_by_label("Type your name").fill("Pat Patient")
    patient.get_by_role("button", name="Confirm").click()
    patient.get_by_text("Your acknowledgment is recorded").wait_for()
    patient.get_by_role("link", name="My modules").first.click()
    assert (
        patient.locator("li.card", has_text="Driving and machinery").locator(".badge").inner_text()
        == "Completed"
    )

    clinician = new_page()
    sign_in(clinician, "alice@example.org", PASSWORD)
    clinician.goto(f"/patients/{setup.pat.code}/")
    clinician.get_by_text(f"Acknowledged version {draft.number}").wait_for()
    assert clinician.get_by_text("Needs to re-acknowledge").count() == 0


def test_a_database_outage_on_submitting_the_quiz_keeps_the_answers_in_the_browser(new_page):
    from unittest import mock

    from django.db import OperationalError

    setup = clinic_with_a_patient()
    assignment = Assignment.objects.get(patient=setup.pat)
    new_page.expect_console_error("status of 503")
    page = new_page(viewport=PHONE)
    sign_in(page, "pat@example.org", PASSWORD)
    page.goto(f"/modules/{assignment.code}/quiz/")
    answer_quiz(page, submit=False)
    chosen = page.locator("input[type=radio]:checked").evaluate_all("els => els.map(e => e.value)")
    assert len(chosen) == 5
    with mock.patch("education.views.services.submit_quiz", side_effect=OperationalError("restarting")):
        page.get_by_role("button", name="Submit my answers").click()
        page.get_by_role("heading", name="Please try again in a minute").wait_for()
    page.get_by_text("nothing you sent was saved").wait_for()
    page.go_back()
    page.get_by_role("button", name="Submit my answers").wait_for()
    assert page.locator("input[type=radio]:checked").evaluate_all("els => els.map(e => e.value)") == chosen
    page.get_by_role("button", name="Submit my answers").click()
    page.get_by_text("You passed").wait_for()


def tab_to(page, selector, limit=80):
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_the_quiz_and_the_acknowledgment_with_the_keyboard_alone(new_page):
    setup = clinic_with_a_patient()
    assignment = Assignment.objects.get(patient=setup.pat)
    page = new_page(viewport=PHONE)
    sign_in(page, "pat@example.org", PASSWORD)
    page.goto(f"/modules/{assignment.code}/quiz/")
    for name, choices in shown_quiz(page):
        tab_to(page, f"input[name='{name}']")
        page.keyboard.press("Space")  # selects the first choice of the group
        for _ in range(next(i for i, (_, is_right) in enumerate(choices) if is_right)):
            page.keyboard.press("ArrowDown")
    tab_to(page, "button[type=submit]:not(.nav-link)")
    page.keyboard.press("Enter")
    page.get_by_text("You passed").wait_for()

    page.goto(f"/modules/{assignment.code}/acknowledge/")
    tab_to(page, "#id_confirm")
    page.keyboard.press("Space")
    tab_to(page, "#id_typed_name")
    page.keyboard.type("Pat Patient")
    page.keyboard.press("Enter")
    page.get_by_text("Your acknowledgment is recorded").wait_for()
    assignment.refresh_from_db()
    assert assignment.completed_at is not None


def test_bad_input_through_the_real_pages_gets_clear_messages(new_page):
    setup = clinic_with_a_patient()
    assignment = Assignment.objects.get(patient=setup.pat)
    new_page.expect_console_error("status of 400")  # a form shown again with its errors
    page = new_page(viewport=PHONE)
    sign_in(page, "pat@example.org", PASSWORD)

    page.goto(f"/modules/{assignment.code}/quiz/")
    page.get_by_role("button", name="Submit my answers").click()
    assert page.get_by_text("Please choose an answer to this question.").count() == 5

    page.goto(f"/modules/{assignment.code}/acknowledge/")
    page.get_by_label(re.compile("I have read and understood")).check()
    page.get_by_label("Type your name").fill("Somebody Else")
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("This is not the name on your account. Type Pat Patient").wait_for()

    invited = new_page(viewport=PHONE)
    new_page.expect_console_error("status of 410")
    sent = account_services.invite_patient(
        clinician=setup.alice, clinic=setup.clinic, full_name="Late Larkin", email="late@example.org"
    )
    Invitation.objects.filter(pk=sent.invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(days=1)
    )
    link = re.search(r"http://\S+?(/accounts/invitation/\S+/)", mail.outbox[-1].body).group(1)
    invited.goto(link)
    invited.get_by_role("heading", name="This invitation has expired").wait_for()
    invited.get_by_text("Ask your clinic to send you a new invitation").wait_for()


def test_script_payloads_in_names_and_notes_never_run_in_the_browser(new_page):
    payload = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    setup = clinic_with_a_patient()
    setup.pat.full_name = f"Pat {payload}"
    setup.pat.save()
    visit = VisitFactory(
        patient=setup.pat,
        clinician=setup.alice,
        in_days=1,
        held_at=timezone.now(),
        held_note=payload,
        assignments=Assignment.objects.filter(patient=setup.pat),
    )
    page = new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, "alice@example.org", PASSWORD)
    for path in ("/patients/", f"/patients/{setup.pat.code}/", f"/visits/{visit.code}/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.get_by_text("<script>alert('x')</script>", exact=False).count() > 0
    assert dialogs == []


def top_step(page, name):
    """The next-step button at the top of the page: on the first screen of a phone."""
    page.evaluate("window.scrollTo(0, 0)")
    button = page.locator(".next-step").get_by_role("link", name=name)
    box = button.bounding_box()
    assert box and box["y"] + box["height"] <= PHONE["height"], f"{name!r} is below the first screen"
    return button


def test_a_patient_follows_the_next_step_buttons_through_two_modules_asks_and_keeps_a_receipt(new_page):
    setup = clinic_with_a_patient(modules=("driving-and-machinery", "sleep-medicines"))
    visit = VisitFactory(
        patient=setup.pat,
        clinician=setup.alice,
        in_days=2,
        assignments=Assignment.objects.filter(patient=setup.pat),
    )
    page = new_page(viewport=PHONE)
    sign_in(page, "pat@example.org", PASSWORD)
    page.get_by_text("0 of 2 done").wait_for()
    receipt_text = ""
    for round_ in (1, 2):
        title = page.locator(".next-step strong").first.inner_text()
        top_step(page, f"Start: {title}").click()
        page.get_by_role("heading", name=title, level=1).wait_for()
        if round_ == 1:
            # A question while reading, from the first section's own form.
            page.locator("summary", has_text="Ask at my visit").first.click()
            page.locator("details[open] textarea").fill("Can I drive the morning after a dose?")
            page.locator("details[open]").get_by_role("button", name="Save my question").click()
            page.get_by_text("Your question is saved for your visit").wait_for()
        top_step(page, "Take the quiz").click()
        answer_quiz(page)
        page.get_by_text("You passed").wait_for()
        top_step(page, "Confirm you read it").click()
        page.get_by_label(re.compile("I have read and understood")).check()
        page.get_by_label("Type your name: Pat Patient").fill("pat patient")
        page.get_by_role("button", name="Confirm").click()
        page.get_by_text("Your acknowledgment is recorded").wait_for()
        if round_ == 1:
            page.get_by_text(re.compile(r"^You finished this module\. Next: ")).wait_for()
            with page.expect_download() as receipt:
                page.get_by_role("link", name="Download your receipt (PDF)").click()
            receipt_text = " ".join(p.extract_text() for p in PdfReader(receipt.value.path()).pages)
            first = Assignment.objects.get(patient=setup.pat, module__title=title)
        else:
            page.get_by_role("heading", name="All done for now").wait_for()
        top_step(page, "Back to my modules").click()
    page.get_by_role("heading", name="All done for now").wait_for()
    page.get_by_text("2 of 2 done").wait_for()

    # The receipt: the name as typed, the version, the hash of the text as read.
    acknowledgment = first.acknowledgments.select_related("receipt", "version").get()
    assert "pat patient" in receipt_text
    assert re.search(rf"Version\s+{acknowledgment.version.number}\b", receipt_text)
    assert acknowledgment.receipt.text_sha256 in re.sub(r"\s", "", receipt_text)
    code = re.search(r"\b[0-9A-Z]{5}-[0-9A-Z]{5}\b", receipt_text).group(0)

    clinician = new_page()
    sign_in(clinician, "alice@example.org", PASSWORD)
    clinician.goto(f"/visits/{visit.code}/")
    agenda = clinician.locator(
        "section", has=clinician.get_by_role("heading", name=re.compile("questions for the visit"))
    )
    agenda.get_by_text("Can I drive the morning after a dose?").wait_for()
    clinician.get_by_role("link", name="Check a receipt").click()
    clinician.get_by_label("Verification code").fill(code)
    clinician.get_by_role("button", name="Check the receipt").click()
    clinician.get_by_text("The receipt matches the record").wait_for()
    clinician.get_by_text("pat patient", exact=True).wait_for()


def test_a_clinician_moves_a_visit_then_records_teach_back_and_assigns_one_module_again(new_page):
    setup = clinic_with_a_patient(modules=("driving-and-machinery", "sleep-medicines"))
    for assignment in Assignment.objects.filter(patient=setup.pat):
        complete(assignment, "Pat Patient")
    assignments = Assignment.objects.filter(patient=setup.pat)
    upcoming = VisitFactory(patient=setup.pat, clinician=setup.alice, in_days=3, assignments=assignments)
    earlier_today = timezone.now() - datetime.timedelta(minutes=30)
    today = VisitFactory(
        patient=setup.pat, clinician=setup.alice, scheduled_at=earlier_today, assignments=assignments
    )
    page = new_page()
    sign_in(page, "alice@example.org", PASSWORD)

    page.goto(f"/visits/{upcoming.code}/")
    page.get_by_role("link", name="Move to another time or clinician").click()
    new_time = timezone.localtime(timezone.now() + datetime.timedelta(days=9)).replace(hour=10, minute=30)
    page.get_by_label("Date and time").fill(new_time.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Move the visit").click()
    page.get_by_text(f"The visit is now on {new_time:%a} {new_time.day} {new_time:%b %Y}, 10:30").wait_for()
    upcoming.refresh_from_db()
    assert upcoming.scheduled_at == new_time.replace(second=0, microsecond=0)

    page.goto(f"/visits/{today.code}/")
    page.get_by_label("Teach-back: Driving and machinery").select_option(label="Explained back correctly")
    page.get_by_label(f"Teach-back: {SLEEP}").select_option(label="Needs review")
    page.get_by_label(f"Note on {SLEEP}").fill("Unsure about stopping suddenly")
    page.get_by_role("button", name="Record teach-back").click()
    page.get_by_text("Recorded teach-back for 2 modules.").wait_for()
    table = page.locator("table.summary-table")
    table.get_by_text("Needs review: “Unsure about stopping suddenly”").wait_for()
    assert page.get_by_role("button", name=re.compile("Assign “Driving")).count() == 0
    page.get_by_role("button", name=f"Assign “{SLEEP}” again").click()
    page.get_by_text(f"Assigned “{SLEEP}” again").wait_for()
    again = Assignment.objects.filter(
        patient=setup.pat, module__slug="sleep-medicines", completed_at__isnull=True
    )
    assert again.count() == 1
    # The new assignment is on the next planned visit's agenda.
    assert upcoming.assignments.filter(pk=again.get().pk).exists()


def test_a_clinic_admin_invites_a_clinician_who_signs_in_and_sees_the_clinics_patients(new_page):
    setup = clinic_with_a_patient(modules=())
    Membership.objects.filter(user=setup.alice).update(role=Membership.Role.ADMIN)
    admin = new_page()
    sign_in(admin, "alice@example.org", PASSWORD)
    admin.get_by_role("link", name="Clinic overview").click()
    admin.get_by_role("link", name="Clinic staff").click()
    invite = admin.get_by_role("region", name="Invite a clinician")
    invite.get_by_label("Full name").fill("Bo Newhire")
    invite.get_by_label("Email address").fill("bo@example.org")
    invite.get_by_label("Role").select_option(label="Clinician")
    invite.get_by_role("button", name="Send the invitation").click()
    admin.get_by_text("You invited Bo Newhire. The invitation email is on its way.").wait_for()
    assert admin.locator("tr", has_text="Bo Newhire").get_by_text("Invited").is_visible()

    clinician = new_page()
    accept_the_emailed_invitation(clinician, "Riverside invited you to join its staff")
    clinician.get_by_role("heading", name="Patients").wait_for()
    assert clinician.get_by_role("link", name="Pat Patient").is_visible()
    clinician.get_by_role("button", name="Sign out").click()
    sign_in(clinician, "bo@example.org", NEW_PASSWORD)
    clinician.get_by_role("heading", name="Patients").wait_for()
