"""Writes about people and clinics: inviting patients, accepting invitations.

Views, commands and the admin call these; none of them reimplements the rules.
"""

import hashlib
import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Clinic, Invitation, User
from accounts.signals import patient_added

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    email_sent: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_patient(
    *,
    clinician: User,
    clinic: Clinic,
    full_name: str,
    email: str,
    date_of_birth: date | None = None,
    record_number: str = "",
) -> SentInvitation:
    """Create a patient account in `clinic` and email them a one-time link to set
    their password. Raises ValidationError, writing nothing, on bad input."""
    _require_membership(clinician, clinic)
    email = User.objects.normalize_email(email)
    _refuse_existing_email(email, clinic)
    patient = User(
        role=User.Role.PATIENT,
        clinic=clinic,
        full_name=" ".join(full_name.split()),
        email=email,
        date_of_birth=date_of_birth,
        record_number=record_number.strip(),
    )
    patient.set_unusable_password()
    patient.full_clean()
    try:
        with transaction.atomic():
            patient.save()
            patient_added.send(sender=User, patient=patient)
            invitation, token = _create_invitation(patient=patient, sent_by=clinician)
    except IntegrityError as error:
        # Two clinicians adding the same person at the same moment: one wins.
        raise ValidationError(
            {"email": "This patient was added a moment ago. Refresh the patient list."}
        ) from error
    return SentInvitation(invitation, _send_invitation_email(invitation, token))


def resend_invitation(*, patient: User, sent_by: User) -> SentInvitation:
    """Replace the patient's invitation with a new link; the old link stops working."""
    _require_membership(sent_by, patient.clinic)
    if patient.has_usable_password():
        raise ValidationError("This patient has already set up their account.")
    with transaction.atomic():
        User.objects.select_for_update().get(pk=patient.pk)
        patient.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        invitation, token = _create_invitation(patient=patient, sent_by=sent_by)
    return SentInvitation(invitation, _send_invitation_email(invitation, token))


def find_invitation(token: str) -> Invitation | None:
    """The invitation a link's token belongs to, in any state, or None."""
    return Invitation.objects.select_related("patient__clinic").filter(token_hash=hash_token(token)).first()


@transaction.atomic
def accept_invitation(*, invitation: Invitation, password: str) -> User:
    """Set the patient's password and use up the invitation. The conditional update
    claims the link, so two tabs submitting at once cannot both succeed."""
    claimed = Invitation.objects.pending().filter(pk=invitation.pk).update(accepted_at=timezone.now())
    if claimed != 1:
        raise ValidationError("This invitation link has already been used or has expired.")
    patient = invitation.patient
    patient.set_password(password)
    patient.save(update_fields=["password"])
    return patient


def _require_membership(clinician: User, clinic: Clinic) -> None:
    if not clinician.memberships.filter(clinic=clinic).exists():
        raise ValidationError({"clinic": "You can only add patients to your own clinics."})


NEUTRAL_EMAIL_REFUSAL = (
    "This email address cannot be used for a new patient here. Ask the patient for another address."
)


def _refuse_existing_email(email: str, clinic: Clinic) -> None:
    """The clinic's own patient can be named; anywhere else the address is used (another
    clinic's patient, a staff account) gets one neutral answer, so a clinician cannot learn
    where an address is registered."""
    existing = User.objects.filter(email=email).first()
    if existing is None:
        return
    if existing.is_patient and existing.clinic_id == clinic.pk:
        message = (
            "This person is already a patient of this clinic. Open their page to re-send the invitation."
        )
    else:
        message = NEUTRAL_EMAIL_REFUSAL
    raise ValidationError({"email": message})


def _create_invitation(*, patient: User, sent_by: User) -> tuple[Invitation, str]:
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = Invitation.objects.create(
        patient=patient,
        sent_by=sent_by,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    return invitation, token


def _send_invitation_email(invitation: Invitation, token: str) -> bool:
    """Send the link. The email names the clinic and nothing about the patient's health."""
    context = {
        "clinic_name": invitation.patient.clinic.name,
        "link": settings.SITE_URL + reverse("accounts:accept_invitation", args=[token]),
        "expires_at": invitation.expires_at,
        "valid_days": settings.INVITATION_VALID_DAYS,
    }
    message = EmailMultiAlternatives(
        subject=render_to_string("emails/invitation_subject.txt", context).strip(),
        body=render_to_string("emails/invitation.txt", context),
        to=[invitation.patient.email],
    )
    message.attach_alternative(render_to_string("emails/invitation.html", context), "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        # The invitation stays valid; the clinician is told to re-send.
        logger.exception("Invitation email %s could not be sent", invitation.code)
        return False
    return True
