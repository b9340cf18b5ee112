import json
import logging
import re
import time
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponseNotFound
from django.template import loader
from django.utils.translation import gettext as _


class PermissionsPolicyMiddleware:
    """Switch off browser features the portal never uses (camera, location, payment...)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class OwnNotFoundPageMiddleware:
    """With DEBUG on, Django answers a 404 with its technical page, which repeats the path
    and lists the site's URL patterns. Under the pages that hold records the portal's own
    page answers even then: a demo on a projector or a shared screen must not show it."""

    RECORD_PATHS = ("/patients/", "/visits/", "/assignments/", "/questions/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and request.path.startswith(self.RECORD_PATHS):
            return HttpResponseNotFound(loader.render_to_string("404.html", request=request))
        return response


class SessionTimeoutMiddleware:
    """End a session after a quiet spell (15 minutes for staff, 30 for patients by
    default) and, whatever the activity, 12 hours after it began. The clock is kept in
    the session itself and written at most once a minute, not on every request."""

    WRITE_EVERY = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and self._expired(request):
            logout(request)
            messages.info(
                request, _("You were signed out to keep your information safe. Please sign in again.")
            )
        return self.get_response(request)

    def _expired(self, request) -> bool:
        now, session = time.time(), request.session
        started = session.setdefault("session_started", now)
        last_seen = session.get("last_seen", now)
        idle = (
            settings.SESSION_IDLE_MINUTES_PATIENT
            # Patients and caregivers read modules at their own pace.
            if request.user.is_patient or request.user.is_caregiver
            else settings.SESSION_IDLE_MINUTES_STAFF
        )
        if now - last_seen > idle * 60 or now - started > settings.SESSION_ABSOLUTE_HOURS * 3600:
            return True
        if now - last_seen >= self.WRITE_EVERY or "last_seen" not in session:
            session["last_seen"] = now
        return False


@receiver(user_logged_in)
def start_session_clock(sender, request, user, **kwargs):
    # Stamped while sign-in saves the session anyway, so the first page costs no extra write.
    request.session["session_started"] = request.session["last_seen"] = time.time()


request_log = logging.getLogger("portal.requests")
REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class RequestLogMiddleware:
    """One JSON line per request: a request id (kept from a proxy's X-Request-ID, else
    new), the user's id, the route pattern, the status and the time taken. The route is
    the URL pattern, not the path: no query string, no token, no name reaches the log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        supplied = request.headers.get("X-Request-ID", "")
        request.id = supplied if REQUEST_ID.match(supplied) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        request_log.info(
            json.dumps(
                {
                    "request_id": request.id,
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                    "method": request.method,
                    "route": match.route if match else "(unmatched)",
                    "view": match.view_name if match else None,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                }
            )
        )
        return response
