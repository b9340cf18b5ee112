import uuid
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CONTENT_EDITORS_GROUP = "Content editors"


def default_time_zone():
    # A callable, so the deployment's TIME_ZONE never ends up frozen in a migration.
    return settings.TIME_ZONE


def validate_time_zone(value):
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(f"“{value}” is not a known time zone, such as Europe/London.") from error


def validate_date_of_birth(value):
    if value > timezone.localdate():
        raise ValidationError("The date of birth cannot be in the future.")
    if value < date(1900, 1, 1):
        raise ValidationError("The date of birth must be after 1 January 1900.")


class ClinicQuerySet(models.QuerySet):
    def of_member(self, user):
        """The clinics `user` works in."""
        return self.filter(memberships__user=user)

    def administered_by(self, user):
        """The clinics `user` is a clinic admin of."""
        return self.filter(memberships__user=user, memberships__role=Membership.Role.ADMIN)


class Clinic(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default=default_time_zone, validators=[validate_time_zone])
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def today(self):
        """Today's date where the clinic is: due dates and visits are the clinic's days."""
        return timezone.localdate(timezone=ZoneInfo(self.time_zone))


class UserQuerySet(models.QuerySet):
    def patients(self):
        return self.filter(role=User.Role.PATIENT)

    def clinicians(self):
        return self.filter(role=User.Role.CLINICIAN)

    def visible_to(self, user):
        """Patients of the clinics `user` belongs to; nothing for anyone else."""
        if not (user.is_authenticated and user.is_clinician):
            return self.none()
        return self.patients().filter(clinic__memberships__user=user)

    def with_account_status(self, now=None):
        """Annotate `account_status`: inactive (deactivated by the clinic), active, invited,
        or not invited (no live link)."""
        pending = Invitation.objects.pending(now).filter(invitee=OuterRef("pk"))
        return self.annotate(
            account_status=Case(
                When(is_active=False, then=Value("inactive")),
                When(~Q(password__startswith=UNUSABLE_PASSWORD_PREFIX), then=Value("active")),
                When(Exists(pending), then=Value("invited")),
                default=Value("not_invited"),
            )
        )


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email):
        # Email addresses are stored lowercased so one person has one account.
        return (email or "").strip().lower()

    def get_by_natural_key(self, username):
        return self.get(email=self.normalize_email(username))

    def create_user(self, email, password=None, **fields):
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(role=User.Role.CLINICIAN, is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in. Patients belong to one clinic; clinicians join clinics
    through memberships. Content editors are clinicians in the content editors group.
    Caregivers belong to no clinic: they see what patients share with them (portal.caregivers)."""

    class Role(models.TextChoices):
        PATIENT = "patient", _("Patient")
        CLINICIAN = "clinician", _("Clinician")
        CAREGIVER = "caregiver", _("Caregiver")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # In unsubscribe links instead of `code`, which clinicians' URLs use: a link in an inbox
    # must not carry the record's identifier.
    unsubscribe_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="patients",
        help_text="The patient's clinic. Clinicians belong to clinics through memberships.",
    )
    date_of_birth = models.DateField(null=True, blank=True, validators=[validate_date_of_birth])
    record_number = models.CharField(max_length=50, blank=True)
    reminder_emails = models.BooleanField(
        default=True, help_text="Patients can switch off reminder emails on their settings page."
    )
    # Pages, emails and modules come in this language; the clinic sets a patient's at the
    # invitation and anyone can change their own on the settings page.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    # Reminders by text message instead of email, with the patient's recorded consent
    # (portal.SmsConsent): the mobile number in E.164, and the channel chosen.
    phone = models.CharField(max_length=20, blank=True)
    reminder_channel = models.CharField(
        max_length=8, choices=[("email", "email"), ("sms", "text message")], default="email"
    )
    # When the details the record system reads (FHIR Patient) last changed: set by every
    # service that changes them, so the record system can poll for changes since a time.
    updated_at = models.DateTimeField(auto_now=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can sign in to the admin site (content editors, support)."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role="patient", clinic__isnull=False)
                | Q(role__in=["clinician", "caregiver"], clinic__isnull=True),
                name="patient_has_one_clinic_clinician_none",
                violation_error_message="A patient must belong to exactly one clinic.",
            ),
            models.UniqueConstraint(
                fields=["clinic", "record_number"],
                condition=~Q(record_number=""),
                name="record_number_unique_per_clinic",
                violation_error_message="Another patient of this clinic has that record number.",
            ),
        ]
        indexes = [
            # The record system's poll for a clinic's changed patients (FHIR Patient), in order.
            models.Index(fields=["clinic", "updated_at", "id"], name="user_clinic_updated"),
        ]

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        # Sign-in looks addresses up lowercased; an account stored otherwise could never sign in.
        self.email = User.objects.normalize_email(self.email)

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name

    @property
    def is_patient(self):
        return self.role == self.Role.PATIENT

    @property
    def is_clinician(self):
        return self.role == self.Role.CLINICIAN

    @property
    def is_caregiver(self):
        return self.role == self.Role.CAREGIVER

    @property
    def is_content_editor(self):
        """Follows the groups relation: one query."""
        return self.is_clinician and self.groups.filter(name=CONTENT_EDITORS_GROUP).exists()

    def is_clinic_admin(self, clinic):
        """One query."""
        return Clinic.objects.administered_by(self).filter(pk=clinic.pk).exists()


class Membership(models.Model):
    """A clinician's place in a clinic. Clinic admins manage the clinic's staff."""

    class Role(models.TextChoices):
        CLINICIAN = "clinician", _("Clinician")
        ADMIN = "admin", _("Clinic admin")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CLINICIAN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "clinic"], name="one_membership_per_clinic"),
        ]

    def __str__(self):
        return f"{self.user} at {self.clinic} ({self.get_role_display()})"


class InvitationQuerySet(models.QuerySet):
    def pending(self, now=None):
        now = now or timezone.now()
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class Invitation(models.Model):
    """A one-time link that lets a new patient or clinician set their password, proving
    the address is theirs. Only the token's hash is stored, so a copy of the database
    cannot be used to take over an account."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be accepted")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Replaced by a newer link")
        EXPIRED = "expired", _("Expired")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    invitee = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    sent_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Re-sending revokes the old link first; the database holds us to it.
            models.UniqueConstraint(
                fields=["invitee"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_live_invitation_per_invitee",
            ),
        ]

    def __str__(self):
        return f"Invitation for {self.invitee} ({self.get_status_display()})"

    @property
    def status(self):
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    def get_status_display(self):
        return self.Status(self.status).label


class SignInLink(models.Model):
    """A one-time link that signs a patient in, emailed on request (`accounts.services.
    send_sign_in_link`): valid SIGN_IN_LINK_MINUTES, stored as a hash, used once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Sign-in link {self.pk} for {self.user}"
