"""What every benchmark shares: Django set up from the project, and a throwaway database."""

import contextlib
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


@contextlib.contextmanager
def throwaway_database():
    """A fresh test database (SQLite, or PostgreSQL when DATABASE_URL says so), destroyed
    afterwards. DEBUG is off as in production: Django's query log would otherwise hold
    thousands of queries in memory and pass for growth. INFO logs (a line per request,
    per task) are off: they are noise in a benchmark's output."""
    logging.disable(logging.INFO)
    setup_test_environment(debug=False)
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
