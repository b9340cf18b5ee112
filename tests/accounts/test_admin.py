from django.urls import reverse

from accounts.models import Invitation, User
from tests.base import PortalTestCase
from tests.factories import ClinicianFactory


class AdminTests(PortalTestCase):
    def setUp(self):
        self.sign_in(ClinicianFactory(is_staff=True, is_superuser=True))

    def test_the_user_list_and_a_patients_page_open(self):
        self.assertContains(self.client.get(reverse("admin:accounts_user_changelist")), "pat@example.org")
        response = self.client.get(reverse("admin:accounts_user_change", args=[self.pat.pk]))
        self.assertContains(response, "Record number")

    def test_an_admin_adds_a_staff_account_with_an_email_sign_in(self):
        self.client.post(
            reverse("admin:accounts_user_add"),
            {
                "email": "New.Nurse@Example.org",
                "full_name": "Nina Nurse",
                "role": "clinician",
                "usable_password": "true",
                "password1": "lantern-otter-river-7",
                "password2": "lantern-otter-river-7",
                "memberships-TOTAL_FORMS": "1",
                "memberships-INITIAL_FORMS": "0",
                "memberships-0-clinic": self.riverside.pk,
                "memberships-0-role": "clinician",
            },
        )
        nurse = User.objects.get(full_name="Nina Nurse")
        self.assertEqual(nurse.email, "new.nurse@example.org")
        self.assertTrue(nurse.check_password("lantern-otter-river-7"))
        self.assertEqual(list(User.objects.visible_to(nurse)), [self.pat])

    def test_invitations_are_read_only_and_never_show_the_token_hash(self):
        self.assertEqual(self.client.get(reverse("admin:accounts_invitation_add")).status_code, 403)
        self.assertNotContains(self.client.get(reverse("admin:accounts_invitation_changelist")), "token_hash")
        self.assertFalse(Invitation.objects.exists())
