"""Error pages. A database that is briefly away is not a bug: it gets its own answer."""

import logging
import sys

from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader

logger = logging.getLogger(__name__)


def server_error(request):
    """Django's handler500, rendered without a database: a database outage answers 503
    with a page that says nothing was saved and to try again; anything else is a 500."""
    _, error, _ = sys.exc_info()
    if isinstance(error, DatabaseError):
        logger.warning("Database unavailable: answered 503 (%s)", type(error).__name__)
        return HttpResponse(loader.render_to_string("503.html"), status=503, headers={"Retry-After": "60"})
    return HttpResponseServerError(loader.render_to_string("500.html"))
