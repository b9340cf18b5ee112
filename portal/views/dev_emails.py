"""Development only: the emails the portal would have sent, for staff trying the demo
(an invitation's link, a password reset, a reminder) without a mail server."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import clinician_required
from portal import dev_email

SHOWN = 100


def _development_email_only(view):
    """404 for everyone unless settings chose the development backend (SENT_EMAILS_DIR set):
    with a real mail server, or in production, the page does not exist. Checked before the
    sign-in, so nobody is even asked to sign in for it."""

    def wrapper(request, *args, **kwargs):
        if settings.PRODUCTION or not settings.SENT_EMAILS_DIR:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@_development_email_only
@clinician_required
@require_GET
def dev_emails(request):
    # Every clinic's emails, invitation links included: development data, on the
    # developer's own machine.
    return render(
        request,
        "portal/dev_emails.html",
        {"emails": dev_email.sent_emails(limit=SHOWN), "shown": SHOWN, "folder": settings.SENT_EMAILS_DIR},
    )
