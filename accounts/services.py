"""Writes about people and clinics: inviting patients and clinicians, accepting
invitations, re-verifying a changed address, and a clinic's staff.

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
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.emails import templated_email
from accounts.models import Clinic, Invitation, Membership, SignInLink, User
from accounts.signals import patient_added

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    email_sent: bool


def set_language(user: User, language: str) -> None:
    """The language `user` reads the portal and their emails in."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose English or Spanish.")})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language", "updated_at"])


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
    language: str = settings.LANGUAGE_CODE,
) -> SentInvitation:
    """Create a patient account in `clinic` and email them a one-time link to set
    their password. Raises ValidationError, writing nothing, on bad input."""
    _require_membership(clinician, clinic)
    email = User.objects.normalize_email(email)
    refuse_existing_email(email, clinic)
    patient = User(
        role=User.Role.PATIENT,
        clinic=clinic,
        full_name=" ".join(full_name.split()),
        email=email,
        date_of_birth=date_of_birth,
        record_number=record_number.strip(),
        language=language,
    )
    return _add_and_invite(
        patient,
        sent_by=clinician,
        clinic=clinic,
        then=lambda added: patient_added.send(sender=User, patient=added),
        raced=_("This patient was added a moment ago. Refresh the patient list."),
    )


def _add_and_invite(account: User, *, sent_by: User, clinic: Clinic, then, raced: str) -> SentInvitation:
    """Save a new account with no usable password, run `then(account)` in the same
    transaction, and email the account its one-time link. Two people adding the same
    address at the same moment: one wins, the other is told `raced`."""
    account.set_unusable_password()
    account.full_clean()
    try:
        with transaction.atomic():
            account.save()
            then(account)
            invitation, token = _create_invitation(invitee=account, sent_by=sent_by)
    except IntegrityError as error:
        raise ValidationError({"email": raced}) from error
    return send_invitation(invitation, token, clinic)


def resend_invitation(*, patient: User, sent_by: User) -> SentInvitation:
    """Replace the patient's invitation with a new link; the old link stops working."""
    _require_membership(sent_by, patient.clinic)
    if not patient.is_active:
        raise ValidationError(_("This patient's account is inactive. Reactivate it first."))
    return _resend(patient, sent_by, patient.clinic, _("This patient has already set up their account."))


def _resend(invitee: User, sent_by: User, clinic: Clinic, already_set_up: str) -> SentInvitation:
    if invitee.has_usable_password():
        raise ValidationError(already_set_up)
    with transaction.atomic():
        User.objects.select_for_update().get(pk=invitee.pk)
        invitation, token = replace_invitation(invitee=invitee, sent_by=sent_by)
    return send_invitation(invitation, token, clinic)


def replace_invitation(*, invitee: User, sent_by: User) -> tuple[Invitation, str]:
    """A new link for `invitee`, the old one revoked; in the caller's transaction. The
    token goes into the email only (`send_invitation`)."""
    revoke_invitations(invitee)
    return _create_invitation(invitee=invitee, sent_by=sent_by)


def revoke_invitations(invitee: User) -> None:
    invitee.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def send_invitation(invitation: Invitation, token: str, clinic: Clinic) -> SentInvitation:
    """Email a link made by `replace_invitation`, once its transaction has committed."""
    return SentInvitation(invitation, _send_invitation_email(invitation, token, clinic))


def find_invitation(token: str) -> Invitation | None:
    """The invitation a link's token belongs to, in any state, or None."""
    return Invitation.objects.select_related("invitee__clinic").filter(token_hash=hash_token(token)).first()


def invited_to(invitation: Invitation) -> Clinic | None:
    """The clinic the link invites to: a patient's own, a clinician's first, or for a
    caregiver the clinic of the first patient who shares their modules with them."""
    invitee = invitation.invitee
    if invitee.is_caregiver:
        # The reverse relation of portal.caregivers, which accounts does not import.
        accesses = invitee.cared_for.filter(revoked_at__isnull=True, patient__is_active=True)
        access = accesses.select_related("patient__clinic").order_by("invited_at").first()
        return access.patient.clinic if access else None
    return invitee.clinic or Clinic.objects.of_member(invitee).order_by("memberships__created_at").first()


@transaction.atomic
def accept_invitation(*, invitation: Invitation, password: str) -> User:
    """Set the invitee's password and use up the invitation. The conditional update
    claims the link, so two tabs submitting at once cannot both succeed. A deactivated
    account's link is refused: deactivation is meant to stop sign-in."""
    claimed = (
        Invitation.objects.pending()
        .filter(pk=invitation.pk, invitee__is_active=True)
        .update(accepted_at=timezone.now())
    )
    if claimed != 1:
        raise ValidationError(_("This invitation link has already been used or has expired."))
    invitee = invitation.invitee
    invitee.set_password(password)
    invitee.save(update_fields=["password"])
    return invitee


# Caregivers' accounts ------------------------------------------------------------------------


def invite_caregiver_account(
    *, full_name: str, email: str, language: str, sent_by: User, clinic: Clinic, then
) -> SentInvitation:
    """Create a caregiver's account (no clinic, no usable password), run `then(account)` in
    the same transaction, and email the one-time link in the name of `clinic`. The caller
    (portal.caregivers.services) has checked the address is free."""
    caregiver = User(
        role=User.Role.CAREGIVER, full_name=" ".join(full_name.split()), email=email, language=language
    )
    return _add_and_invite(
        caregiver,
        sent_by=sent_by,
        clinic=clinic,
        then=then,
        raced=_("This person was invited a moment ago. Refresh the page."),
    )


def released_if_unused_caregiver(account: User) -> bool:
    """Whether `account` was a caregiver account never set up that shares nobody's modules
    now (an invitation sent by mistake, then ended), and so gave up its address: it is closed
    under a placeholder address, its history kept, and the address can become a patient's
    or a clinician's."""
    if not account.is_caregiver or account.has_usable_password():
        return False
    # The reverse relation of portal.caregivers, which accounts does not import.
    if account.cared_for.filter(revoked_at__isnull=True).exists():
        return False
    revoke_invitations(account)
    account.email = f"released-{account.code}@invalid.example"
    account.is_active = False
    account.save(update_fields=["email", "is_active", "updated_at"])
    return True


def reinvite_caregiver(*, caregiver: User, sent_by: User, clinic: Clinic) -> SentInvitation:
    """A new link for a caregiver who has not set their password yet."""
    return _resend(caregiver, sent_by, clinic, _("This person has already set up their account."))


# A clinic's staff --------------------------------------------------------------------------

# Lazy: read at import, shown in the language of the page that refuses the address.
STAFF_EMAIL_REFUSAL = gettext_lazy(
    "This email address cannot be used for a new clinician here. Ask them for another address, "
    "or ask the portal's administrators to add an existing account."
)


def invite_clinician(*, admin: User, clinic: Clinic, full_name: str, email: str, role: str) -> SentInvitation:
    """Create a clinician's account on `clinic`'s staff and email them a one-time link to
    set their password. An address already in use anywhere gets one neutral answer, as for
    patients, unless it is on this clinic's staff already."""
    require_clinic_admin(admin, clinic)
    email = User.objects.normalize_email(email)
    _refuse_staff_email(email, clinic)
    clinician = User(role=User.Role.CLINICIAN, full_name=" ".join(full_name.split()), email=email)
    return _add_and_invite(
        clinician,
        sent_by=admin,
        clinic=clinic,
        then=lambda added: Membership.objects.create(user=added, clinic=clinic, role=role),
        raced=_("This clinician was added a moment ago. Refresh the page."),
    )


def resend_staff_invitation(*, admin: User, membership: Membership) -> SentInvitation:
    """A new link for a clinician who has not set their password yet; the old one stops working."""
    require_clinic_admin(admin, membership.clinic)
    already = _("%(name)s has already set up their account.") % {"name": membership.user}
    return _resend(membership.user, admin, membership.clinic, already)


def _refuse_staff_email(email: str, clinic: Clinic) -> None:
    existing = User.objects.filter(email=email).first()
    if existing is None or released_if_unused_caregiver(existing):
        return
    if existing.memberships.filter(clinic=clinic).exists():
        raise ValidationError({"email": _("This person is already on this clinic's staff.")})
    raise ValidationError({"email": STAFF_EMAIL_REFUSAL})


def require_clinic_admin(user: User, clinic: Clinic) -> None:
    if not user.is_clinic_admin(clinic):
        raise ValidationError(_("Only a clinic admin of this clinic can change its staff."))


LAST_ADMIN_REFUSAL = gettext_lazy(
    "A clinic keeps at least one clinic admin. Make someone else a clinic admin first."
)


@transaction.atomic
def change_staff_role(*, admin: User, membership: Membership, role: str) -> bool:
    """Make a member a clinician or a clinic admin; False if that is their role already."""
    require_clinic_admin(admin, membership.clinic)
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Choose clinician or clinic admin.")})
    if membership.role == role:
        return False
    if role != Membership.Role.ADMIN:
        refuse_losing_last_admin(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return True


def refuse_losing_last_admin(membership: Membership) -> None:
    """Refuse a change that would leave the clinic without an admin. The clinic's admin
    rows are locked first, so two admins demoting each other at once cannot both succeed."""
    admins = list(
        Membership.objects.select_for_update()
        .filter(clinic=membership.clinic_id, role=Membership.Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if admins == [membership.pk]:
        raise ValidationError(LAST_ADMIN_REFUSAL)


def _require_membership(clinician: User, clinic: Clinic) -> None:
    if not clinician.memberships.filter(clinic=clinic).exists():
        raise ValidationError({"clinic": _("You can only add patients to your own clinics.")})


NEUTRAL_EMAIL_REFUSAL = gettext_lazy(
    "This email address cannot be used for a new patient here. Ask the patient for another address."
)


def refuse_existing_email(email: str, clinic: Clinic, *, owner: User | None = None) -> None:
    """The clinic's own patient can be named; anywhere else the address is used (another
    clinic's patient, a staff account) gets one neutral answer, so a clinician cannot learn
    where an address is registered. `owner`, a patient changing theirs, may keep their own."""
    existing = User.objects.filter(email=email).exclude(pk=owner.pk if owner else None).first()
    if existing is None or released_if_unused_caregiver(existing):
        return
    if existing.is_patient and existing.clinic_id == clinic.pk:
        message = _(
            "This person is already a patient of this clinic. Open their page to re-send the invitation."
        )
    else:
        message = NEUTRAL_EMAIL_REFUSAL
    raise ValidationError({"email": message})


def _create_invitation(*, invitee: User, sent_by: User) -> tuple[Invitation, str]:
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = Invitation.objects.create(
        invitee=invitee,
        sent_by=sent_by,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    return invitation, token


def _send_invitation_email(invitation: Invitation, token: str, clinic: Clinic) -> bool:
    """Send the link. The email names the clinic and nothing about the patient's health."""
    context = {
        "clinic_name": clinic.name,
        "for_staff": invitation.invitee.is_clinician,
        "link": settings.SITE_URL + reverse("accounts:accept_invitation", args=[token]),
        "expires_at": invitation.expires_at,
        "valid_days": settings.INVITATION_VALID_DAYS,
    }
    message = templated_email("invitation", context, invitation.invitee)
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        # The invitation stays valid; the clinician is told to re-send.
        logger.exception("Invitation email %s could not be sent", invitation.code)
        return False
    return True


# Sign-in links ---------------------------------------------------------------------------------


def send_sign_in_link(email: str) -> bool:
    """Email a one-time sign-in link to the active patient with this address, whose
    account is set up; nothing for anyone else (staff, unknown, inactive, invited). Whether
    one was sent is for the audit trail only: the page says the same either way."""
    patient = (
        User.objects.patients()
        .select_related("clinic")
        .filter(email=User.objects.normalize_email(email), is_active=True)
        .first()
    )
    if patient is None or not patient.has_usable_password():
        return False
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    SignInLink.objects.create(
        user=patient,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.SIGN_IN_LINK_MINUTES),
    )
    context = {
        "clinic_name": patient.clinic.name,
        "link": settings.SITE_URL + reverse("sign_in_link_use", args=[token]),
        "minutes": settings.SIGN_IN_LINK_MINUTES,
    }
    try:
        templated_email("sign_in_link", context, patient).send()
    except (smtplib.SMTPException, OSError):
        logger.exception("Sign-in link email for account %s could not be sent", patient.code)
        return False
    return True


def find_sign_in_link(token: str) -> SignInLink | None:
    """The link a token belongs to, if it can still be used."""
    return (
        SignInLink.objects.select_related("user")
        .filter(
            token_hash=hash_token(token),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
            user__role=User.Role.PATIENT,
        )
        .first()
    )


def use_sign_in_link(link: SignInLink) -> User:
    """Use the link up; the conditional update claims it, so two tabs cannot both."""
    claimed = SignInLink.objects.filter(
        pk=link.pk, used_at__isnull=True, expires_at__gt=timezone.now(), user__is_active=True
    ).update(used_at=timezone.now())
    if claimed != 1:
        raise ValidationError(_("This sign-in link has already been used or has expired. Ask for a new one."))
    return link.user
