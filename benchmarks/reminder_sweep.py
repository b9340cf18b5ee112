"""The reminder sweep at 100,000 open assignments, against 10,000 in the same run.

    python benchmarks/reminder_sweep.py         (or: make benchmark)

Builds a throwaway test database (SQLite by default, PostgreSQL when DATABASE_URL says so),
fills it with patients holding four open assignments each, due from 20 days ago to 40
days ahead, and runs portal.tasks.send_due_reminders in-process (emails rendered, then
dropped by the dummy backend). Reports time, peak traced memory and queries. Exits 1 when
100,000 assignments take 60 s or more, or need more than twice the memory of 10,000.
"""

import datetime
import itertools
import os
import sys
import time
import tracemalloc

os.environ.pop("CELERY_BROKER_URL", None)  # run the tasks in this process

import harness  # noqa: E402  (sets Django up)
from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Clinic, Membership, User  # noqa: E402
from education.models import Assignment, Module  # noqa: E402
from portal.models import Reminder  # noqa: E402
from portal.tasks import send_due_reminders  # noqa: E402
from tests.library import load_and_approve

SIZES = (10_000, 100_000)
MAX_SECONDS, MAX_MEMORY_RATIO = 60.0, 2.0


def fill(assignments):
    """A fresh clinic whose patients hold exactly `assignments` open assignments, one of
    each module in the library (the count must not drift when the library grows)."""
    Reminder.objects.all().delete()
    Assignment.objects.all().delete()
    User.objects.filter(role="patient").delete()
    clinic = Clinic.objects.first() or Clinic.objects.create(name="Benchmark")
    clinician = User.objects.filter(role="clinician").first() or User.objects.create_user(
        "bench@example.org", role="clinician", full_name="B"
    )
    Membership.objects.get_or_create(user=clinician, clinic=clinic)
    password = make_password("benchmark-password-123")
    modules = list(Module.objects.all())
    patients = User.objects.bulk_create(
        (
            User(
                role="patient",
                clinic=clinic,
                email=f"p{n}@example.org",
                full_name=f"Patient {n}",
                password=password,
            )
            for n in range(-(-assignments // len(modules)))
        ),
        batch_size=2000,
    )
    today = timezone.localdate()
    Assignment.objects.bulk_create(
        itertools.islice(
            (
                Assignment(
                    patient=patient,
                    module=module,
                    assigned_by=clinician,
                    due_date=today + datetime.timedelta(days=(patient.pk * 7 + index * 13) % 61 - 20),
                )
                for patient in patients
                for index, module in enumerate(modules)
            ),
            assignments,
        ),
        batch_size=2000,
    )


def sweep(trace_memory):
    """One sweep from a clean outbox. Memory is traced in a run of its own: tracemalloc
    slows every allocation, so a traced run's time would be wrong."""
    Reminder.objects.all().delete()
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(None)
        return execute(sql, params, many, context)

    if trace_memory:
        tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        result = send_due_reminders.delay().get()
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace_memory else None
    tracemalloc.stop()
    sent = Reminder.objects.filter(sent_at__isnull=False).count()
    return {
        "planned": result["planned"],
        "sent": sent,
        "seconds": elapsed,
        "peak": peak,
        "queries": len(queries),
    }


def measure():
    timed = sweep(trace_memory=False)
    timed["peak"] = sweep(trace_memory=True)["peak"]
    return timed


def main():
    with harness.throwaway_database():
        # After the test environment is set up, which switches to the in-memory backend:
        # keeping 25,000 emails in mail.outbox would pass for growth.
        settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
        load_and_approve()
        results = {}
        for size in SIZES:
            fill(size)
            results[size] = measure()
        print(f"database: {connection.vendor}")
        base = results[SIZES[0]]
        for size, r in results.items():
            memory = f"peak {r['peak'] / 2**20:5.1f} MiB ({r['peak'] / base['peak']:4.2f}x)"
            print(
                f"{size:>7} open assignments: planned {r['planned']:>6}, sent {r['sent']:>6}, "
                f"{r['seconds']:5.1f} s, {memory}, {r['queries']} queries"
            )
        largest = results[SIZES[-1]]
        ratio = largest["peak"] / base["peak"]
        ok = largest["seconds"] < MAX_SECONDS and ratio <= MAX_MEMORY_RATIO
        print(
            f"100,000: {largest['seconds']:.1f} s (limit {MAX_SECONDS:.0f}), memory {ratio:.2f}x "
            f"(limit {MAX_MEMORY_RATIO}): {'ok' if ok else 'TOO SLOW OR GROWING'}"
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
