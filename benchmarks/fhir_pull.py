"""A record system pulls every QuestionnaireResponse of a 10,000-patient clinic, page by page.

    .venv/bin/python benchmarks/fhir_pull.py            # builds portal_fhir_bench on PostgreSQL, then pulls
    .venv/bin/python benchmarks/fhir_pull.py --reuse    # pulls again from the database built last time

The clinic's patients have the demo's synthetic learning history (assignments, quiz attempts
with their answers, acknowledgments), beside another clinic of the same size whose records
the token must never see. The pull goes through the whole request path (token, rate limit,
search, mappings, audit trail) with Django's test client in this process: no server, so
the figures are the portal's own work. It reports the time, the pages, the statements per
page, and the first pages against the last (a deep page must cost what the first does).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "portal_fhir_bench"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
PATIENTS = 10_000
os.environ.update(
    {
        "DATABASE_URL": f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{DB_NAME}",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        # The pull measures the portal's work, not the limit: at the default 600 calls a
        # minute, a pull faster than that waits for the next minute.
        "API_CALLS_PER_MINUTE": "1000000",
        "SITE_URL": "http://testserver",
    }
)
for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
    os.environ.pop(name, None)

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import Clinic, User  # noqa: E402
from education.models import QuizAttempt  # noqa: E402
from portal import demo  # noqa: E402
from portal.interop import services  # noqa: E402


def recreate_database():
    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as admin, admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DB_NAME}")


def build() -> Clinic:
    from django.core.management import call_command

    started = time.perf_counter()
    recreate_database()
    call_command("migrate", verbosity=0)
    clinic = demo.seed_demo_accounts()
    demo.add_synthetic_patients(clinic, PATIENTS - demo.synthetic_patient_count(clinic))
    other = Clinic.objects.create(name="Another clinic")
    saved = demo.SYNTHETIC_EMAIL_PREFIX
    demo.SYNTHETIC_EMAIL_PREFIX = "fhir-other-patient-"
    try:
        demo.add_synthetic_patients(other, PATIENTS)
    finally:
        demo.SYNTHETIC_EMAIL_PREFIX = saved
    demo.analyze_tables()
    print(f"built {DB_NAME} in {time.perf_counter() - started:.0f} s")
    return clinic


def pull(token: str) -> tuple[int, list[float], list[int], float]:
    client = Client()
    url, found, seconds, statements = "/fhir/R4/QuestionnaireResponse?_count=100", 0, [], []
    started = time.perf_counter()
    while url:
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
            seconds.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise SystemExit(f"page {len(seconds)}: {response.status_code} {response.content[:300]!r}")
        bundle = response.json()
        found += len(bundle["entry"])
        statements.append(len(captured))
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        url = following[0].removeprefix("http://testserver") if following else None
    return found, seconds, statements, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="pull from the database built last time")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    clinic = Clinic.objects.get(name=demo.DEMO_CLINIC_NAME) if args.reuse else build()
    admin = User.objects.get(email=demo.CLINIC_ADMIN.email)
    token = services.create_client(
        clinic=clinic, name=f"Pull {time.time():.0f}", can_read=True, can_write=False, created_by=admin
    ).token
    expected = QuizAttempt.objects.filter(assignment__patient__clinic=clinic).count()
    patients = User.objects.filter(clinic=clinic).count()
    found, seconds, statements, total = pull(token)
    ms = sorted(s * 1000 for s in seconds)
    first, last = statistics.median(seconds[:10]) * 1000, statistics.median(seconds[-10:]) * 1000
    print(f"clinic: {patients:,} patients, {expected:,} quiz attempts; another clinic of {PATIENTS:,}")
    print(f"pulled {found:,} QuestionnaireResponses in {len(seconds)} pages of up to 100: {total:.1f} s")
    print(
        f"per page: p50 {statistics.median(ms):.1f} ms, p95 {ms[int(len(ms) * 0.95) - 1]:.1f} ms, "
        f"max {ms[-1]:.1f} ms; first 10 pages p50 {first:.1f} ms, last 10 {last:.1f} ms"
    )
    print(f"statements per page: {min(statements)}–{max(statements)} (the first page reads the quiz banks)")
    if found != expected:
        raise SystemExit(f"FAIL: {found} pulled, {expected} in the clinic")


if __name__ == "__main__":
    main()
