import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


class PermissionsPolicyMiddleware:
    """Switch off browser features the portal never uses (camera, location, payment...)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
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
            messages.info(request, "You were signed out to keep your information safe. Please sign in again.")
        return self.get_response(request)

    def _expired(self, request) -> bool:
        now, session = time.time(), request.session
        started = session.setdefault("session_started", now)
        last_seen = session.get("last_seen", now)
        idle = (
            settings.SESSION_IDLE_MINUTES_PATIENT
            if request.user.is_patient
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
