"""A patient's emailed sign-in link: asked for on the sign-in page, used once within
SIGN_IN_LINK_MINUTES. Throttled with password resets, and refused while the account is
locked out; a patient with a second step still passes it."""

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import services as account_services
from accounts.models import User
from portal import audit
from portal.models import AuditEvent

Action = AuditEvent.Action


class SignInLinkForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email address"), max_length=254)


@require_http_methods(["GET", "POST"])
def sign_in_link(request):
    """Ask for a link. Every valid request gets the same "check your email" page, sent or
    not, so the page reveals nothing about who has an account."""
    form = SignInLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        account = User.objects.filter(email=User.objects.normalize_email(email)).first()
        allowed = audit.emailed_link_allowed(
            request, account, requested=Action.SIGN_IN_LINK_REQUESTED, refused=Action.SIGN_IN_LINK_THROTTLED
        )
        if allowed:
            account_services.send_sign_in_link(email)
        return render(
            request, "registration/sign_in_link_sent.html", {"minutes": settings.SIGN_IN_LINK_MINUTES}
        )
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/sign_in_link_form.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def sign_in_link_use(request, token):
    """GET shows a button (a mail scanner following the link uses nothing); POST signs in."""
    link = account_services.find_sign_in_link(token)
    if link is None:
        return render(request, "registration/sign_in_link_unusable.html", status=410)
    if not AxesProxyHandler.is_allowed(request, credentials={"username": link.user.email}):
        return render(request, "registration/locked_out.html", status=429)
    if request.method == "GET":
        return render(request, "registration/sign_in_link_use.html")
    try:
        patient = account_services.use_sign_in_link(link)
    except ValidationError:
        return render(request, "registration/sign_in_link_unusable.html", status=410)
    login(request, patient, backend="accounts.backends.UserWithClinicBackend")
    messages.success(request, _("You are signed in."))
    return redirect("home")
