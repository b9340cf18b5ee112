"""Access to the real services the suite talks to (PostgreSQL, Redis)."""

import os

import pytest


def broker_url_or_skip():
    """The broker from CELERY_BROKER_URL. In CI a missing broker fails the test rather
    than skipping it, so a green CI always means the broker tests ran."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail("CELERY_BROKER_URL must point at a broker in CI.")
    pytest.skip("No CELERY_BROKER_URL: set it to run the tests against a real broker.")
