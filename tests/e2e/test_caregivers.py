"""A caregiver's journey on a phone: invited by the patient, reads, quizzes, confirms,
and loses access the moment the patient ends it."""

from education.models import Acknowledgment, QuizAttempt
from portal.caregivers.models import CaregiverAccess, CaregiverAcknowledgment, CaregiverQuizAttempt
from tests.e2e.conftest import PHONE, sign_in
from tests.e2e.data import PASSWORD, answer_quiz, clinic_with_a_patient
from tests.e2e.test_journeys import accept_the_emailed_invitation


def test_a_caregiver_accepts_reads_on_a_phone_and_is_revoked_by_the_patient(new_page):
    setup = clinic_with_a_patient()
    patient = new_page(viewport=PHONE)
    sign_in(patient, "pat@example.org", PASSWORD)
    patient.goto("/settings/")
    patient.get_by_role("link", name="Share your modules with a family member or friend").click()
    patient.get_by_label("Their name").fill("Cara Caregiver")
    patient.get_by_label("Their email address").fill("cara@example.org")
    patient.get_by_label("I agree to the statement above.").check()
    patient.get_by_role("button", name="Send the invitation").click()
    patient.get_by_text("Cara Caregiver can now see the modules").wait_for()

    caregiver = new_page(viewport=PHONE)
    accept_the_emailed_invitation(caregiver, "Riverside invited you")
    caregiver.get_by_role("heading", name="Modules shared with me").wait_for()
    caregiver.get_by_role("link", name="Driving and machinery").click()
    caregiver.get_by_role("heading", name="Alcohol makes it worse").wait_for()
    assert caregiver.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (
        "the caregiver's reader scrolls sideways"
    )
    reader_url = caregiver.url

    caregiver.get_by_role("link", name="Take the quiz").click()
    answer_quiz(caregiver)
    caregiver.get_by_text("You passed").wait_for()
    caregiver.goto(reader_url)
    caregiver.get_by_role("link", name="Confirm you read it").click()
    caregiver.get_by_label("the care team of the person I help", exact=False).check()
    caregiver.get_by_label("Type your name").fill("cara caregiver")
    caregiver.get_by_role("button", name="Confirm").click()
    caregiver.get_by_text("Your acknowledgment is recorded as yours").wait_for()
    # The caregiver's records are theirs; the patient's record has none of them.
    assert CaregiverQuizAttempt.objects.filter(passed=True).count() == 1
    assert CaregiverAcknowledgment.objects.count() == 1
    assert not QuizAttempt.objects.filter(assignment__patient=setup.pat).exists()
    assert not Acknowledgment.objects.filter(assignment__patient=setup.pat).exists()

    patient.reload()
    patient.get_by_role("button", name="End access for Cara Caregiver").click()
    patient.get_by_text("Cara Caregiver can no longer see the modules").wait_for()
    assert CaregiverAccess.objects.get().revoked_by == setup.pat

    # The caregiver's open session reaches nothing of the patient's from now on.
    new_page.expect_console_error("status of 404")
    response = caregiver.goto(reader_url)
    assert response.status == 404
    caregiver.goto("/caregiving/")
    caregiver.get_by_text("Nobody shares modules with you now").wait_for()
    assert caregiver.get_by_role("link", name="Driving and machinery").count() == 0
