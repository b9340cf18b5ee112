"""`make screenshots`: PNGs of the main screens into docs/screenshots/ for the README.
Not part of the suite (the file name does not start with test_); run it explicitly."""

from pathlib import Path

from django.utils import timezone

from education.models import Assignment
from portal import demo
from portal.models import FollowUpVisit
from tests.e2e.conftest import PHONE, sign_in
from tests.e2e.data import answer_quiz

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_take_screenshots(new_page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    clinic = demo.seed_demo_accounts()
    demo.add_synthetic_patients(clinic, 60)
    demo.give_the_demo_patient_a_history()  # one module done, one under way, as make run
    patient = demo.PATIENT.email
    assignment = Assignment.objects.filter(patient__email=patient, module__slug="driving-and-machinery").get()

    phone = new_page(viewport=PHONE)
    sign_in(phone, patient, demo.DEMO_PASSWORD)
    phone.goto("/modules/")
    phone.screenshot(path=SCREENSHOTS / "my-modules-phone.png")
    phone.goto(f"/modules/{assignment.code}/")
    phone.screenshot(path=SCREENSHOTS / "reader-phone.png")
    everyday = Assignment.objects.filter(patient__email=patient, module__slug="everyday-safety").get()
    phone.goto(f"/modules/{everyday.code}/")
    phone.screenshot(path=SCREENSHOTS / "module-frame-phone.png", full_page=True)
    phone.goto(f"/modules/{assignment.code}/quiz/")
    answer_quiz(phone, right=3)
    phone.get_by_text("Not passed this time").wait_for()
    phone.screenshot(path=SCREENSHOTS / "quiz-feedback-phone.png", full_page=True)

    clinician = new_page()
    sign_in(clinician, demo.CLINICIAN.email, demo.DEMO_PASSWORD)
    clinician.goto("/patients/")
    clinician.screenshot(path=SCREENSHOTS / "clinician-dashboard.png")
    visit = FollowUpVisit.objects.filter(scheduled_at__gte=timezone.now(), assignments__isnull=False).first()
    clinician.goto(f"/visits/{visit.code}/")
    clinician.screenshot(path=SCREENSHOTS / "visit-summary.png", full_page=True)

    # The same pages for Lucía, who reads Spanish.
    spanish = new_page(viewport=PHONE)
    sign_in(spanish, demo.SPANISH_PATIENT.email, demo.DEMO_PASSWORD)
    spanish.goto("/modules/")
    spanish.screenshot(path=SCREENSHOTS / "my-modules-phone-es.png")
    lucias = Assignment.objects.filter(
        patient__email=demo.SPANISH_PATIENT.email, module__slug="driving-and-machinery"
    ).get()
    spanish.goto(f"/modules/{lucias.code}/")
    spanish.screenshot(path=SCREENSHOTS / "reader-phone-es.png")
