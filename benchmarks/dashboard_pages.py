"""Does a deep dashboard page cost what the first one does? Same run, 10,000 patients.

    python benchmarks/dashboard_pages.py        (or: make benchmark)

Builds a throwaway test database (SQLite by default, PostgreSQL when DATABASE_URL says so),
seeds the demo clinic with 10,000 patients and their histories, then times the first page,
a middle page and the last page (best of three each) for two sort orders. Exits 1 when
a deep page takes more than three times the first.
"""

import sys
import time

import harness  # noqa: E402  (sets Django up)
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from portal import demo  # noqa: E402

PATIENTS = 10_000
PAGES = (1, 100, 200)
MAX_RATIO = 3.0


def best_of_three(client, url):
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        timings.append(time.perf_counter() - started)
    return min(timings)


def main():
    with harness.throwaway_database():
        clinic = demo.seed_demo_accounts()
        started = time.perf_counter()
        demo.add_synthetic_patients(clinic, PATIENTS)
        seeded_in = time.perf_counter() - started
        print(f"database: {connection.vendor}; seeded {PATIENTS} patients in {seeded_in:.1f} s")
        client = Client()
        client.force_login(User.objects.get(email=demo.CLINICIAN.email))
        worst = 0.0
        for sort in ("due", "activity"):
            first = best_of_three(client, f"/patients/?sort={sort}&page=1")
            for number in PAGES:
                elapsed = best_of_three(client, f"/patients/?sort={sort}&page={number}")
                worst = max(worst, elapsed / first)
                ratio = elapsed / first
                print(f"sort={sort:<8} page {number:>3}: {elapsed * 1000:6.0f} ms ({ratio:4.2f}x page 1)")
        verdict = "flat" if worst <= MAX_RATIO else "DEEP PAGES ARE SLOW"
        print(f"worst ratio {worst:.2f} (limit {MAX_RATIO}): {verdict}")
        return 0 if worst <= MAX_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
