"""The portal's own settings (production when PORTAL_ENV says so), plus what the benchmark
needs: its URLconf with the floor page, its template folder, and a query counter first in
the middleware so every response says how many queries it took (X-Queries)."""

from pathlib import Path

from portal.settings import *  # noqa: F403
from portal.settings import MIDDLEWARE, TEMPLATES

ROOT_URLCONF = "benchmarks.bench.urls"
MIDDLEWARE = ["benchmarks.bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
TEMPLATES = [
    {**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], Path(__file__).resolve().parent / "templates"]},
    *TEMPLATES[1:],
]
