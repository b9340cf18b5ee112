"""The patient's receipt for an acknowledgment, and the clinician's check of one."""

import re
from io import BytesIO
from unittest import mock

from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from pypdf import PdfReader

from education import receipts
from education.models import Acknowledgment, AcknowledgmentReceipt, ModuleVersion
from portal.models import AuditEvent
from tests.education.base import EducationTestCase


class ReceiptTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)
        self.pass_quiz()
        self.acknowledge(name="pat  patient")
        self.ack = Acknowledgment.objects.select_related("receipt", "version").get()

    def pdf_text(self, response) -> str:
        text = " ".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
        return text.replace("\xa0", " ")  # the spaces a name was typed with are kept as no-break ones

    def test_confirming_issues_a_receipt_the_patient_downloads_as_a_pdf(self):
        response = self.client.get(reverse("education:receipt", args=[self.ack.code]))
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertNotIn("sleep", response["Content-Disposition"].lower())
        text = self.pdf_text(response)
        version = self.ack.version
        self.assertIn(version.title, text)
        self.assertRegex(text, rf"Version\s+{version.number}\b")
        self.assertIn("pat  patient", text)
        self.assertIn("I have read and understood this information", text)
        self.assertIn(receipts.text_sha256(version), text.replace(" ", "").replace("\n", ""))
        self.assertIn(receipts.shown(self.ack.receipt.verification_code), text)

    def test_the_receipt_hash_is_the_versions_text_as_the_reader_showed_it(self):
        version = ModuleVersion.objects.get(pk=self.ack.version_id)
        self.assertEqual(self.ack.receipt.text_sha256, receipts.text_sha256(version))
        self.assertRegex(self.ack.receipt.verification_code, r"^[0-9A-HJKMNP-TV-Z]{10}$")

    def test_another_patients_receipt_is_a_404(self):
        self.sign_in(self.olive)
        self.assertEqual(self.client.get(reverse("education:receipt", args=[self.ack.code])).status_code, 404)

    def test_a_clinician_cannot_download_the_patients_receipt(self):
        self.sign_in(self.alice)
        self.assertEqual(self.client.get(reverse("education:receipt", args=[self.ack.code])).status_code, 404)


class VerificationTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.pat)
        self.pass_quiz()
        self.acknowledge()
        self.receipt = AcknowledgmentReceipt.objects.select_related("acknowledgment").get()
        self.sign_in(self.alice)

    def check(self, code, printed_hash=""):
        return self.client.post(
            reverse("portal:verify_receipt"), {"code": code, "printed_hash": printed_hash}
        )

    def test_the_clinician_types_the_code_as_printed_and_sees_the_record_match(self):
        typed = receipts.shown(self.receipt.verification_code).lower()  # case and the dash do not matter
        response = self.check(typed, printed_hash=self.receipt.text_sha256.upper())
        self.assertContains(response, "The receipt matches the record")
        self.assertContains(response, "Pat Patient")
        self.assertContains(response, self.sleep.title)
        self.assertContains(response, "Matches the stored text.")
        event = AuditEvent.objects.get(action=AuditEvent.Action.RECEIPT_VERIFIED)
        self.assertEqual((event.actor, event.patient), (self.alice, self.pat))

    def test_a_hash_that_differs_from_the_stored_text_is_reported(self):
        altered = ("0" if self.receipt.text_sha256[0] != "0" else "1") + self.receipt.text_sha256[1:]
        response = self.check(self.receipt.verification_code, printed_hash=altered)
        self.assertContains(response, "The receipt does not match")
        self.assertContains(response, "the paper receipt may have been altered")

    def test_a_tampered_code_finds_nothing_and_says_so(self):
        code = self.receipt.verification_code
        tampered = ("A" if code[0] != "A" else "B") + code[1:]
        response = self.check(tampered)
        self.assertContains(response, "No receipt in your clinics has this code", status_code=400)
        self.assertFalse(AuditEvent.objects.filter(action=AuditEvent.Action.RECEIPT_VERIFIED).exists())

    def test_a_code_that_cannot_be_one_is_refused_with_what_it_should_look_like(self):
        self.assertContains(
            self.check(""), "Type the verification code printed on the receipt.", status_code=400
        )
        for typed in ("12345", "UUUUU-UUUUU", "ABCDE-FGHJK-MN"):
            with self.subTest(typed):
                response = self.check(typed)
                self.assertContains(
                    response, "A verification code has ten letters and digits", status_code=400
                )
        self.assertFalse(AuditEvent.objects.filter(action=AuditEvent.Action.RECEIPT_VERIFIED).exists())

    def test_a_printed_hash_that_is_not_one_is_refused(self):
        response = self.check(self.receipt.verification_code, printed_hash="z" * 64)
        self.assertContains(response, "only the digits 0 to 9 and the letters a to f", status_code=400)

    def test_another_clinics_clinician_finds_nothing(self):
        self.sign_in(self.charlie)
        response = self.check(self.receipt.verification_code)
        self.assertContains(response, "No receipt in your clinics has this code", status_code=400)
        self.assertNotContains(response, "Pat Patient", status_code=400)

    def test_a_changed_stored_text_is_reported_as_not_matching(self):
        # The stored versions are append-only (PostgreSQL refuses the change), so the text
        # is changed where the page reads it.
        with mock.patch("education.services.receipts.text_sha256", return_value="0" * 64):
            response = self.check(self.receipt.verification_code)
        self.assertContains(response, "The receipt does not match")
        self.assertContains(response, "The stored text changed since the receipt was issued")

    def test_receipts_are_append_only(self):
        if connection.vendor != "postgresql":
            self.skipTest("Runs on PostgreSQL only: set DATABASE_URL to a PostgreSQL database.")
        with self.assertRaisesMessage(DatabaseError, "append-only"), transaction.atomic():
            AcknowledgmentReceipt.objects.filter(pk=self.receipt.pk).update(text_sha256="0" * 64)

    def test_the_page_is_linked_for_clinicians(self):
        response = self.client.get(reverse("portal:dashboard"))
        self.assertContains(response, reverse("portal:verify_receipt"))
        self.assertTrue(re.search(r"Check a receipt", response.content.decode()))
