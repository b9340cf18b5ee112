from django.urls import reverse

from tests.base import PortalTestCase
from tests.factories import ClinicianFactory, PatientFactory


class PatientListTests(PortalTestCase):
    def test_it_lists_only_patients_of_the_clinicians_clinics(self):
        self.sign_in(self.alice)
        response = self.client.get(reverse("portal:dashboard"))
        self.assertContains(response, "Pat Patient")
        self.assertNotContains(response, "Olive Other")

    def test_a_clinician_of_two_clinics_sees_both(self):
        both = ClinicianFactory(clinics=[self.riverside, self.hillside])
        self.sign_in(both)
        response = self.client.get(reverse("portal:dashboard"))
        self.assertContains(response, "Pat Patient")
        self.assertContains(response, "Olive Other")

    def test_it_shows_whether_each_patient_has_set_up_their_account(self):
        PatientFactory(full_name="Ivy Invited", clinic=self.riverside, invited=True)
        self.sign_in(self.alice)
        response = self.client.get(reverse("portal:dashboard"))
        self.assertContains(response, "No valid invitation", count=1)

    def test_it_pages_fifty_patients_at_a_time(self):
        PatientFactory.create_batch(60, clinic=self.riverside)
        self.sign_in(self.alice)
        response = self.client.get(reverse("portal:dashboard"))
        self.assertEqual(len(response.context["page"].object_list), 50)
        self.assertContains(response, "Page 1 of 2")

    def test_a_patient_gets_a_404(self):
        self.sign_in(self.pat)
        self.assertEqual(self.client.get(reverse("portal:dashboard")).status_code, 404)


class PatientDetailTests(PortalTestCase):
    def test_a_clinician_opens_their_patients_page(self):
        self.sign_in(self.alice)
        response = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.assertContains(response, "Pat Patient")
        self.assertContains(response, "pat@example.org")

    def test_a_clinician_of_another_clinic_gets_a_404(self):
        self.sign_in(self.charlie)
        response = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.assertEqual(response.status_code, 404)

    def test_an_unknown_code_is_a_404(self):
        self.sign_in(self.alice)
        response = self.client.get(reverse("portal:patient_detail", args=[self.alice.code]))
        self.assertEqual(response.status_code, 404)

    def test_a_patient_cannot_open_another_patients_page(self):
        self.sign_in(self.olive)
        response = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.assertEqual(response.status_code, 404)

    def test_an_anonymous_visitor_is_asked_to_sign_in(self):
        url = reverse("portal:patient_detail", args=[self.pat.code])
        self.assertRedirects(self.client.get(url), f"/accounts/login/?next={url}")

    def test_it_refuses_a_post(self):
        self.sign_in(self.alice)
        response = self.client.post(reverse("portal:patient_detail", args=[self.pat.code]))
        self.assertEqual(response.status_code, 405)
