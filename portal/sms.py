"""Reminders by text message: the patient's number and consent, the providers, and
STOP replies. A text says what an email says, and no more: the clinic's name and a link."""

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
import zoneinfo

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import User
from portal.models import SmsConsent

logger = logging.getLogger(__name__)
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "PARAR", "ALTO"}


class TransientSmsError(Exception):
    """The provider could not take the message now: try again later."""


class PermanentSmsError(Exception):
    """The provider refused the message for good (a number it cannot reach)."""


# The number and the consent --------------------------------------------------------------------


def e164(text: str) -> str:
    """A mobile number as +<country><number>; a clear error for anything else."""
    try:
        number = phonenumbers.parse(text, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            {
                "phone": _(
                    "Enter a mobile number we can text, with its country code if it is not a US "
                    "number: +44 7911 123456."
                )
            }
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def consent_wording(patient: User) -> str:
    """The statement the patient agrees to, in their language, as it is kept."""
    with override(patient.language):
        return _(
            "I agree to get text messages from %(clinic)s that say I have education to review, with a link. "
            "They never say what it is about. Message and data rates may apply. Reply STOP to stop them."
        ) % {"clinic": patient.clinic.name}


def choose_channel(*, patient: User, channel: str, phone: str = "", agreed: bool = False) -> None:
    """Email, or text messages to `phone` once the patient agreed to the wording shown."""
    if channel == "email":
        if patient.reminder_channel == "sms":
            _record(patient, given=False, phone=patient.phone, source=SmsConsent.Source.SETTINGS)
        User.objects.filter(pk=patient.pk).update(reminder_channel="email")
        patient.reminder_channel = "email"
        return
    number = e164(phone)
    if patient.reminder_channel == "sms" and patient.phone == number:
        return  # nothing changed: the consent on record stands
    if not agreed:
        raise ValidationError({"sms_consent": _("To get text messages, tick the box to agree to them.")})
    with transaction.atomic():
        _record(
            patient,
            given=True,
            phone=number,
            source=SmsConsent.Source.SETTINGS,
            wording=consent_wording(patient),
        )
        User.objects.filter(pk=patient.pk).update(
            reminder_channel="sms", phone=number, updated_at=timezone.now()
        )
    patient.reminder_channel, patient.phone = "sms", number


def _record(patient, *, given, phone, source, wording="") -> None:
    SmsConsent.objects.create(patient=patient, given=given, phone=phone, source=source, wording=wording)


# Sending -----------------------------------------------------------------------------------------


def reminder_text(patient: User) -> str:
    with override(patient.language):
        return _("%(clinic)s: you have education to review. %(link)s Reply STOP to stop texts.") % {
            "clinic": patient.clinic.name,
            "link": settings.SITE_URL + reverse("education:my_modules"),
        }


def in_quiet_hours(patient: User, now=None) -> bool:
    start, end = settings.SMS_QUIET_HOURS
    hour = (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(patient.clinic.time_zone)).hour
    return hour >= start or hour < end if start > end else start <= hour < end


def backend():
    return import_string(settings.SMS_BACKEND)()


class ConsoleBackend:
    """Development: the text goes to the log, never to a phone."""

    def send(self, to: str, body: str) -> None:
        logger.info("Text message to %s: %s", to[:-4] + "****", body)


class LocMemBackend:
    """Tests: texts kept in `LocMemBackend.outbox` as (number, body)."""

    outbox: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> None:
        LocMemBackend.outbox.append((to, body))


class HttpBackend:
    """A provider's HTTP API: POST {"to", "body"} as JSON with a bearer token. 2xx: sent;
    4xx: refused for good; 5xx, a timeout or no answer: try again later."""

    def send(self, to: str, body: str) -> None:
        request = urllib.request.Request(  # noqa: S310  (the provider's URL is the deployment's setting)
            settings.SMS_PROVIDER_URL,
            data=json.dumps({"to": to, "body": body}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.SMS_PROVIDER_TOKEN}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10):  # noqa: S310  # nosec B310
                return
        except urllib.error.HTTPError as error:
            if 400 <= error.code < 500 and error.code != 429:
                raise PermanentSmsError(f"provider refused: HTTP {error.code}") from error
            raise TransientSmsError(f"provider unavailable: HTTP {error.code}") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise TransientSmsError(f"provider unreachable: {error}") from error


# STOP replies ------------------------------------------------------------------------------------


def signature_valid(body: bytes, signature: str) -> bool:
    """The provider signs each inbound message: HMAC-SHA256 of the body with the shared secret."""
    secret = settings.SMS_WEBHOOK_SECRET
    if not secret or not signature:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def handle_reply(sender: str, text: str) -> int:
    """A STOP reply stops texts to that number: those patients go back to email, with the
    choice recorded. Returns how many patients it stopped; other replies change nothing."""
    if text.strip().upper() not in STOP_WORDS:
        return 0
    try:
        number = e164(sender)
    except ValidationError:
        return 0
    stopped = 0
    for patient in User.objects.patients().filter(phone=number, reminder_channel="sms"):
        with transaction.atomic():
            _record(patient, given=False, phone=number, source=SmsConsent.Source.STOP_REPLY)
            User.objects.filter(pk=patient.pk).update(reminder_channel="email")
        stopped += 1
    return stopped
