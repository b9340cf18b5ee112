"""Does approving a material change re-ask 10,000 patients in one set-based write?

    python benchmarks/reacknowledge.py        (or: make benchmark)

Builds a throwaway test database (SQLite by default, PostgreSQL when DATABASE_URL says so)
with N patients who each completed and acknowledged the sleep module, loads an edited
draft, and times the approval (best of three, each on a fresh draft) at 1,000 and 10,000
patients. The floor measured in the same run is a plain UPDATE of the same rows: the
approval must stay within a small factor of it, and take the same number of queries at
both sizes. Exits 1 when it takes more than 2 s at 10,000 or its queries grow.
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

import harness  # noqa: E402  (sets Django up)
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Clinic, User  # noqa: E402
from education import progress as patient_progress  # noqa: E402
from education import services  # noqa: E402
from education.content import CONTENT_DIR  # noqa: E402
from education.models import Acknowledgment, Assignment, Module  # noqa: E402
from tests.library import library_editor, load_and_approve  # noqa: E402

SIZES = (1_000, 10_000)
MAX_SECONDS = 2.0
BATCH = 2_000


def patients_who_acknowledged(count, clinic, clinician, module):
    start = User.objects.filter(role=User.Role.PATIENT).count()
    patients = User.objects.bulk_create(
        (
            User(email=f"reack{start + n}@example.org", full_name="R", role=User.Role.PATIENT, clinic=clinic)
            for n in range(count)
        ),
        batch_size=BATCH,
    )
    now = timezone.now()
    assignments = Assignment.objects.bulk_create(
        (
            Assignment(patient=p, module=module, assigned_by=clinician, due_date=now.date(), completed_at=now)
            for p in patients
        ),
        batch_size=BATCH,
    )
    version = module.current_version
    Acknowledgment.objects.bulk_create(
        (
            Acknowledgment(
                assignment=a,
                version=version,
                content_hash=version.content_hash,
                statement="s",
                typed_name="R",
            )
            for a in assignments
        ),
        batch_size=BATCH,
    )
    # Their dashboard rows, as the services would have kept them: the approval updates them.
    patient_progress.start(patients)
    patient_progress.refresh([p.pk for p in patients])


def a_new_draft(edit_number):
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(CONTENT_DIR / "sleep-medicines", Path(folder) / "sleep-medicines")
        module_file = Path(folder) / "sleep-medicines" / "module.md"
        text = module_file.read_text().replace(
            "Ask your care team about CBT-I.", f"Ask your care team about CBT-I ({edit_number}).", 1
        )
        module_file.write_text(text)
        services.load_library(Path(folder))
    return Module.objects.get(slug="sleep-medicines").versions.drafts().get()


def time_approval(editor, edit_number):
    draft = a_new_draft(edit_number)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        services.approve_version(
            version=draft,
            editor=editor,
            reviewer_name="Benchmark reviewer",
            credential="none",
            reviewed_on=timezone.localdate(),
            what_changed="Benchmark.",
        )
        elapsed = time.perf_counter() - started
    return elapsed, len(queries)


def time_floor(module):
    """The same rows written by the plainest UPDATE there is."""
    started = time.perf_counter()
    Assignment.objects.filter(module=module).update(reacknowledge_since=timezone.now())
    return time.perf_counter() - started


def main():
    with harness.throwaway_database():
        load_and_approve()
        clinic = Clinic.objects.create(name="Benchmark clinic")
        clinician = User.objects.create(
            email="bench-clinician@example.org", full_name="C", role=User.Role.CLINICIAN
        )
        editor = library_editor()
        module = Module.objects.select_related("current_version").get(slug="sleep-medicines")
        results, edits, done = {}, 0, 0
        for size in SIZES:
            patients_who_acknowledged(size - done, clinic, clinician, module)
            done = size
            if connection.vendor == "postgresql":
                connection.cursor().execute("ANALYZE")
            runs = []
            for _ in range(3):
                edits += 1
                runs.append(time_approval(editor, edits))
                module.refresh_from_db()
            floor = min(time_floor(module) for _ in range(3))
            best, queries = min(runs)
            asked = Assignment.objects.filter(module=module, reacknowledge_since__isnull=False).count()
            results[size] = (best, queries)
            print(
                f"{connection.vendor}: {size:>6} patients asked again: approval {best * 1000:6.0f} ms "
                f"in {queries} queries; plain UPDATE floor {floor * 1000:6.0f} ms "
                f"({best / floor:4.2f}x); rows marked {asked}"
            )
        small_queries = results[SIZES[0]][1]
        large_time, large_queries = results[SIZES[1]]
        ok = large_time <= MAX_SECONDS and large_queries == small_queries
        verdict = "set-based" if ok else "TOO SLOW OR NOT SET-BASED"
        queries = f"queries {small_queries}, {large_queries}"
        print(f"10,000 in {large_time:.2f} s (limit {MAX_SECONDS} s); {queries}: {verdict}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
