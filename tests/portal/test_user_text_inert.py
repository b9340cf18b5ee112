"""Every place that shows user-written text renders script and event-handler payloads
inert: names, record numbers, visit notes, typed names, the search term."""

from django.urls import reverse
from django.utils import timezone

from education.models import Acknowledgment
from tests.education.base import EducationTestCase
from tests.factories import VisitFactory

PAYLOADS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(1)>",
    "javascript:alert(1)",
]
RAW = ["<script>alert", "<img src=x", "<svg onload", 'href="javascript:']


class UserWrittenTextTests(EducationTestCase):
    def setUp(self):
        payload = " ".join(PAYLOADS)
        self.pat.full_name = f"Pat {payload}"[:150]
        self.pat.record_number = PAYLOADS[1][:50]
        self.pat.save()
        self.visit = VisitFactory(
            patient=self.pat,
            clinician=self.alice,
            in_days=1,
            held_at=timezone.now(),
            held_note=payload,
            assignments=[self.assignment],
        )

    def assert_inert(self, response):
        page = response.content.decode()
        for raw in RAW:
            self.assertNotIn(raw, page)

    def test_the_clinicians_pages_render_names_record_numbers_and_notes_inert(self):
        self.sign_in(self.alice)
        for url in (
            reverse("portal:dashboard"),
            reverse("portal:patient_detail", args=[self.pat.code]),
            reverse("portal:visit_summary", args=[self.visit.code]),
        ):
            self.assert_inert(self.client.get(url))

    def test_the_search_term_is_shown_inert(self):
        self.sign_in(self.alice)
        self.client.post(reverse("portal:dashboard_search"), {"q": PAYLOADS[1]})
        self.assert_inert(self.client.get(reverse("portal:dashboard")))

    def test_a_typed_acknowledgment_name_is_shown_inert(self):
        Acknowledgment.objects.create(
            assignment=self.assignment,
            version=self.sleep.current_version,
            content_hash="x",
            statement="s",
            typed_name=PAYLOADS[0],
        )
        self.sign_in(self.alice)
        self.assert_inert(self.client.get(reverse("portal:patient_detail", args=[self.pat.code])))

    def test_the_patients_own_pages_render_their_name_inert(self):
        self.sign_in(self.pat)
        for url in (reverse("education:my_modules"), self.url("acknowledge"), self.url("reader")):
            self.assert_inert(self.client.get(url))

    def test_a_name_in_the_audit_trail_is_shown_inert(self):
        from accounts.models import Membership
        from tests.factories import ClinicianFactory

        admin = ClinicianFactory(clinics=[self.riverside], clinics__role=Membership.Role.ADMIN)
        self.sign_in(self.alice)
        self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.sign_in(admin)
        self.assert_inert(self.client.get(reverse("portal:audit_trail")))
