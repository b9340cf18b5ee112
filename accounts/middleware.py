from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

# Pages a staff member can reach before the second step: the step itself and signing out.
OPEN_BEFORE_SECOND_STEP = ("accounts:mfa_setup", "accounts:mfa_verify", "logout")


class RequireStaffSecondStepMiddleware:
    """When MFA_REQUIRED_FOR_STAFF is on (production by default), a clinician, content
    editor or clinic admin must set up and pass the second step before any other page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_verify(request):
            return redirect("accounts:mfa_verify")
        return self.get_response(request)

    def _must_verify(self, request) -> bool:
        user = request.user
        if not (settings.MFA_REQUIRED_FOR_STAFF and user.is_authenticated and user.is_clinician):
            return False
        if user.is_verified():
            return False
        open_paths = {reverse(name) for name in OPEN_BEFORE_SECOND_STEP}
        return request.path not in open_paths and not request.path.startswith(settings.STATIC_URL)
