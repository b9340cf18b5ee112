"""The clinic admins' staff page: listing, inviting a clinician by one-time link, changing
roles and removing, with the clinic always keeping an admin; every change on the trail."""

from django.core import mail
from django.urls import reverse

from accounts.models import Membership, User
from portal.models import AuditEvent
from tests.base import PortalTestCase
from tests.factories import ClinicianFactory, VisitFactory

Action = AuditEvent.Action
ADMIN, CLINICIAN = Membership.Role.ADMIN, Membership.Role.CLINICIAN


class StaffTestCase(PortalTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.ada = ClinicianFactory(
            email="ada@example.org", full_name="Ada Admin", clinics=[cls.riverside], clinics__role=ADMIN
        )

    def setUp(self):
        self.sign_in(self.ada)

    def url(self, name, clinician, clinic=None):
        return reverse(f"portal:{name}", args=[(clinic or self.riverside).code, clinician.code])

    def role_of(self, clinician, clinic=None):
        return Membership.objects.get(user=clinician, clinic=clinic or self.riverside).role

    def trail(self, action):
        return list(AuditEvent.objects.filter(action=action).values_list("clinic", "detail"))


class StaffListTests(StaffTestCase):
    def test_the_admin_sees_their_clinics_staff_with_roles_and_account_state(self):
        ian = ClinicianFactory(full_name="Ian Invited", clinics=[self.riverside])
        ian.set_unusable_password()
        ian.save()
        page = self.client.get(reverse("portal:staff"))
        self.assertContains(page, "Ada Admin (you)")
        self.assertContains(page, "Alice Clinician")
        self.assertContains(page, "Ian Invited")
        self.assertContains(page, "Send a new invitation")
        self.assertNotContains(page, "Charlie Outsider")

    def test_the_overview_links_to_it_for_clinic_admins_only(self):
        self.assertContains(self.client.get(reverse("portal:overview")), reverse("portal:staff"))
        self.sign_in(self.alice)
        self.assertNotContains(self.client.get(reverse("portal:overview")), reverse("portal:staff"))
        self.assertEqual(self.client.get(reverse("portal:staff")).status_code, 404)


class InviteTests(StaffTestCase):
    def invite(self, **changes):
        data = {
            "clinic": self.riverside.pk,
            "full_name": "Ben  New",
            "email": "Ben@Example.org",
            "role": CLINICIAN,
        }
        return self.client.post(reverse("portal:staff_invite"), {**data, **changes})

    def test_an_invited_clinician_sets_a_password_and_sees_the_clinics_patients(self):
        response = self.invite()
        self.assertRedirects(response, reverse("portal:staff"), fetch_redirect_response=False)
        ben = User.objects.get(email="ben@example.org")
        self.assertEqual(
            (ben.role, ben.full_name, ben.has_usable_password()), ("clinician", "Ben New", False)
        )
        self.assertEqual(self.role_of(ben), CLINICIAN)
        self.assertEqual(len(mail.outbox), 1)
        self.assertIn("Riverside invited you to join its staff", mail.outbox[0].subject)
        self.assertEqual(self.trail(Action.STAFF_INVITED), [(self.riverside.pk, f"account {ben.code}")])
        token = mail.outbox[0].body.split("/accounts/invitation/", 1)[1].split("/", 1)[0]
        self.client.logout()
        accept = reverse("accounts:accept_invitation", args=[token])
        self.assertContains(self.client.get(accept), "join its staff")
        self.client.post(accept, {"new_password1": "a-new-Passw0rd!!", "new_password2": "a-new-Passw0rd!!"})
        self.assertContains(self.client.get(reverse("portal:dashboard")), "Pat Patient")
        accepted = AuditEvent.objects.get(action=Action.INVITATION_ACCEPTED)
        self.assertEqual((accepted.actor, accepted.clinic, accepted.patient), (ben, self.riverside, None))

    def test_an_address_of_another_clinics_staff_or_patient_gets_one_neutral_answer(self):
        for taken in ("charlie@example.org", "olive@example.org", "pat@example.org"):
            response = self.invite(email=taken)
            self.assertContains(response, "cannot be used for a new clinician here", status_code=400)
        response = self.invite(email="alice@example.org")
        self.assertContains(response, "already on this clinic&#x27;s staff", status_code=400)
        self.assertEqual((mail.outbox, self.trail(Action.STAFF_INVITED)), ([], []))
        self.assertFalse(
            Membership.objects.filter(clinic=self.riverside, user__email="charlie@example.org").exists()
        )

    def test_only_the_clinics_the_admin_runs_can_be_chosen(self):
        response = self.invite(clinic=self.hillside.pk)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(User.objects.filter(email="ben@example.org").exists())

    def test_a_new_link_replaces_the_old_one(self):
        self.invite()
        ben = User.objects.get(email="ben@example.org")
        self.client.post(self.url("staff_resend", ben))
        self.assertEqual(len(mail.outbox), 2)
        self.assertEqual(ben.invitations.pending().count(), 1)
        refused = self.client.post(self.url("staff_resend", self.alice), follow=True)
        self.assertContains(refused, "has already set up their account")


class RoleTests(StaffTestCase):
    def test_an_admin_makes_a_clinician_an_admin_and_back(self):
        self.client.post(self.url("staff_role", self.alice), {"role": ADMIN})
        self.assertEqual(self.role_of(self.alice), ADMIN)
        self.client.post(self.url("staff_role", self.alice), {"role": CLINICIAN})
        self.assertEqual(self.role_of(self.alice), CLINICIAN)
        self.assertEqual(
            self.trail(Action.STAFF_ROLE_CHANGED),
            [
                (self.riverside.pk, f"account {self.alice.code}; role clinician"),
                (self.riverside.pk, f"account {self.alice.code}; role admin"),
            ],
        )

    def test_the_last_admin_cannot_step_down(self):
        response = self.client.post(self.url("staff_role", self.ada), {"role": CLINICIAN}, follow=True)
        self.assertContains(response, "A clinic keeps at least one clinic admin")
        self.assertEqual(self.role_of(self.ada), ADMIN)
        self.assertEqual(self.trail(Action.STAFF_ROLE_CHANGED), [])

    def test_an_unknown_role_is_refused(self):
        response = self.client.post(self.url("staff_role", self.alice), {"role": "owner"}, follow=True)
        self.assertContains(response, "Choose clinician or clinic admin")
        self.assertEqual(self.role_of(self.alice), CLINICIAN)

    def test_another_clinics_staff_are_not_found(self):
        hillside_admin = ClinicianFactory(clinics=[self.hillside], clinics__role=ADMIN)
        self.sign_in(hillside_admin)
        response = self.client.post(self.url("staff_role", self.alice), {"role": ADMIN})
        self.assertEqual(response.status_code, 404)
        response = self.client.post(self.url("staff_role", self.charlie, self.riverside), {"role": ADMIN})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.role_of(self.alice), CLINICIAN)


class RemoveTests(StaffTestCase):
    def test_a_removed_clinician_no_longer_sees_the_clinics_patients(self):
        response = self.client.post(self.url("staff_remove", self.alice))
        self.assertRedirects(response, reverse("portal:staff"), fetch_redirect_response=False)
        self.assertFalse(Membership.objects.filter(user=self.alice, clinic=self.riverside).exists())
        self.sign_in(self.alice)
        self.assertEqual(
            self.client.get(reverse("portal:patient_detail", args=[self.pat.code])).status_code, 404
        )
        self.assertEqual(
            self.trail(Action.STAFF_REMOVED), [(self.riverside.pk, f"account {self.alice.code}")]
        )

    def test_the_last_admin_cannot_be_removed(self):
        response = self.client.post(self.url("staff_remove", self.ada), follow=True)
        self.assertContains(response, "A clinic keeps at least one clinic admin")
        self.assertTrue(Membership.objects.filter(user=self.ada, clinic=self.riverside).exists())

    def test_a_clinician_with_planned_visits_stays_until_they_are_moved(self):
        VisitFactory(patient=self.pat, clinician=self.alice, in_days=3)
        response = self.client.post(self.url("staff_remove", self.alice), follow=True)
        self.assertContains(response, "Alice Clinician has 1 planned visit at this clinic")
        self.assertTrue(Membership.objects.filter(user=self.alice, clinic=self.riverside).exists())
        self.assertEqual(self.trail(Action.STAFF_REMOVED), [])


class StaffPageQueryCountTests(StaffTestCase):
    def test_the_page_costs_the_same_for_three_staff_as_for_thirty(self):
        self.client.get(reverse("portal:staff"))
        # 1 session, 2 user, 3 whether they run a clinic, 4 the clinics they run (also the
        # invite form's choices), 5 their staff with accounts
        with self.assertNumQueries(5):
            self.client.get(reverse("portal:staff"))
        ClinicianFactory.create_batch(27, clinics=[self.riverside])
        with self.assertNumQueries(5):
            response = self.client.get(reverse("portal:staff"))
        self.assertEqual(len(response.context["clinics"][0].memberships.all()), 29)
