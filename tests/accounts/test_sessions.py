import time

from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.models import User
from tests.base import PortalTestCase


class SessionTests(PortalTestCase):
    def sign_in_through_the_page(self, user):
        return self.client.post(reverse("login"), {"username": user.email, "password": self.password})

    def age_session(self, *, idle_minutes=0, started_hours=0):
        session = self.client.session
        now = time.time()
        session["last_seen"] = now - idle_minutes * 60
        session["session_started"] = now - started_hours * 3600
        session.save()

    def still_signed_in(self, url):
        response = self.client.get(url)
        return response.status_code == 200

    def test_the_session_key_changes_at_sign_in(self):
        self.client.get(reverse("login"))
        self.client.session.save()
        before = self.client.session.session_key
        self.sign_in_through_the_page(self.pat)
        self.assertNotEqual(self.client.session.session_key, before)

    def test_a_signed_out_session_cookie_replayed_is_refused(self):
        self.sign_in_through_the_page(self.pat)
        cookie = self.client.cookies["sessionid"].value
        self.client.post(reverse("logout"))
        self.client.cookies["sessionid"] = cookie
        self.assertRedirects(
            self.client.get(reverse("education:my_modules")), "/accounts/login/?next=/modules/"
        )

    def test_a_clinician_is_signed_out_after_fifteen_quiet_minutes(self):
        self.sign_in(self.alice)
        self.age_session(idle_minutes=14)
        self.assertTrue(self.still_signed_in(reverse("portal:dashboard")))
        self.age_session(idle_minutes=16)
        self.assertFalse(self.still_signed_in(reverse("portal:dashboard")))
        self.assertNotIn(SESSION_KEY, self.client.session)

    def test_a_patient_has_thirty_quiet_minutes(self):
        self.sign_in(self.pat)
        self.age_session(idle_minutes=29)
        self.assertTrue(self.still_signed_in(reverse("education:my_modules")))
        self.age_session(idle_minutes=31)
        self.assertFalse(self.still_signed_in(reverse("education:my_modules")))

    def test_a_caregiver_reading_at_a_patients_pace_has_thirty_quiet_minutes(self):
        self.sign_in(
            User.objects.create_user("cara@example.org", self.password, full_name="Cara", role="caregiver")
        )
        self.age_session(idle_minutes=20)
        self.assertTrue(self.still_signed_in(reverse("caregivers:home")))
        self.age_session(idle_minutes=31)
        self.assertFalse(self.still_signed_in(reverse("caregivers:home")))

    def test_no_session_lasts_more_than_twelve_hours_however_active(self):
        self.sign_in(self.pat)
        self.age_session(started_hours=11)
        self.assertTrue(self.still_signed_in(reverse("education:my_modules")))
        self.age_session(started_hours=13)
        self.assertFalse(self.still_signed_in(reverse("education:my_modules")))

    def test_the_sign_in_page_says_why_after_a_timeout(self):
        self.sign_in(self.pat)
        self.age_session(idle_minutes=31)
        response = self.client.get(reverse("education:my_modules"), follow=True)
        self.assertContains(response, "You were signed out to keep your information safe")

    def test_changing_the_password_ends_the_accounts_other_sessions(self):
        other = self.client_class()
        other.post(reverse("login"), {"username": self.pat.email, "password": self.password})
        self.sign_in_through_the_page(self.pat)
        new = "lantern-otter-river-7"
        self.client.post(
            reverse("password_change"),
            {"old_password": self.password, "new_password1": new, "new_password2": new},
        )
        self.assertTrue(self.still_signed_in(reverse("education:my_modules")))
        self.assertEqual(other.get(reverse("education:my_modules")).status_code, 302)

    def test_a_deactivated_accounts_sessions_stop_at_once(self):
        self.sign_in_through_the_page(self.alice)
        User.objects.filter(pk=self.alice.pk).update(is_active=False)
        self.assertRedirects(self.client.get(reverse("portal:dashboard")), "/accounts/login/?next=/patients/")
