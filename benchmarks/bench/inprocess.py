"""Where a page's time goes, in one process, on the database `make bench` leaves behind.

    .venv/bin/python benchmarks/bench/inprocess.py                    # every page against F
    .venv/bin/python benchmarks/bench/inprocess.py dashboard --sql    # each query's time
    .venv/bin/python benchmarks/bench/inprocess.py visit --profile    # cProfile, cumulative

Not a result (make bench is): the Django test client in this process, no server, no load.
It is the quick loop for finding what to change: at commit cd94680 its ratios to F were within
0.02 of make bench's for the dashboard, visit summary, overview and reader. Timings are noisy on
a shared machine; compare two versions interleaved, not one run against another. Needs the
`portal_bench` database (run make bench once).
"""

import argparse
import cProfile
import logging
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(
    {
        "PORTAL_ENV": "production",
        "SECRET_KEY": "bench-only-in-process-not-a-secret-0c4f8e2a9b7d",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "MFA_REQUIRED_FOR_STAFF": "false",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal_bench",
        "DJANGO_SETTINGS_MODULE": "benchmarks.bench.settings",
        "STATIC_ROOT": "/tmp/portal-inprocess-static",  # noqa: S108  (throwaway, rebuilt if missing)
    }
)
for name in ("CELERY_BROKER_URL", "DEBUG"):
    os.environ.pop(name, None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Clinic, User  # noqa: E402
from education.models import Assignment  # noqa: E402
from portal import demo  # noqa: E402
from portal.models import FollowUpVisit  # noqa: E402

BACKEND = "accounts.backends.UserWithClinicBackend"


def pages() -> dict[str, tuple[Client, str]]:
    clinician = User.objects.get(email=demo.CLINICIAN.email)
    visit = (
        FollowUpVisit.objects.filter(patient__clinic__in=Clinic.objects.of_member(clinician))
        .filter(assignments__isnull=False)
        .order_by("pk")
        .distinct()
        .first()
    )
    assignment = Assignment.objects.filter(patient=visit.patient).not_cancelled().order_by("pk").first()
    staff, patient = Client(), Client()
    staff.force_login(clinician, backend=BACKEND)
    patient.force_login(visit.patient, backend=BACKEND)
    return {
        "floor": (staff, "/bench/floor/"),
        "dashboard": (staff, "/patients/?sort=due&page=1"),
        "dashboard-deep": (staff, "/patients/?sort=name&page=20"),
        "visit": (staff, f"/visits/{visit.code}/"),
        "overview": (staff, "/overview/"),
        "my-modules": (patient, "/modules/"),
        "reader": (patient, f"/modules/{assignment.code}/"),
    }


def median_ms(client, url, times) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        response = client.get(url)
        spent.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    return statistics.median(spent) * 1000


def query_times(client, url, times=100) -> None:
    spent = defaultdict(list)

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[sql[:110]].append(time.perf_counter() - started)

    with connection.execute_wrapper(timed):
        for _ in range(times):
            client.get(url)
    for sql, values in spent.items():
        print(f"{statistics.median(values) * 1000:6.2f} ms  x{len(values) // times}  {sql}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", nargs="*", help="pages to time (default: all)")
    parser.add_argument("--sql", action="store_true", help="each query's median time, first page only")
    parser.add_argument("--profile", action="store_true", help="cProfile of the first page, 200 requests")
    args = parser.parse_args()
    if not Path(os.environ["STATIC_ROOT"], "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    logging.disable(logging.CRITICAL)
    known = pages()
    names = args.page or [name for name in known if name != "floor"]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown page {unknown[0]}; one of: {', '.join(known)}")
    for name in ["floor", *names]:
        median_ms(*known[name], 20)  # warm: the middleware's first load, prepared statements
    if args.sql:
        query_times(*known[names[0]])
    elif args.profile:
        profile = cProfile.Profile()
        profile.runcall(median_ms, *known[names[0]], 200)
        stats = pstats.Stats(profile)
        stats.sort_stats(os.environ.get("SORT", "cumulative")).print_stats(50)
        if os.environ.get("CALLERS"):
            stats.print_callers(os.environ["CALLERS"])
    else:
        for name in names:
            floor, page = median_ms(*known["floor"], 100), median_ms(*known[name], 100)
            print(f"{name:15} {page:6.2f} ms   F {floor:5.2f} ms   ×F {floor / page:.2f}")


if __name__ == "__main__":
    main()
