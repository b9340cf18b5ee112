"""Does the CSV export stream? Peak memory for 50,000 rows against 50 rows, same run.

    python benchmarks/export_memory.py          (or: make benchmark)

Builds a throwaway test database (SQLite by default, PostgreSQL when DATABASE_URL says so),
fills it with patients and assignments, then consumes the export response chunk by chunk
under tracemalloc. Exits 1 when 50,000 rows need more than twice the memory of 50.
"""

import itertools
import sys
import time
import tracemalloc

import harness  # noqa: E402  (sets Django up)
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Clinic, Membership, User  # noqa: E402
from education.models import Assignment, Module  # noqa: E402
from tests.library import load_and_approve

SIZES = (50, 5_000, 50_000)
MAX_RATIO = 2.0


def fill(clinic, clinician, modules, rows):
    """Exactly `rows` assignments, one of each module per patient, in their own clinic."""
    patients = User.objects.bulk_create(
        User(
            role="patient",
            clinic=clinic,
            email=f"b{clinic.pk}-{n}@example.org",
            full_name=f"Patient {n}",
            password="!",  # noqa: S106 - "!" marks an unusable password
        )
        for n in range(-(-rows // len(modules)))
    )
    Assignment.objects.bulk_create(
        itertools.islice(
            (
                Assignment(patient=patient, module=module, assigned_by=clinician, due_date="2031-01-01")
                for patient in patients
                for module in modules
            ),
            rows,
        ),
        batch_size=2000,
    )


def measure(client):
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get("/export/assignments.csv")
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return lines - 1, peak, elapsed


def main():
    with harness.throwaway_database():
        load_and_approve()
        modules = list(Module.objects.all())
        results = {}
        for rows in SIZES:
            clinic = Clinic.objects.create(name=f"Benchmark {rows}")
            clinician = User.objects.create_user(
                f"bench{rows}@example.org", "x-long-benchmark-pass", role="clinician", full_name="B"
            )
            Membership.objects.create(user=clinician, clinic=clinic)
            fill(clinic, clinician, modules, rows)
            client = Client()
            client.force_login(clinician)
            measure(client)  # warm caches and imports so both sizes start alike
            results[rows] = measure(client)
        base_rows, base_peak, base_time = results[SIZES[0]]
        print(f"database: {connection.vendor}")
        for lines, peak, elapsed in results.values():
            print(
                f"{lines:>7} rows: peak {peak / 1024:8.0f} KiB ({peak / base_peak:5.2f}x)  "
                f"{elapsed:6.2f} s ({elapsed / base_time:7.1f}x)"
            )
        ratio = results[SIZES[-1]][1] / base_peak
        verdict = "streams" if ratio <= MAX_RATIO else "DOES NOT STREAM"
        print(f"memory ratio {ratio:.2f} (limit {MAX_RATIO}): {verdict}")
        return 0 if ratio <= MAX_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
