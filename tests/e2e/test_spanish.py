"""The portal in Spanish, in a real browser: the phone journey from the invitation email to
the receipt, and the Spanish pages against axe-core."""

import re

from django.core import mail
from pypdf import PdfReader

from education.models import Acknowledgment, Assignment, QuizAttempt
from tests.e2e.conftest import PHONE, sign_in
from tests.e2e.data import ALL_MODULES, PASSWORD, answer_quiz, clinic_with_a_patient, complete
from tests.e2e.test_accessibility import check

NEW_PASSWORD = "rio-nutria-farol-42"
DRIVING_ES = "Manejar y usar máquinas"


def test_a_patient_who_reads_spanish_goes_from_the_invitation_email_to_the_receipt_on_a_phone(new_page):
    setup = clinic_with_a_patient(modules=())
    clinician = new_page()
    sign_in(clinician, "alice@example.org", PASSWORD)
    clinician.get_by_role("link", name="Add a patient", exact=True).first.click()
    clinician.get_by_label("Full name").fill("Lucía Ramírez")
    clinician.get_by_label("Email address").fill("lucia@example.org")
    clinician.get_by_label("Language").select_option("es")
    clinician.get_by_role("button", name="Add and send invitation").click()
    clinician.get_by_text("The invitation email is on its way").wait_for()
    clinician.get_by_label("Driving and machinery").check()
    clinician.get_by_role("button", name="Assign").click()
    clinician.get_by_text("Assigned 1 module to 1 patient").wait_for()

    email = mail.outbox[-1]
    assert email.extra_headers["Content-Language"] == "es"
    assert "Riverside le invitó a su portal educativo" in email.body
    link = re.search(r"http://\S+?(/accounts/invitation/\S+/)", email.body).group(1)

    page = new_page(viewport=PHONE)
    page.goto(link)
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_text("Riverside le envió una invitación a su portal educativo").wait_for()
    # Django's own Spanish labels for its password form.
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Guardar contraseña y continuar").click()

    page.get_by_role("heading", name="Mis módulos").wait_for()
    page.get_by_role("link", name=f"Empezar: {DRIVING_ES}").first.click()
    page.get_by_role("heading", name=DRIVING_ES, level=1).wait_for()
    page.get_by_text("Si algo sale mal").first.wait_for()  # the emergency card, in Spanish
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (
        "the reader scrolls sideways"
    )

    page.get_by_role("link", name="Hacer la prueba").first.click()
    answer_quiz(page, submit=False)
    page.get_by_role("button", name="Enviar mis respuestas").click()
    page.get_by_text(re.compile("^Aprobó")).first.wait_for()

    page.get_by_role("link", name="Confirmar que lo leyó").first.click()
    page.get_by_label(re.compile("He leído y entendido")).check()
    page.get_by_label("Escriba su nombre: Lucía Ramírez").fill("lucia ramirez")
    page.get_by_role("button", name="Confirmar").click()
    page.get_by_text("Su confirmación de lectura quedó registrada").wait_for()
    with page.expect_download() as receipt:
        page.get_by_role("link", name=re.compile("comprobante")).first.click()
    receipt_text = " ".join(p.extract_text() for p in PdfReader(receipt.value.path()).pages)

    lucia = setup.clinic.patients.get(email="lucia@example.org")
    acknowledgment = Acknowledgment.objects.select_related("version", "receipt").get(
        assignment__patient=lucia
    )
    assert acknowledgment.language == "es"
    assert acknowledgment.content_hash == acknowledgment.version.translations["es"]["content_hash"]
    assert QuizAttempt.objects.get(assignment__patient=lucia).language == "es"
    assert DRIVING_ES in receipt_text
    assert "lucia ramirez" in receipt_text
    assert acknowledgment.receipt.text_sha256 in re.sub(r"\s", "", receipt_text)


def test_spanish_pages_have_no_serious_accessibility_violations(new_page):
    setup = clinic_with_a_patient(modules=ALL_MODULES)
    setup.pat.language = "es"
    setup.pat.save(update_fields=["language"])
    assignments = Assignment.objects.filter(patient=setup.pat)
    assignment = assignments.get(module__slug="driving-and-machinery")
    complete(assignments.get(module__slug="sleep-medicines"), "Pat Patient")
    page = new_page(viewport=PHONE)
    sign_in(page, "pat@example.org", PASSWORD)
    assert page.locator("html").get_attribute("lang") == "es"

    def quiz_result(page):
        page.goto(f"/modules/{assignment.code}/quiz/")
        answer_quiz(page, right=3, submit=False)
        page.get_by_role("button", name="Enviar mis respuestas").click()

    paths = [
        "/modules/",
        *[f"/modules/{code}/" for code in assignments.values_list("code", flat=True)],
        f"/modules/{assignment.code}/quiz/",
        quiz_result,
        f"/modules/{assignment.code}/acknowledge/",
        "/settings/",
        "/questions/",
    ]
    assert check(page, paths) == {}

    visitor = new_page(viewport=PHONE)
    visitor.goto("/accounts/login/")
    visitor.get_by_role("button", name="Español").click()
    visitor.get_by_role("button", name="Iniciar sesión").wait_for()
    assert check(visitor, ["/accounts/login/", "/accounts/password_reset/"]) == {}
