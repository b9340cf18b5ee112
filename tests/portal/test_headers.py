from django.test import SimpleTestCase, TestCase

from tests.portal.test_settings import production_settings


class SecurityHeaderTests(TestCase):
    def setUp(self):
        self.response = self.client.get("/accounts/login/")

    def test_the_content_security_policy_allows_only_the_portals_own_origin(self):
        policy = dict(
            directive.strip().split(" ", 1)
            for directive in self.response["Content-Security-Policy"].split(";")
        )
        self.assertEqual(policy["default-src"], "'self'")
        self.assertEqual(policy["script-src"], "'self'")
        self.assertEqual(policy["object-src"], "'none'")
        self.assertEqual(policy["base-uri"], "'none'")
        self.assertEqual(policy["frame-ancestors"], "'none'")
        self.assertNotIn("unsafe-inline", self.response["Content-Security-Policy"])

    def test_referrer_permissions_sniffing_and_framing_are_locked_down(self):
        self.assertEqual(self.response["Referrer-Policy"], "same-origin")
        self.assertIn("camera=()", self.response["Permissions-Policy"])
        self.assertEqual(self.response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(self.response["X-Frame-Options"], "DENY")

    def test_no_page_template_carries_an_inline_script(self):
        self.assertNotIn("<script>", self.response.content.decode())


class ProductionCookieTests(SimpleTestCase):
    def test_production_cookies_are_host_only_and_secure(self):
        names = production_settings("s.SESSION_COOKIE_NAME", "s.CSRF_COOKIE_NAME")
        self.assertEqual(names, ["__Host-sessionid", "__Host-csrftoken"])
