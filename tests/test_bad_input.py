"""Bad input through the real URLs: a clear 4xx or message, and nothing written."""

import re

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from education.models import Acknowledgment
from tests.education.base import EducationTestCase


class MissingCsrfTokenTests(EducationTestCase):
    def setUp(self):
        self.client = Client(enforce_csrf_checks=True)

    def test_adding_a_patient_without_a_csrf_token_is_refused_and_writes_nothing(self):
        self.client.force_login(self.alice)
        data = {"clinic": self.riverside.pk, "full_name": "Nia Newcomer", "email": "nia@example.org"}
        response = self.client.post(reverse("portal:patient_new"), data)
        self.assertEqual(response.status_code, 403)
        self.assertFalse(User.objects.filter(email="nia@example.org").exists())

    def test_acknowledging_without_a_csrf_token_is_refused_and_writes_nothing(self):
        self.client.force_login(self.pat)
        response = self.client.post(self.url("acknowledge"), {"confirm": "on", "typed_name": "Pat Patient"})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Acknowledgment.objects.exists())


class OversizedTextTests(EducationTestCase):
    def test_an_overlong_patient_name_or_record_number_is_refused(self):
        self.sign_in(self.alice)
        for field, size, limit in (("full_name", 151, 150), ("record_number", 51, 50)):
            data = {
                "clinic": self.riverside.pk,
                "full_name": "Nia",
                "email": "nia@example.org",
                field: "x" * size,
            }
            response = self.client.post(reverse("portal:patient_new"), data)
            self.assertContains(response, f"at most {limit} characters")
        self.assertFalse(User.objects.filter(email="nia@example.org").exists())

    def test_an_overlong_typed_name_is_refused(self):
        self.sign_in(self.pat)
        response = self.client.post(self.url("acknowledge"), {"confirm": "on", "typed_name": "x" * 151})
        self.assertContains(response, "at most 150 characters", status_code=400)
        self.assertFalse(Acknowledgment.objects.exists())

    def test_an_invalid_due_date_is_refused(self):
        self.sign_in(self.alice)
        response = self.client.post(
            reverse("portal:patient_assign", args=[self.pat.code]),
            {"modules": [self.driving.pk], "due_date": "2026-13-40"},
        )
        self.assertContains(response, "Enter a valid date", status_code=400)
        self.assertEqual(self.pat.assignments.count(), 1)


class ReplayedResetLinkTests(EducationTestCase):
    def test_a_used_password_reset_link_does_not_work_again(self):
        self.client.post(reverse("password_reset"), {"email": "pat@example.org"})
        path = re.search(r"https?://[^/]+(/\S+)", mail.outbox[-1].body).group(1)
        new = "lantern-otter-river-7"
        form_url = self.client.get(path).url
        self.client.post(form_url, {"new_password1": new, "new_password2": new})
        self.client.logout()
        response = self.client.get(path, follow=True)
        self.assertContains(response, "This link no longer works")
        self.pat.refresh_from_db()
        self.assertTrue(self.pat.check_password(new))
