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


def postgresql_or_skip(connection):
    """For behaviour only PostgreSQL has (triggers). In CI, where the suite must run on
    PostgreSQL, another database fails the test instead of skipping it."""
    if connection.vendor == "postgresql":
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI must run the suite on PostgreSQL (DATABASE_URL).")
    pytest.skip("Runs on PostgreSQL only: set DATABASE_URL to a PostgreSQL database.")
