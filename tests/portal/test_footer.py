"""The emergency footer speaks to patients; clinicians' pages do not carry it."""

from django.urls import reverse

from tests.base import PortalTestCase

FOOTER = "Poison Help: 1-800-222-1222"


class FooterTests(PortalTestCase):
    def test_patients_and_people_signing_in_see_it(self):
        self.assertContains(self.client.get(reverse("login")), FOOTER)
        self.sign_in(self.pat)
        self.assertContains(self.client.get(reverse("education:my_modules")), FOOTER)

    def test_clinicians_pages_do_not_carry_it(self):
        self.sign_in(self.alice)
        self.assertNotContains(self.client.get(reverse("portal:dashboard")), FOOTER)
        self.assertNotContains(
            self.client.get(reverse("portal:patient_detail", args=[self.pat.code])), FOOTER
        )
