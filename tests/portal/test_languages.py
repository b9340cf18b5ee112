"""English and Spanish: who reads which, what falls back to English, and what is recorded."""

import io
import re
import shutil
import tempfile
from pathlib import Path

import polib
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader

from education.models import Acknowledgment, QuizAttempt
from portal import reminders, translations
from tests.education.base import EducationTestCase, publish_edit

SPANISH_SLEEP_TITLE = "Medicamentos para dormir: una ayuda breve, no para siempre"
SPANISH_CATALOGUE = translations.CATALOGUES["es"]


def speaks_spanish(user):
    user.language = "es"
    user.save(update_fields=["language"])


class ChoosingALanguageTests(EducationTestCase):
    def test_a_visitor_whose_browser_asks_for_spanish_gets_the_sign_in_page_in_spanish(self):
        response = self.client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
        self.assertContains(response, '<html lang="es"')
        self.assertContains(response, "Iniciar sesión")

    def test_a_signed_in_patient_reads_their_language_whatever_the_browser_asks(self):
        speaks_spanish(self.pat)
        self.sign_in(self.pat)
        response = self.client.get(self.url("reader"), HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(response, '<html lang="es"')
        self.assertContains(response, SPANISH_SLEEP_TITLE)
        self.assertContains(response, "Si algo sale mal")  # the emergency card, in Spanish

    def test_an_english_patient_with_a_spanish_browser_reads_english(self):
        self.sign_in(self.pat)
        response = self.client.get(self.url("reader"), HTTP_ACCEPT_LANGUAGE="es")
        self.assertContains(response, '<html lang="en"')
        self.assertContains(response, self.sleep.title)
        self.assertNotContains(response, SPANISH_SLEEP_TITLE)

    def test_the_language_menu_keeps_a_signed_in_users_choice_on_their_account(self):
        self.sign_in(self.alice)
        response = self.client.post(
            reverse("accounts:choose_language"), {"language": "es", "next": reverse("portal:dashboard")}
        )
        self.assertRedirects(response, reverse("portal:dashboard"))
        self.alice.refresh_from_db()
        self.assertEqual(self.alice.language, "es")
        self.assertContains(self.client.get(reverse("portal:dashboard")), '<html lang="es"')

    def test_a_visitors_choice_is_kept_in_a_cookie(self):
        self.client.post(reverse("accounts:choose_language"), {"language": "es", "next": reverse("login")})
        self.assertContains(self.client.get(reverse("login")), '<html lang="es"')

    def test_an_unknown_language_changes_nothing_and_says_so(self):
        self.sign_in(self.pat)
        response = self.client.post(
            reverse("accounts:choose_language"),
            {"language": "fr", "next": reverse("education:my_modules")},
            follow=True,
        )
        self.assertContains(response, "Choose English or Spanish.")
        self.pat.refresh_from_db()
        self.assertEqual(self.pat.language, "en")

    def test_a_link_to_another_site_is_not_followed(self):
        response = self.client.post(
            reverse("accounts:choose_language"), {"language": "es", "next": "https://evil.example/"}
        )
        self.assertEqual(response.headers["Location"], reverse("home"))

    def test_the_patient_changes_it_in_settings_and_is_answered_in_it(self):
        self.sign_in(self.pat)
        response = self.client.post(
            reverse("portal:patient_settings"), {"language": "es", "reminder_emails": "on"}, follow=True
        )
        self.pat.refresh_from_db()
        self.assertEqual(self.pat.language, "es")
        self.assertContains(response, "Sus ajustes están guardados.")

    def test_the_clinician_sets_it_at_the_invitation_and_the_email_and_page_are_in_spanish(self):
        self.sign_in(self.alice)
        self.client.post(
            reverse("portal:patient_new"),
            {
                "clinic": self.riverside.pk,
                "full_name": "Nia Nueva",
                "email": "nia@example.org",
                "language": "es",
            },
        )
        nia = self.riverside.patients.get(email="nia@example.org")
        self.assertEqual(nia.language, "es")
        email = mail.outbox[-1]
        self.assertEqual(email.extra_headers["Content-Language"], "es")
        self.assertIn("Riverside", email.subject)
        self.assertIn("Riverside le invitó a su portal educativo", email.body)
        path = re.search(r"http://\S+?(/accounts/invitation/\S+/)", email.body).group(1)
        self.client.logout()
        self.assertContains(self.client.get(path, HTTP_ACCEPT_LANGUAGE="en"), '<html lang="es"')

    def test_a_wrong_language_at_the_invitation_is_refused_and_adds_no_one(self):
        self.sign_in(self.alice)
        response = self.client.post(
            reverse("portal:patient_new"),
            {
                "clinic": self.riverside.pk,
                "full_name": "Nia Nueva",
                "email": "nia@example.org",
                "language": "fr",
            },
        )
        self.assertContains(response, "fr is not one of the available choices", status_code=200)
        self.assertFalse(self.riverside.patients.filter(email="nia@example.org").exists())


class EmailsInTheRecipientsLanguageTests(EducationTestCase):
    def test_a_spanish_patients_reminder_is_in_spanish_and_an_english_ones_in_english(self):
        speaks_spanish(self.pat)
        spanish = reminders._patient_email(self.pat, 2)
        english = reminders._patient_email(self.olive, 2)
        self.assertEqual(spanish.extra_headers["Content-Language"], "es")
        self.assertNotEqual(spanish.subject, english.subject)
        self.assertIn("Riverside tiene 2 tareas pendientes", spanish.body)
        self.assertEqual(english.extra_headers["Content-Language"], "en")

    def test_the_senders_page_language_does_not_leak_into_the_email(self):
        with translation.override("es"):
            english = reminders._patient_email(self.olive, 1)
        self.assertIn("Hello", english.body)
        self.assertNotIn("Hola", english.body)


class ReadingAndRecordingInSpanishTests(EducationTestCase):
    def setUp(self):
        speaks_spanish(self.pat)
        self.sign_in(self.pat)

    def test_my_modules_lists_the_spanish_title_summary_and_dates(self):
        response = self.client.get(reverse("education:my_modules"))
        self.assertContains(response, SPANISH_SLEEP_TITLE)
        self.assertContains(response, self.sleep.summary_in("es"))
        self.assertNotContains(response, self.sleep.summary)
        self.assertContains(response, f"Vence el {self.in_a_week.day} de ")

    def test_the_quiz_is_asked_in_spanish_and_the_attempt_says_so(self):
        response = self.client.get(self.url("quiz"))
        version = self.sleep.current_version
        spanish_questions = [q.text_in("es") for q in version.questions.all()]
        self.assertTrue(any(text in response.content.decode() for text in spanish_questions))
        self.pass_quiz()
        self.assertEqual(QuizAttempt.objects.get().language, "es")

    def test_the_acknowledgment_records_the_language_read_and_the_hash_of_that_text(self):
        self.pass_quiz()
        self.acknowledge()
        acknowledgment = Acknowledgment.objects.get()
        version = self.sleep.current_version
        self.assertEqual(acknowledgment.language, "es")
        self.assertEqual(acknowledgment.content_hash, version.translations["es"]["content_hash"])
        self.assertNotEqual(acknowledgment.content_hash, version.content_hash)
        self.assertTrue(acknowledgment.statement.startswith("He leído"))
        receipt = self.client.get(reverse("education:receipt", args=[acknowledgment.code]))
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt.content)).pages)
        self.assertIn("Medicamentos para dormir", text)
        self.assertIn("He leído", text)

    def test_a_module_whose_spanish_lags_a_material_change_is_shown_in_english_and_says_why(self):
        publish_edit("sleep-medicines", "Clonazepam is not approved", "Clonazepam is not FDA-approved")
        response = self.client.get(self.url("reader"))
        self.assertContains(response, "Clonazepam is not FDA-approved")
        self.assertContains(response, 'lang="en"')
        self.assertContains(response, "se está actualizando")
        self.acknowledge()
        self.assertEqual(Acknowledgment.objects.get().language, "en")

    def test_spanish_pages_cost_the_same_queries_as_english_ones(self):
        self.pass_quiz()
        self.acknowledge()
        attempt = QuizAttempt.objects.get()
        pages = [
            reverse("education:my_modules"),
            self.url("reader"),
            self.url("quiz"),
            self.url("acknowledge"),
            reverse("education:quiz_result", args=[attempt.code]),
        ]
        for page in pages:
            with self.subTest(page):
                self.client.get(page)  # per-process caches (banks, floors) filled once
                spanish = self.count(page)
                self.pat.language = "en"
                self.pat.save(update_fields=["language"])
                english = self.count(page)
                speaks_spanish(self.pat)
                self.assertEqual(spanish, english)

    def count(self, page):
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get(page).status_code, 200)
        return len(queries)


class WhatTheClinicianSeesTests(EducationTestCase):
    def test_the_dashboard_and_the_patient_page_say_which_language_the_patient_reads(self):
        speaks_spanish(self.pat)
        self.sign_in(self.alice)
        self.assertContains(self.client.get(reverse("portal:dashboard")), "Español")
        self.assertContains(
            self.client.get(reverse("portal:patient_detail", args=[self.pat.code])), "Español"
        )

    def test_a_question_answered_in_spanish_shows_as_asked_with_the_english_beside_it(self):
        speaks_spanish(self.pat)
        self.sign_in(self.pat)
        self.client.post(self.url("quiz"), self.answers(right=0))
        attempt = QuizAttempt.objects.get()
        self.sign_in(self.alice)
        response = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        question = attempt.answers.first().question
        self.assertContains(response, question.text_in("es"))
        self.assertContains(response, question.text)


class CatalogueTests(EducationTestCase):
    def test_the_shipped_spanish_catalogue_lacks_no_string(self):
        self.assertEqual(translations.missing(SPANISH_CATALOGUE), [])

    def test_a_string_missing_in_spanish_falls_back_to_english_and_is_reported(self):
        folder = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, folder)
        catalogue_dir = folder / "es" / "LC_MESSAGES"
        catalogue_dir.mkdir(parents=True)
        po_path = catalogue_dir / "django.po"
        shutil.copy(SPANISH_CATALOGUE, po_path)
        catalogue = polib.pofile(str(po_path))
        catalogue.find("Sign in").msgstr = ""
        catalogue.save()
        translations.compile_catalogue(po_path)
        self.assertEqual(translations.missing(po_path), ["untranslated: 'Sign in'"])
        with override_settings(LOCALE_PATHS=[folder]), translation.override("es"):
            self.assertEqual(gettext("Sign in"), "Sign in")
            self.assertEqual(gettext("Password"), "Contraseña")
