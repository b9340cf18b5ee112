from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from accounts import mfa

# Pages a staff member can reach before the second step: the step itself and signing out.
OPEN_BEFORE_SECOND_STEP = ("accounts:mfa_setup", "accounts:mfa_verify", "logout")


SECOND_STEP_SESSION_KEY = "second_step_set_up"


class RequireStaffSecondStepMiddleware:
    """When MFA_REQUIRED_FOR_STAFF is on (production by default), a clinician, content
    editor or clinic admin must set up and pass the second step before any other page.
    Anyone who chose to set one up (patients may) must pass it too: that is noted in the
    session at sign-in, so ordinary pages cost no extra query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_verify(request):
            return redirect("accounts:mfa_verify")
        return self.get_response(request)

    def _must_verify(self, request) -> bool:
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return False
        required = settings.MFA_REQUIRED_FOR_STAFF and user.is_clinician
        if not (required or request.session.get(SECOND_STEP_SESSION_KEY)):
            return False
        open_paths = {reverse(name) for name in OPEN_BEFORE_SECOND_STEP}
        return request.path not in open_paths and not request.path.startswith(settings.STATIC_URL)


@receiver(user_logged_in)
def note_second_step(sender, request, user, **kwargs):
    # One query at sign-in instead of one on every page.
    request.session[SECOND_STEP_SESSION_KEY] = mfa.has_confirmed_device(user)


class UserLanguageMiddleware:
    """A signed-in user reads the portal in the language they chose, whatever their browser
    asks for; visitors keep what LocaleMiddleware found. The user row is already loaded for
    the request, so this costs no query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            speak(request, user.language)
        return self.get_response(request)


def speak(request, language: str) -> None:
    """Answer this request in `language`: gettext, `<html lang>` and request.LANGUAGE_CODE."""
    translation.activate(language)
    request.LANGUAGE_CODE = language
