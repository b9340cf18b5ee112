"""Settings are read once at start-up, so each case starts a fresh `manage.py`."""

import os
import subprocess
import sys
from pathlib import Path

from django.test import SimpleTestCase

PROJECT = Path(__file__).resolve().parents[2]
PRODUCTION_KEY = "a-production-secret-key-that-is-long-and-random-enough-4f9c1b7e2d"


def manage(*args, **env):
    environment = {
        k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ALLOWED_HOSTS", "PORTAL_ENV")
    }
    environment.update(env)
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def production_settings(*expressions):
    """The values of settings expressions (on `s`) when PORTAL_ENV=production."""
    code = "from django.conf import settings as s; print(" + ", ".join(expressions) + ")"
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        PORTAL_ENV="production",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="portal.example.org",
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


class ProductionSettingsTests(SimpleTestCase):
    def test_production_refuses_to_start_without_a_secret_key(self):
        result = manage("check", PORTAL_ENV="production", ALLOWED_HOSTS="portal.example.org")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("SECRET_KEY must be set when PORTAL_ENV=production", result.stderr)

    def test_production_refuses_to_start_without_allowed_hosts(self):
        result = manage("check", PORTAL_ENV="production", SECRET_KEY=PRODUCTION_KEY)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("ALLOWED_HOSTS must be set", result.stderr)

    def test_production_passes_the_deployment_checklist_without_warnings(self):
        result = manage(
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            PORTAL_ENV="production",
            SECRET_KEY=PRODUCTION_KEY,
            ALLOWED_HOSTS="portal.example.org",
        )
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_production_turns_on_secure_cookies_hsts_ssl_redirect_and_persistent_connections(self):
        values = production_settings(
            "s.SESSION_COOKIE_SECURE",
            "s.CSRF_COOKIE_SECURE",
            "s.SECURE_SSL_REDIRECT",
            "s.SECURE_HSTS_SECONDS >= 31536000",
            "s.DATABASES['default']['CONN_MAX_AGE'] > 0",
            "s.DEBUG",
        )
        self.assertEqual(values, ["True", "True", "True", "True", "True", "False"])

    def test_an_unknown_portal_env_is_refused(self):
        result = manage("check", PORTAL_ENV="staging")
        self.assertIn("PORTAL_ENV must be 'development' or 'production'", result.stderr)

    def test_an_unknown_time_zone_is_refused(self):
        result = manage("check", TIME_ZONE="Mars/Olympus")
        self.assertIn("is not a known time zone", result.stderr)

    def test_development_needs_no_environment_at_all(self):
        result = manage("check")
        self.assertEqual(result.returncode, 0, result.stderr)


class ReminderLeaseTests(SimpleTestCase):
    def test_a_lease_shorter_than_the_task_time_limit_refuses_to_start(self):
        result = manage("check", REMINDER_LEASE_MINUTES="4")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(
            "REMINDER_LEASE_MINUTES (4) must be longer than the delivery task's time limit", result.stderr
        )

    def test_the_brokers_visibility_timeout_outlasts_the_task_time_limit(self):
        from django.conf import settings

        self.assertGreater(
            settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"], settings.CELERY_TASK_TIME_LIMIT
        )
