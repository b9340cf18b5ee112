"""Caregivers: who may invite them, what they see and record, and how access ends."""

import re

from django.core import mail
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Invitation, User
from education.models import Acknowledgment, Assignment, Module, QuizAttempt
from portal import services as portal_services
from portal.caregivers import services
from portal.caregivers.models import CaregiverAccess, CaregiverAcknowledgment, CaregiverQuizAttempt
from portal.models import AuditEvent
from tests.education.base import EducationTestCase
from tests.factories import PASSWORD, ClinicianFactory, PatientFactory
from tests.services import postgresql_or_skip

Action = AuditEvent.Action
Consent = CaregiverAccess.Consent


class CaregiverTestCase(EducationTestCase):
    """Pat (sleep module assigned) and Cara, the caregiver Pat invited and who set up her account."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.caregiver_module = Module.objects.get(slug=services.CAREGIVER_MODULE_SLUG)
        cls.access = cls.invite("cara@example.org", name="Cara Caregiver").access
        cls.cara = cls.access.caregiver
        cls.cara.set_password(PASSWORD)
        cls.cara.save()

    @classmethod
    def invite(cls, email, patient=None, name="Gus Grandson"):
        """`patient` (Pat by default) invites the person with `email` themselves."""
        patient = patient or cls.pat
        return services.invite_caregiver(
            patient=patient, invited_by=patient, full_name=name, email=email, consent=Consent.PATIENT
        )

    def reader_url(self, module=None, access=None):
        module = module or self.sleep
        return reverse("caregivers:reader", args=[(access or self.access).code, module.current_version.code])

    def quiz_url(self, module=None):
        module = module or self.sleep
        return reverse("caregivers:quiz", args=[self.access.code, module.current_version.code])

    def acknowledge_url(self, module=None):
        module = module or self.sleep
        return reverse("caregivers:acknowledge", args=[self.access.code, module.current_version.code])

    def caregiver_answers(self, right=True):
        """The POST data for the quiz page Cara is shown now: all right, or all wrong."""
        response = self.client.get(self.quiz_url())
        form = response.context["form"]
        data = {"draw": form.fields["draw"].initial}
        for question in form.questions:
            pick = next(c for c in question.shown_choices if c.is_correct == right)
            data[f"question_{question.pk}"] = str(pick.pk)
        return data

    def trail(self, action):
        return AuditEvent.objects.filter(action=action, patient=self.pat)


class InvitingTests(CaregiverTestCase):
    def test_a_patients_invitation_creates_a_caregiver_account_and_emails_its_link(self):
        self.sign_in(self.pat)
        response = self.client.post(
            reverse("portal:caregivers"),
            {"full_name": "Gus  Grandson", "email": "Gus@Example.org", "agree": "on"},
            follow=True,
        )
        self.assertContains(response, "Gus Grandson can now see the modules")
        gus = User.objects.get(email="gus@example.org")
        self.assertEqual((gus.role, gus.clinic, gus.has_usable_password()), ("caregiver", None, False))
        access = CaregiverAccess.objects.get(caregiver=gus)
        self.assertEqual((access.patient, access.invited_by, access.consent), (self.pat, self.pat, "patient"))
        self.assertIn("will not see my quiz scores", access.consent_wording)
        self.assertEqual(mail.outbox[-1].to, ["gus@example.org"])
        self.assertIn("/accounts/invitation/", mail.outbox[-1].body)
        # The email names the clinic, nothing about the patient or their health.
        self.assertNotIn("Pat", mail.outbox[-1].body)
        self.assertNotIn("sleep", mail.outbox[-1].body.lower())
        self.assertTrue(self.trail(Action.CAREGIVER_INVITED).filter(actor=self.pat).exists())

    def test_the_patient_must_agree_to_the_statement(self):
        self.sign_in(self.pat)
        response = self.client.post(
            reverse("portal:caregivers"), {"full_name": "Gus Grandson", "email": "gus@example.org"}
        )
        self.assertContains(response, "Tick the box to agree", status_code=400)
        self.assertFalse(User.objects.filter(email="gus@example.org").exists())

    def test_bad_addresses_get_a_clear_message_and_write_nothing(self):
        ClinicianFactory(email="staff@example.org")
        PatientFactory(email="other-patient@example.org", clinic=self.hillside)
        self.sign_in(self.pat)
        cases = {
            "pat@example.org": "This is your own email address",
            "PAT@example.org ": "This is your own email address",
            "staff@example.org": "This email address cannot be used for a caregiver",
            "cara@example.org": "This person can already see the modules",
            "not-an-address": "Enter an email address like name@example.org",
        }
        before = (User.objects.count(), CaregiverAccess.objects.count(), len(mail.outbox))
        for email, message in cases.items():
            with self.subTest(email=email):
                response = self.client.post(
                    reverse("portal:caregivers"), {"full_name": "Someone", "email": email, "agree": "on"}
                )
                self.assertContains(response, message, status_code=400)
        self.assertEqual((User.objects.count(), CaregiverAccess.objects.count(), len(mail.outbox)), before)

    def test_a_clinician_invites_only_with_the_patients_recorded_consent(self):
        self.sign_in(self.alice)
        url = reverse("portal:patient_caregivers", args=[self.pat.code])
        response = self.client.post(url, {"full_name": "Gus Grandson", "email": "gus@example.org"})
        self.assertContains(response, "Record how the patient agreed", status_code=400)
        self.assertFalse(User.objects.filter(email="gus@example.org").exists())
        self.client.post(
            url, {"full_name": "Gus Grandson", "email": "gus@example.org", "consent": "by_phone"}
        )
        access = CaregiverAccess.objects.get(caregiver__email="gus@example.org")
        self.assertEqual((access.invited_by, access.consent), (self.alice, "by_phone"))
        response = self.client.get(url)
        self.assertContains(response, "Gus Grandson")
        self.assertContains(response, "Patient agreed by phone")

    def test_another_clinics_clinician_gets_a_404_and_writes_nothing(self):
        self.sign_in(self.charlie)
        url = reverse("portal:patient_caregivers", args=[self.pat.code])
        response = self.client.post(
            url, {"full_name": "Gus", "email": "gus@example.org", "consent": "in_person"}
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(User.objects.filter(email="gus@example.org").exists())

    def test_a_caregiver_with_an_account_is_told_by_email_and_sees_both_patients(self):
        bea = PatientFactory(email="bea@example.org", full_name="Bea Second", clinic=self.riverside)
        self.assign(bea, self.driving)
        invited = self.invite("cara@example.org", patient=bea, name="Anything")
        self.assertEqual(invited.access.caregiver, self.cara)
        self.assertEqual(User.objects.filter(email="cara@example.org").count(), 1)
        self.assertIn("/caregiving/", mail.outbox[-1].body)
        self.assertNotIn("/accounts/invitation/", mail.outbox[-1].body)
        self.sign_in(self.cara)
        response = self.client.get(reverse("caregivers:home"))
        self.assertContains(response, "Shared by Pat Patient")
        self.assertContains(response, "Shared by Bea Second")


class AcceptingAndReadingTests(CaregiverTestCase):
    def test_the_caregiver_accepts_the_invitation_and_lands_on_the_shared_modules(self):
        self.sign_in(self.pat)
        self.client.post(
            reverse("portal:caregivers"),
            {"full_name": "Gus Grandson", "email": "gus@example.org", "agree": "on"},
        )
        link = re.search(r"http://\S+(/accounts/invitation/\S+/)", mail.outbox[-1].body).group(1)
        self.client.logout()
        response = self.client.post(
            link,
            {"new_password1": "a long new passphrase 9", "new_password2": "a long new passphrase 9"},
            follow=True,
        )
        self.assertEqual(response.redirect_chain[-1][0], reverse("caregivers:home"))
        self.assertContains(response, "Shared by Pat Patient")
        self.assertTrue(
            self.trail(Action.INVITATION_ACCEPTED).filter(actor__email="gus@example.org").exists()
        )

    def test_the_list_holds_the_assigned_modules_and_the_caregiver_module_only(self):
        cancelled = self.assign(self.pat, self.driving)
        cancelled.cancelled_at, cancelled.cancelled_by = timezone.now(), self.alice
        cancelled.save()
        self.sign_in(self.cara)
        response = self.client.get(reverse("caregivers:home"))
        self.assertContains(response, self.reader_url())
        self.assertContains(response, self.reader_url(self.caregiver_module))
        self.assertNotContains(response, self.driving.title)
        self.assertEqual(self.client.get(self.reader_url(self.driving)).status_code, 404)

    def test_reading_a_module_is_on_the_patients_trail_and_their_who_viewed_page(self):
        self.sign_in(self.cara)
        response = self.client.get(self.reader_url())
        self.assertContains(response, self.sleep.current_version.title)
        self.assertContains(response, "911")
        event = self.trail(Action.CAREGIVER_VIEWED).get(actor=self.cara)
        self.assertEqual(event.clinic, self.riverside)
        self.assertNotIn("sleep", event.detail.lower())
        self.sign_in(self.pat)
        response = self.client.get(reverse("portal:access_log"))
        self.assertContains(response, "Modules opened by a caregiver")
        self.assertContains(response, "Cara Caregiver, your caregiver")

    def test_a_caregiver_who_reads_spanish_reads_the_module_in_spanish(self):
        self.sign_in(self.cara)
        self.client.post(reverse("accounts:choose_language"), {"language": "es"})
        response = self.client.get(self.reader_url())
        spanish = self.sleep.current_version.text_in("es")
        self.assertEqual(spanish.language, "es")
        self.assertContains(response, spanish.title)
        self.assertContains(response, spanish.body_html[:200])
        self.assertNotContains(response, self.sleep.current_version.body_html[:200])

    def test_no_score_answer_question_or_visit_of_the_patient_is_shown(self):
        self.client.force_login(self.pat)
        self.pass_quiz()
        self.client.post(self.url("ask_question"), {"text": "Can I stop on my own?", "section": ""})
        self.sign_in(self.cara)
        pages = [reverse("caregivers:home"), self.reader_url(), self.quiz_url(), self.acknowledge_url()]
        for url in pages:
            body = self.client.get(url).content.decode()
            with self.subTest(url=url):
                self.assertNotIn("Can I stop on my own?", body)
                self.assertNotIn("You passed", body)
                self.assertNotIn("100%", body)
        attempt = QuizAttempt.objects.get(assignment=self.assignment)
        patients_pages = [
            reverse("education:quiz_result", args=[attempt.code]),
            reverse("education:reader", args=[self.assignment.code]),
            reverse("education:my_questions"),
            reverse("portal:patient_detail", args=[self.pat.code]),
        ]
        for url in patients_pages:
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 404)


class CaregiverRecordsTests(CaregiverTestCase):
    def test_the_caregivers_quiz_is_recorded_as_theirs_never_the_patients(self):
        self.sign_in(self.cara)
        data = self.caregiver_answers(right=True)
        response = self.client.post(self.quiz_url(), data, follow=True)
        self.assertContains(response, "You passed")
        attempt = CaregiverQuizAttempt.objects.get()
        self.assertEqual((attempt.access, attempt.passed), (self.access, True))
        self.assertFalse(QuizAttempt.objects.exists())
        self.assignment.refresh_from_db()
        self.assertIsNone(self.assignment.completed_at)
        # The same page sent again records nothing more.
        self.client.post(self.quiz_url(), data)
        self.assertEqual(CaregiverQuizAttempt.objects.count(), 1)
        self.assertContains(self.client.get(reverse("caregivers:home")), "You passed the quiz.")

    def test_a_forged_or_foreign_draw_is_refused_and_nothing_is_written(self):
        self.sign_in(self.cara)
        data = self.caregiver_answers()
        for draw in ("forged", data["draw"][:-2] + "xx"):
            response = self.client.post(self.quiz_url(), {**data, "draw": draw}, follow=True)
            self.assertContains(response, "This quiz page is no longer valid")
        # A draw signed for the sleep module does not answer the caregiver module.
        response = self.client.post(self.quiz_url(self.caregiver_module), data, follow=True)
        self.assertContains(response, "This quiz page is no longer valid")
        self.assertFalse(CaregiverQuizAttempt.objects.exists())

    def test_the_caregivers_acknowledgment_is_in_their_own_name(self):
        self.sign_in(self.cara)
        response = self.client.post(self.acknowledge_url(), {"confirm": "on", "typed_name": "Pat Patient"})
        self.assertContains(response, "This is not the name on your account", status_code=400)
        self.assertFalse(CaregiverAcknowledgment.objects.exists())
        self.client.post(self.acknowledge_url(), {"confirm": "on", "typed_name": "cara caregiver"})
        acknowledgment = CaregiverAcknowledgment.objects.get()
        self.assertEqual(
            (acknowledgment.access, acknowledgment.version), (self.access, self.sleep.current_version)
        )
        self.assertIn("the care team of the person I help", acknowledgment.statement)
        self.assertContains(self.client.get(reverse("caregivers:home")), "You confirmed you read it.")
        self.assertFalse(Acknowledgment.objects.exists())

    def test_the_caregivers_records_are_append_only(self):
        postgresql_or_skip(connection)
        self.sign_in(self.cara)
        self.client.post(self.quiz_url(), self.caregiver_answers())
        with self.assertRaisesMessage(DatabaseError, "append-only"), transaction.atomic():
            CaregiverQuizAttempt.objects.update(passed=False)
        with self.assertRaisesMessage(DatabaseError, "may only end an access"), transaction.atomic():
            CaregiverAccess.objects.filter(pk=self.access.pk).update(consent="in_writing")


class RevokingTests(CaregiverTestCase):
    def test_the_patient_revokes_and_the_caregivers_open_session_stops_at_once(self):
        caregiver_client = self.client_class()
        caregiver_client.force_login(self.cara)
        data = {}
        response = caregiver_client.get(self.quiz_url())
        form = response.context["form"]
        data["draw"] = form.fields["draw"].initial
        for question in form.questions:
            data[f"question_{question.pk}"] = str(question.shown_choices[0].pk)

        self.sign_in(self.pat)
        response = self.client.post(reverse("portal:caregiver_revoke", args=[self.access.code]), follow=True)
        self.assertContains(response, "Cara Caregiver can no longer see the modules")
        self.assertContains(response, "Had access from")
        self.assertTrue(self.trail(Action.CAREGIVER_REVOKED).filter(actor=self.pat).exists())

        for url in (self.reader_url(), self.quiz_url(), self.acknowledge_url()):
            with self.subTest(url=url):
                self.assertEqual(caregiver_client.get(url).status_code, 404)
        self.assertEqual(caregiver_client.post(self.quiz_url(), data).status_code, 404)
        self.assertFalse(CaregiverQuizAttempt.objects.exists())
        self.assertContains(
            caregiver_client.get(reverse("caregivers:home")), "Nobody shares modules with you now"
        )
        # Revoking again changes nothing and says so.
        response = self.client.post(reverse("portal:caregiver_revoke", args=[self.access.code]), follow=True)
        self.assertContains(response, "access had already ended")
        self.assertEqual(self.trail(Action.CAREGIVER_REVOKED).count(), 1)

    def test_the_clinician_sees_and_revokes_what_the_patient_granted(self):
        self.sign_in(self.alice)
        response = self.client.get(reverse("portal:patient_caregivers", args=[self.pat.code]))
        self.assertContains(response, "Cara Caregiver")
        self.assertContains(response, "invited by Pat Patient.")
        self.assertNotContains(response, "Given by the patient in the portal")
        self.client.post(reverse("portal:patient_caregiver_revoke", args=[self.access.code]))
        self.access.refresh_from_db()
        self.assertEqual(self.access.revoked_by, self.alice)
        self.sign_in(self.charlie)
        response = self.client.post(reverse("portal:patient_caregiver_revoke", args=[self.access.code]))
        self.assertEqual(response.status_code, 404)

    def test_another_patient_cannot_revoke_or_see_it(self):
        self.sign_in(self.olive)
        response = self.client.post(reverse("portal:caregiver_revoke", args=[self.access.code]))
        self.assertEqual(response.status_code, 404)
        self.assertNotContains(self.client.get(reverse("portal:caregivers")), "Cara")
        self.access.refresh_from_db()
        self.assertIsNone(self.access.revoked_at)

    def test_a_caregiver_who_never_set_up_loses_the_invitation_link_with_the_access(self):
        gus_access = self.invite("gus@example.org", name="Gus").access
        services.revoke_access(access=gus_access, revoked_by=self.pat)
        invitation = Invitation.objects.get(invitee=gus_access.caregiver)
        self.assertEqual(invitation.status, Invitation.Status.REVOKED)

    def test_a_deactivated_patients_modules_are_closed_to_the_caregiver(self):
        User.objects.filter(pk=self.pat.pk).update(is_active=False)
        self.sign_in(self.cara)
        self.assertEqual(self.client.get(self.reader_url()).status_code, 404)
        self.assertNotContains(self.client.get(reverse("caregivers:home")), "Pat Patient")

    def test_another_caregiver_reaches_nothing_of_cara(self):
        self.sign_in(self.cara)
        self.client.post(self.quiz_url(), self.caregiver_answers())
        attempt = CaregiverQuizAttempt.objects.get()
        olives_access = self.invite("oz@example.org", patient=self.olive, name="Oz").access
        self.sign_in(olives_access.caregiver)
        for url in (
            self.reader_url(),
            self.quiz_url(),
            reverse("caregivers:quiz_result", args=[attempt.code]),
        ):
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 404)
        # Through Olive's access, Pat's modules are not readable either.
        self.assertEqual(self.client.get(self.reader_url(access=olives_access)).status_code, 404)
        self.assertEqual(Assignment.objects.filter(patient=self.olive).count(), 1)


class InvitationEdgeTests(CaregiverTestCase):
    def test_an_address_invited_by_mistake_and_ended_can_become_a_patients(self):
        gus = self.invite("gus@example.org").access
        services.revoke_access(access=gus, revoked_by=self.pat)
        invited = account_services.invite_patient(
            clinician=self.alice, clinic=self.riverside, full_name="Gus Grandson", email="gus@example.org"
        )
        self.assertEqual(invited.invitation.invitee.role, "patient")
        self.assertFalse(User.objects.get(pk=gus.caregiver_id).is_active)
        # The closed account's history stays: who had access, and when.
        self.assertEqual(CaregiverAccess.objects.get(pk=gus.pk).caregiver_id, gus.caregiver_id)

    def test_a_caregiver_who_has_access_keeps_their_address(self):
        with self.assertRaisesMessage(ValidationError, "cannot be used for a new patient"):
            account_services.invite_patient(
                clinician=self.alice, clinic=self.riverside, full_name="Cara", email="cara@example.org"
            )

    def test_inviting_again_someone_who_never_set_up_sends_a_new_link(self):
        first = self.invite("gus@example.org").access
        old_link = Invitation.objects.get(invitee=first.caregiver)
        self.sign_in(self.pat)
        response = self.client.post(
            reverse("portal:caregivers"),
            {"full_name": "Gus", "email": "gus@example.org", "agree": "on"},
            follow=True,
        )
        self.assertContains(response, "We sent Gus a new link to set up their account")
        old_link.refresh_from_db()
        self.assertEqual(old_link.status, Invitation.Status.REVOKED)
        self.assertEqual(CaregiverAccess.objects.filter(caregiver=first.caregiver).count(), 1)
        self.assertEqual(Invitation.objects.pending().filter(invitee=first.caregiver).count(), 1)

    @override_settings(CAREGIVER_INVITATIONS_PER_HOUR=2)
    def test_invitations_per_hour_are_limited(self):
        self.sign_in(self.pat)
        for number in range(3):
            response = self.client.post(
                reverse("portal:caregivers"),
                {"full_name": "Someone", "email": f"someone{number}@example.org", "agree": "on"},
            )
        self.assertContains(response, "several invitations in the last hour", status_code=400)
        self.assertFalse(User.objects.filter(email="someone2@example.org").exists())
        self.assertEqual(len([m for m in mail.outbox if m.to[0].startswith("someone")]), 2)

    def test_deactivating_the_patient_closes_a_pending_caregiver_link(self):
        gus = self.invite("gus@example.org").access
        portal_services.deactivate_patient(patient=self.pat, changed_by=self.alice)
        self.assertEqual(Invitation.objects.get(invitee=gus.caregiver).status, Invitation.Status.REVOKED)

    def test_a_result_on_a_module_the_care_team_cancelled_is_closed(self):
        self.sign_in(self.cara)
        response = self.client.post(self.quiz_url(), self.caregiver_answers(), follow=True)
        self.assertEqual(response.status_code, 200)
        attempt = CaregiverQuizAttempt.objects.get()
        Assignment.objects.filter(pk=self.assignment.pk).update(
            cancelled_at=timezone.now(), cancelled_by=self.alice
        )
        response = self.client.get(reverse("caregivers:quiz_result", args=[attempt.code]))
        self.assertEqual(response.status_code, 404)


class PatientAsCaregiverTests(CaregiverTestCase):
    """Olive, a patient of another clinic, helps Pat (a spouse, say)."""

    def setUp(self):
        self.olives_access = self.invite("olive@example.org", name="Olive").access

    def test_the_patient_is_told_by_email_and_keeps_their_own_account(self):
        self.assertEqual(self.olives_access.caregiver, self.olive)
        self.assertIn("/caregiving/", mail.outbox[-1].body)
        self.olive.refresh_from_db()
        self.assertEqual((self.olive.role, self.olive.clinic), ("patient", self.hillside))

    def test_they_read_pats_module_as_a_caregiver_and_keep_their_own_modules(self):
        self.sign_in(self.olive)
        self.assertContains(self.client.get(reverse("portal:patient_settings")), reverse("caregivers:home"))
        self.assertContains(self.client.get(reverse("caregivers:home")), "Shared by Pat Patient")
        response = self.client.get(self.reader_url(access=self.olives_access))
        self.assertContains(response, self.sleep.current_version.title)
        self.assertContains(self.client.get(reverse("education:my_modules")), self.driving.title)
        # Pat's own pages stay Pat's.
        self.assertEqual(
            self.client.get(reverse("education:reader", args=[self.assignment.code])).status_code, 404
        )
        self.sign_in(self.pat)
        self.assertContains(self.client.get(reverse("portal:access_log")), "Olive Other, your caregiver")

    def test_ending_it_or_deactivating_pat_leaves_a_helping_patients_own_invitation(self):
        nia = account_services.invite_patient(
            clinician=self.alice, clinic=self.riverside, full_name="Nia Newcomer", email="nia@example.org"
        ).invitation.invitee
        access = self.invite("nia@example.org", name="Nia").access
        services.revoke_access(access=access, revoked_by=self.pat)
        portal_services.deactivate_patient(patient=self.pat, changed_by=self.alice)
        self.assertEqual(Invitation.objects.pending().filter(invitee=nia).count(), 1)

    def test_olives_clinic_sees_nothing_of_pat(self):
        self.sign_in(self.charlie)
        response = self.client.post(
            reverse("portal:patient_caregiver_revoke", args=[self.olives_access.code])
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(
            self.client.get(reverse("portal:patient_caregivers", args=[self.pat.code])).status_code, 404
        )


class CaregiverPageQueryTests(CaregiverTestCase):
    def test_the_reader_reads_a_fixed_number_of_rows_whatever_the_patients_history(self):
        self.sign_in(self.cara)
        # session; user with clinic; the live access with its patient, clinic and caregiver;
        # the shared module with its current version and review; the audit row
        with self.assertNumQueries(5):
            self.client.get(self.reader_url())
        for module in Module.objects.exclude(pk=self.sleep.pk)[:3]:
            self.assign(self.pat, module)
        with self.assertNumQueries(5):
            self.client.get(self.reader_url())

    def test_the_list_reads_a_fixed_number_of_rows_per_patient_whatever_their_modules(self):
        self.sign_in(self.cara)
        # session; user with clinic; the live accesses; then per patient: the shared
        # modules, the caregiver's attempts, their acknowledgments, the audit row
        with self.assertNumQueries(7):
            self.client.get(reverse("caregivers:home"))
        for module in Module.objects.exclude(pk=self.sleep.pk)[:3]:
            self.assign(self.pat, module)
        with self.assertNumQueries(7):
            self.client.get(reverse("caregivers:home"))
