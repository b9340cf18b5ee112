"""Two-step sign-in with an authenticator app (TOTP, django-otp) and one-time recovery
codes. The QR code is drawn here as SVG: the secret never goes to an outside service."""

import segno
from django.db import transaction
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import signals

RECOVERY_CODES = 10


def has_confirmed_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def pending_totp_device(user) -> TOTPDevice:
    """The authenticator being set up: the same one until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(
        scale=4, title="QR code for your authenticator app"
    )


@transaction.atomic
def confirm_totp(request, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the authenticator with a code from it; returns new recovery codes (shown
    once, replacing any earlier ones), or None if the code is wrong."""
    if not device.verify_token(token.strip().replace(" ", "")):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=device.user).delete()
    recovery = StaticDevice.objects.create(user=device.user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
    otp_login(request, device)
    signals.second_step_changed.send(
        sender=type(device.user), request=request, user=device.user, event="set_up"
    )
    return codes


def verify(request, token: str) -> bool:
    """Check a code from the authenticator, or a recovery code (which then stops working)."""
    device = match_token(request.user, token.strip().replace(" ", ""))
    if device is None:
        return False
    otp_login(request, device)
    event = "recovery_code_used" if isinstance(device, StaticDevice) else "passed"
    signals.second_step_changed.send(
        sender=type(request.user), request=request, user=request.user, event=event
    )
    return True
