"""A patient who forgot their password signs in from an emailed link on a phone, once."""

from django.core import mail

from tests.e2e.conftest import PHONE
from tests.e2e.data import clinic_with_a_patient


def test_a_patient_signs_in_with_an_emailed_link_that_works_once(new_page):
    clinic_with_a_patient()
    page = new_page(viewport=PHONE)
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Email me a sign-in link").click()
    page.get_by_label("Email address").fill("pat@example.org")
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_text("If a patient account uses that address").wait_for()
    link = mail.outbox[-1].body.split("http://127.0.0.1:8000", 1)[1].split()[0]

    page.goto(link)
    page.get_by_role("button", name="Sign me in").click()
    page.get_by_role("heading", name="My modules").wait_for()

    page.get_by_role("button", name="Show menu").click()
    page.get_by_role("button", name="Sign out").click()
    new_page.expect_console_error("status of 410")
    response = page.goto(link)
    assert response.status == 410
    page.get_by_text("This link no longer works").wait_for()
    assert page.get_by_role("button", name="Sign me in").count() == 0
    page.goto("/modules/")
    assert "/accounts/login/" in page.url
