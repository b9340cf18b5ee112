import re
from datetime import timedelta

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, User
from accounts.services import NEUTRAL_EMAIL_REFUSAL
from tests.base import PortalTestCase

NEW_PASSWORD = "river-otter-lantern-42"


class InvitationTestCase(PortalTestCase):
    def invite(self, **overrides):
        data = {
            "clinic": self.riverside.pk,
            "full_name": "  Nia   Newcomer ",
            "email": "Nia@Example.org",
            "date_of_birth": "1980-04-02",
            "record_number": "R-100",
        } | overrides
        self.sign_in(self.alice)
        return self.client.post(reverse("portal:patient_new"), data)

    def link_from_last_email(self):
        return re.search(r"http://\S+/accounts/invitation/\S+/", mail.outbox[-1].body).group(0)

    def path_from_last_email(self):
        return "/" + self.link_from_last_email().split("/", 3)[3]

    def accept(self, path, password=NEW_PASSWORD):
        self.client.logout()
        return self.client.post(path, {"new_password1": password, "new_password2": password})


class InvitingPatientsTests(InvitationTestCase):
    def test_it_creates_the_patient_in_the_chosen_clinic(self):
        self.invite()
        nia = User.objects.get(email="nia@example.org")
        self.assertEqual(
            (nia.full_name, nia.clinic, nia.record_number), ("Nia Newcomer", self.riverside, "R-100")
        )
        self.assertFalse(nia.has_usable_password())

    def test_it_emails_a_link_that_names_the_clinic_and_nothing_about_the_patient(self):
        self.invite()
        self.assertEqual(len(mail.outbox), 1)
        email = mail.outbox[0]
        self.assertEqual(email.to, ["nia@example.org"])
        self.assertIn("Riverside", email.subject)
        html = email.alternatives[0][0]
        for text in (email.subject, email.body, html):
            self.assertNotIn("Nia", text)
            self.assertNotIn("R-100", text)
            self.assertNotIn("1980", text)

    def test_it_redirects_to_the_new_patients_page(self):
        response = self.invite()
        nia = User.objects.get(email="nia@example.org")
        self.assertRedirects(response, reverse("portal:patient_detail", args=[nia.code]))

    def test_an_address_used_elsewhere_gets_one_neutral_answer_that_says_not_where(self):
        # Another clinic's patient, a clinician of another clinic, a clinician of this one.
        answers = []
        for email in ("OLIVE@example.org", "charlie@example.org", "alice@example.org"):
            response = self.invite(email=email)
            answers.append(response.context["form"].errors["email"])
            for revealing in ("another clinic", "staff", "clinician"):
                self.assertNotContains(response, revealing)
        self.assertEqual(answers, [[NEUTRAL_EMAIL_REFUSAL]] * 3)
        self.assertEqual(User.objects.count(), 4)
        self.assertFalse(Invitation.objects.exists())
        self.assertEqual(mail.outbox, [])

    def test_it_refuses_an_email_that_is_already_a_patient_of_this_clinic(self):
        response = self.invite(email="pat@example.org")
        self.assertContains(response, "already a patient of this clinic")
        self.assertFalse(Invitation.objects.exists())

    def test_it_refuses_an_invalid_email(self):
        response = self.invite(email="not-an-address")
        self.assertContains(response, "Enter a valid email address")
        self.assertEqual(User.objects.count(), 4)

    def test_it_refuses_a_date_of_birth_in_the_future(self):
        tomorrow = timezone.localdate() + timedelta(days=1)
        response = self.invite(date_of_birth=tomorrow.isoformat())
        self.assertContains(response, "cannot be in the future")
        self.assertFalse(User.objects.filter(email="nia@example.org").exists())

    def test_it_refuses_a_date_that_is_not_a_date(self):
        response = self.invite(date_of_birth="1980-02-31")
        self.assertContains(response, "Enter a valid date")
        self.assertFalse(User.objects.filter(email="nia@example.org").exists())

    def test_it_refuses_a_record_number_already_used_in_the_clinic(self):
        self.pat.record_number = "R-100"
        self.pat.save()
        response = self.invite()
        self.assertContains(response, "Another patient of this clinic has that record number")
        self.assertFalse(User.objects.filter(email="nia@example.org").exists())

    def test_it_allows_the_same_record_number_in_another_clinic(self):
        self.olive.record_number = "R-100"
        self.olive.save()
        self.invite()
        self.assertTrue(User.objects.filter(email="nia@example.org").exists())

    def test_it_refuses_a_forged_clinic_id(self):
        response = self.invite(clinic=self.hillside.pk)
        self.assertContains(response, "Select a valid choice")
        self.assertFalse(User.objects.filter(email="nia@example.org").exists())

    def test_it_requires_a_name(self):
        response = self.invite(full_name="   ")
        self.assertContains(response, "This field is required")
        self.assertFalse(User.objects.filter(email="nia@example.org").exists())

    def test_patients_cannot_invite(self):
        self.sign_in(self.pat)
        response = self.client.get(reverse("portal:patient_new"))
        self.assertEqual(response.status_code, 404)


class AcceptingInvitationsTests(InvitationTestCase):
    def test_the_patient_sets_a_password_and_lands_on_their_modules(self):
        self.invite()
        response = self.accept(self.path_from_last_email())
        self.assertRedirects(response, reverse("home"), target_status_code=302)
        response = self.client.get(reverse("home"), follow=True)
        self.assertContains(response, "My modules")
        self.assertTrue(User.objects.get(email="nia@example.org").check_password(NEW_PASSWORD))

    def test_the_page_names_the_clinic_and_the_account_email(self):
        self.invite()
        self.client.logout()
        response = self.client.get(self.path_from_last_email())
        self.assertContains(response, "Riverside invited you")
        self.assertContains(response, "nia@example.org")

    def test_a_weak_password_is_refused_and_the_link_still_works(self):
        self.invite()
        path = self.path_from_last_email()
        response = self.accept(path, password="password")
        self.assertContains(response, "This password is too common")
        self.assertEqual(Invitation.objects.get().status, Invitation.Status.PENDING)

    def test_a_used_link_shows_what_to_do_and_changes_nothing(self):
        self.invite()
        path = self.path_from_last_email()
        self.accept(path)
        response = self.accept(path, password="another-passphrase-99")
        self.assertContains(response, "already used", status_code=410)
        self.assertContains(response, "Sign in", status_code=410)
        self.assertTrue(User.objects.get(email="nia@example.org").check_password(NEW_PASSWORD))

    def test_an_expired_link_shows_what_to_do_and_changes_nothing(self):
        self.invite()
        Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
        response = self.accept(self.path_from_last_email())
        self.assertContains(response, "has expired", status_code=410)
        self.assertContains(response, "Ask your clinic to send you a new invitation", status_code=410)
        self.assertFalse(User.objects.get(email="nia@example.org").has_usable_password())

    def test_the_link_expires_after_seven_days(self):
        self.invite()
        invitation = Invitation.objects.get()
        self.assertEqual(invitation.expires_at - invitation.created_at, timedelta(days=7))

    def test_a_tampered_token_is_not_found(self):
        self.invite()
        path = self.path_from_last_email()
        response = self.accept(path[:-3] + "xx/")
        self.assertContains(response, "not valid", status_code=404)
        self.assertFalse(User.objects.get(email="nia@example.org").has_usable_password())

    def test_the_link_is_refused_by_a_get_with_the_wrong_method(self):
        self.invite()
        response = self.client.put(self.path_from_last_email())
        self.assertEqual(response.status_code, 405)


class ResendingInvitationsTests(InvitationTestCase):
    def resend(self, patient, user=None):
        self.sign_in(user or self.alice)
        return self.client.post(reverse("portal:patient_resend_invitation", args=[patient.code]))

    def test_resending_sends_a_new_link_and_the_old_one_stops_working(self):
        self.invite()
        old_path = self.path_from_last_email()
        nia = User.objects.get(email="nia@example.org")
        self.resend(nia)
        new_path = self.path_from_last_email()
        self.assertNotEqual(old_path, new_path)
        self.assertContains(self.accept(old_path), "newer invitation", status_code=410)
        self.assertRedirects(self.accept(new_path), reverse("home"), target_status_code=302)

    def test_resending_keeps_one_live_invitation(self):
        self.invite()
        nia = User.objects.get(email="nia@example.org")
        self.resend(nia)
        self.resend(nia)
        self.assertEqual(Invitation.objects.filter(revoked_at__isnull=True).count(), 1)
        self.assertEqual(Invitation.objects.count(), 3)

    def test_resending_to_an_active_patient_is_refused(self):
        response = self.resend(self.pat)
        self.assertEqual(Invitation.objects.count(), 0)
        self.assertContains(self.client.get(response.url), "already set up their account")

    def test_a_clinician_of_another_clinic_cannot_resend(self):
        self.invite()
        nia = User.objects.get(email="nia@example.org")
        response = self.resend(nia, user=self.charlie)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(Invitation.objects.count(), 1)

    def test_resending_needs_a_post(self):
        self.sign_in(self.alice)
        response = self.client.get(reverse("portal:patient_resend_invitation", args=[self.pat.code]))
        self.assertEqual(response.status_code, 405)
