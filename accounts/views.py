from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import mfa, services, signals
from accounts.forms import CodeForm, LanguageForm, posted_data, posted_next
from accounts.middleware import speak
from accounts.models import Invitation


@require_POST
def choose_language(request):
    """The language menu on every page: a signed-in user's choice is kept on their account,
    a visitor's in a cookie. An unknown language changes nothing and says so."""
    form = LanguageForm(request.POST)
    response = redirect(posted_next(request) or _page_it_was_sent_from(request) or "home")
    if not form.is_valid():
        messages.error(request, _("Choose English or Spanish."))
        return response
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        services.set_language(request.user, language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


def _page_it_was_sent_from(request) -> str | None:
    """The menu sits on every page, error pages included: it sends no address of its own,
    which a "not found" page must not repeat; the browser's same-origin Referer says it."""
    back = request.headers.get("Referer", "")
    same_site = url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return back if same_site else None


@never_cache
@require_http_methods(["GET", "POST"])
def accept_invitation(request, token):
    invitation = services.find_invitation(token)
    if invitation is not None:
        # The page speaks the language the clinic chose for the invitee, like the email did.
        speak(request, invitation.invitee.language)
    if invitation is None or invitation.status != Invitation.Status.PENDING:
        return _unusable_invitation(request, invitation)
    form = SetPasswordForm(invitation.invitee, posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            invitee = services.accept_invitation(
                invitation=invitation, password=form.cleaned_data["new_password1"]
            )
        except ValidationError:
            invitation.refresh_from_db()
            return _unusable_invitation(request, invitation)
        login(request, invitee, backend="accounts.backends.UserWithClinicBackend")
        signals.invitation_accepted.send(sender=type(invitee), request=request, user=invitee)
        messages.success(request, _("Your password is set. Welcome to your education portal."))
        return redirect("home")
    context = {
        "form": form,
        "clinic": services.invited_to(invitation),
        "email": invitation.invitee.email,
        "for_staff": invitation.invitee.is_clinician,
    }
    return render(request, "accounts/accept_invitation.html", context)


def _unusable_invitation(request, invitation):
    """A page that says what happened to the link and what to do next."""
    status = 404 if invitation is None else 410
    return render(request, "accounts/invitation_unusable.html", {"invitation": invitation}, status=status)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view, announcing the change so the audit trail can record it."""

    def form_valid(self, form):
        response = super().form_valid(form)
        signals.password_changed.send(
            sender=type(self.request.user), request=self.request, user=self.request.user
        )
        return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request):
    if mfa.has_confirmed_device(request.user):
        return redirect("accounts:mfa_verify")
    device = mfa.pending_totp_device(request.user)
    form = CodeForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        codes = mfa.confirm_totp(request, device, form.cleaned_data["code"])
        if codes:
            return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes})
        form.add_error(
            "code", _("That code is not right. Check the time on your phone and try the newest code.")
        )
    context = {
        "form": form,
        "qr": mfa.qr_svg(device),
        "secret": device.config_url.split("secret=")[1].split("&")[0],
    }
    return render(request, "accounts/mfa_setup.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    if not mfa.has_confirmed_device(request.user):
        return redirect("accounts:mfa_setup")
    form = CodeForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        if mfa.verify(request, form.cleaned_data["code"]):
            return redirect("home")
        form.add_error("code", _("That code is not right, or that recovery code was already used."))
    return render(request, "accounts/mfa_verify.html", {"form": form})
