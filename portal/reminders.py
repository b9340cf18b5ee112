"""Reminders and visit digests: planned into an outbox, delivered once.

Guarantee: each reminder row is planned at most once (unique per assignment and kind, or
per visit for digests) and emailed at most once in normal operation. A delivery claims
its rows with a conditional UPDATE, so two workers never send the same row; rows are
marked sent once their email is accepted (in groups of ten emails), so a worker killed
before that leaves them pending, and once the claim's lease expires the next sweep
sends them. The window left is a crash between the mail server accepting emails and the
database recording them: at most the last ten emails of a batch can go out a second
time. Nothing is ever lost.

What an email says: the clinic's name, how many items wait, a link. Never a module,
a medicine, a score or a patient's name.
"""

import datetime
import logging
import smtplib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from accounts.emails import templated_email
from accounts.models import Clinic, User
from education.models import Assignment
from portal import sms
from portal.models import FollowUpVisit, Reminder

logger = logging.getLogger(__name__)

PLAN_BATCH_SIZE = 2000
DELIVERY_BATCH_SIZE = 200
UNSUBSCRIBE_SALT = "portal.reminders.unsubscribe"
# Which open assignments each kind of patient reminder is for, given the clinic's today.
PATIENT_REMINDERS = {
    Reminder.Kind.DUE_SOON: lambda today: Q(
        due_date__gte=today, due_date__lte=today + datetime.timedelta(days=2)
    ),
    Reminder.Kind.OVERDUE: lambda today: Q(due_date__lte=today - datetime.timedelta(days=1)),
    Reminder.Kind.STILL_OVERDUE: lambda today: Q(due_date__lte=today - datetime.timedelta(days=7)),
}


class TransientDeliveryError(Exception):
    """The mail server could not be reached or asked us to try later."""


# Planning ---------------------------------------------------------------------------------


def plan_patient_reminders(now: datetime.datetime | None = None) -> int:
    """Write the reminder rows now due, in batches of fixed size; returns how many."""
    now = now or timezone.now()
    created = 0
    for clinic in Clinic.objects.order_by("pk").iterator():
        today = timezone.localdate(now, ZoneInfo(clinic.time_zone))
        for kind, window in PATIENT_REMINDERS.items():
            already = Reminder.objects.filter(assignment=OuterRef("pk"), kind=kind)
            due = (
                Assignment.objects.open()
                .filter(
                    window(today),
                    patient__clinic=clinic,
                    patient__is_active=True,
                    patient__reminder_emails=True,
                )
                .exclude(patient__password__startswith=UNUSABLE_PASSWORD_PREFIX)
                .exclude(Exists(already))
                .order_by()
                .values_list("pk", "patient_id")
            )
            created += _insert_in_batches(
                Reminder(kind=kind, assignment_id=pk, recipient_id=patient_id)
                for pk, patient_id in due.iterator()
            )
    return created


def plan_update_reminders() -> int:
    """One reminder per update a patient was asked to acknowledge again (open or completed
    assignments alike): the update's date is part of the row's identity."""
    already = Reminder.objects.filter(
        assignment=OuterRef("pk"), kind=Reminder.Kind.UPDATED, update_at=OuterRef("reacknowledge_since")
    )
    due = (
        Assignment.objects.not_cancelled()
        .filter(reacknowledge_since__isnull=False, patient__is_active=True, patient__reminder_emails=True)
        .exclude(patient__password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .exclude(Exists(already))
        .order_by()
        .values_list("pk", "patient_id", "reacknowledge_since")
    )
    return _insert_in_batches(
        Reminder(kind=Reminder.Kind.UPDATED, assignment_id=pk, recipient_id=patient_id, update_at=since)
        for pk, patient_id, since in due.iterator()
    )


def plan_visit_digests(now: datetime.datetime | None = None) -> int:
    """One digest row per visit taking place tomorrow in its clinic's time zone; a visit
    moved to another day after its digest went out gets one for the new day."""
    now = now or timezone.now()
    created = 0
    for clinic in Clinic.objects.order_by("pk").iterator():
        zone = ZoneInfo(clinic.time_zone)
        tomorrow = timezone.localdate(now, zone) + datetime.timedelta(days=1)
        start = datetime.datetime.combine(tomorrow, datetime.time.min, tzinfo=zone)
        already = Reminder.objects.filter(
            visit=OuterRef("pk"), kind=Reminder.Kind.VISIT_DIGEST, visit_at=OuterRef("scheduled_at")
        )
        visits = (
            FollowUpVisit.objects.still_planned()
            .filter(
                patient__clinic=clinic,
                scheduled_at__gte=start,
                scheduled_at__lt=start + datetime.timedelta(days=1),
                clinician__is_active=True,
            )
            .exclude(Exists(already))
            .order_by()
            .values_list("pk", "clinician_id", "scheduled_at")
        )
        created += _insert_in_batches(
            Reminder(kind=Reminder.Kind.VISIT_DIGEST, visit_id=pk, recipient_id=clinician_id, visit_at=at)
            for pk, clinician_id, at in visits.iterator()
        )
    return created


def _insert_in_batches(rows) -> int:
    """Insert rows a batch at a time, so memory does not grow with the number planned."""
    created, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) == PLAN_BATCH_SIZE:
            created += _insert(batch)
            batch = []
    return created + (_insert(batch) if batch else 0)


def _insert(batch) -> int:
    # Rows that exist are excluded by the query; a conflict here means another sweep
    # planned the same row a moment ago, and the database keeps just one.
    Reminder.objects.bulk_create(batch, ignore_conflicts=True)
    return len(batch)


# Delivery ---------------------------------------------------------------------------------


def pending_recipient_batches(batch_size: int = DELIVERY_BATCH_SIZE):
    """The recipients with reminders to send, a batch of ids at a time."""
    lease = datetime.timedelta(minutes=settings.REMINDER_LEASE_MINUTES)
    recipients = (
        Reminder.objects.claimable(timezone.now(), lease)
        .order_by("recipient_id")
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    batch = []
    for recipient_id in recipients.iterator(chunk_size=batch_size):
        batch.append(recipient_id)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class DeliveryReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    emails: int = 0
    texts: int = 0
    deferred: int = 0  # text messages held back by the quiet hours, for the next sweep
    counts: Counter = field(default_factory=Counter)


def deliver_reminders(recipient_ids: list[int]) -> DeliveryReport:
    """Send each recipient one email for all their claimable reminders.

    Raises TransientDeliveryError when the mail server is unavailable; the rows not yet
    sent are released for the retry. A refused address fails only that recipient's rows."""
    claim, now = uuid.uuid4(), timezone.now()
    lease = datetime.timedelta(minutes=settings.REMINDER_LEASE_MINUTES)
    Reminder.objects.claimable(now, lease).filter(recipient__in=recipient_ids).update(
        claim=claim, claimed_at=now, attempts=F("attempts") + 1
    )
    claimed = Reminder.objects.filter(claim=claim).select_related(
        "recipient__clinic", "assignment", "visit__patient__clinic"
    )
    by_recipient = {}
    for reminder in claimed:
        by_recipient.setdefault(reminder.recipient_id, []).append(reminder)
    waiting = _open_assignment_counts(by_recipient)
    report = DeliveryReport()
    sent = SentMarks()
    mail = get_connection()
    try:
        for reminders in by_recipient.values():
            _deliver_to_one(reminders, waiting, mail, report, sent)
    except TransientDeliveryError as error:
        sent.flush()
        # This batch's rows past the give-up age fail now; the rest are released for the retry.
        fail_expired(claim=claim, now=now)
        Reminder.objects.filter(claim=claim, sent_at__isnull=True, failed_at__isnull=True).update(
            claim=None, claimed_at=None, error=str(error)[:200]
        )
        raise
    finally:
        sent.flush()
        mail.close()
    return report


def sent_mark_group() -> int:
    """How many accepted emails a process may hold before writing their sent marks: the
    worker's duplicate bound shared among its processes (10 with 2 processes: 5 each)."""
    return max(1, settings.REMINDER_MAX_DUPLICATES_PER_WORKER // max(1, settings.CELERY_WORKER_CONCURRENCY))


class SentMarks:
    """Rows whose email the mail server accepted, written a few emails at a time: one
    UPDATE per email cost more than the email itself. A worker killed before a write can
    resend at most REMINDER_MAX_DUPLICATES_PER_WORKER emails once the claims expire, all its
    processes together; it loses none."""

    def __init__(self):
        self.pks, self.emails, self.group = [], 0, sent_mark_group()

    def add(self, pks) -> None:
        self.pks.extend(pks)
        self.emails += 1
        if self.emails >= self.group:
            self.flush()

    def flush(self) -> None:
        if self.pks:
            Reminder.objects.filter(pk__in=self.pks).update(sent_at=timezone.now(), claim=None)
        self.pks, self.emails = [], 0


def _open_assignment_counts(by_recipient) -> dict[int, int]:
    patients = [pk for pk, reminders in by_recipient.items() if reminders[0].assignment_id]
    counts = (
        Assignment.objects.open()
        .filter(patient__in=patients)
        .values("patient")
        .annotate(n=Count("pk"))
        .values_list("patient", "n")
    )
    return dict(counts)


def _deliver_to_one(reminders, waiting, mail, report, sent) -> None:
    recipient = reminders[0].recipient
    due = [r for r in reminders if _still_due(r)]
    stale = [r.pk for r in reminders if r not in due]
    if stale:
        Reminder.objects.filter(pk__in=stale).update(skipped_at=timezone.now(), claim=None)
        report.skipped += len(stale)
    if not due:
        return
    if recipient.is_patient and not recipient.reminder_emails:
        Reminder.objects.filter(pk__in=[r.pk for r in due]).update(skipped_at=timezone.now(), claim=None)
        report.skipped += len(due)
        return
    if recipient.is_patient and recipient.reminder_channel == "sms" and recipient.phone:
        _text_one(recipient, due, report, sent)
        return
    if not (recipient.email and recipient.is_active):
        _fail(due, "no usable address", report)
        return
    message = (
        _patient_email(recipient, waiting.get(recipient.pk, 0))
        if due[0].assignment_id
        else _digest_email(due)
    )
    message.connection = mail
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        refusal = permanent_refusal(error)
        if refusal is None:
            raise TransientDeliveryError(smtp_reason(error)) from error
        _fail(due, refusal, report)
        return
    sent.add([r.pk for r in due])
    report.sent += len(due)
    report.emails += 1
    report.counts.update(r.kind for r in due)


def _text_one(recipient, due, report, sent) -> None:
    """The same reminder as the email, by text message: one per patient per sweep, under
    the same claim, marks and retries; in the quiet hours the rows wait for the next sweep."""
    if not recipient.is_active:
        _fail(due, "no usable address", report)
        return
    if sms.in_quiet_hours(recipient):
        Reminder.objects.filter(pk__in=[r.pk for r in due]).update(
            claim=None, claimed_at=None, attempts=F("attempts") - 1
        )
        report.deferred += len(due)
        return
    try:
        sms.backend().send(recipient.phone, sms.reminder_text(recipient))
    except sms.TransientSmsError as error:
        raise TransientDeliveryError(str(error)) from error
    except sms.PermanentSmsError as error:
        _fail(due, str(error)[:200], report)
        return
    sent.add([r.pk for r in due])
    report.sent += len(due)
    report.texts += 1
    report.counts.update(r.kind for r in due)


@dataclass(frozen=True)
class OutboxHealth:
    pending: int
    stale_claims: int  # claimed by a delivery whose lease ran out: a worker died
    overdue: int  # unsent longer than a lease and the two-minute requeue should allow
    failed_last_day: int

    @property
    def healthy(self) -> bool:
        return not (self.stale_claims or self.overdue)


def outbox_health(now: datetime.datetime | None = None) -> OutboxHealth:
    """The outbox as an operator watches it (one query)."""
    now = now or timezone.now()
    lease = datetime.timedelta(minutes=settings.REMINDER_LEASE_MINUTES)
    pending = Q(sent_at__isnull=True, failed_at__isnull=True, skipped_at__isnull=True)
    counts = Reminder.objects.aggregate(
        pending=Count("pk", filter=pending),
        stale_claims=Count("pk", filter=pending & Q(claimed_at__lt=now - lease)),
        overdue=Count("pk", filter=pending & Q(created_at__lt=now - lease - datetime.timedelta(minutes=5))),
        failed_last_day=Count("pk", filter=Q(failed_at__gte=now - datetime.timedelta(days=1))),
    )
    return OutboxHealth(**counts)


def permanent_refusal(error: Exception) -> str | None:
    """The reason to fail a recipient's rows for good, or None to retry later.

    Only a 5xx answer about this message or this address is final: a refused address at
    RCPT, or a refused message at DATA. Every 4xx (greylisting, "try later" at any step),
    a 5xx to our own sender or greeting (the server's set-up, not the patient's address),
    a dropped connection or a network error is temporary."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return "address refused by the mail server" if codes and min(codes) >= 500 else None
    if isinstance(error, smtplib.SMTPDataError) and 500 <= error.smtp_code < 600:
        return f"message refused by the mail server ({error.smtp_code})"
    return None


def smtp_reason(error: Exception) -> str:
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code = min(code for code, _ in error.recipients.values())
    return f"mail server answered {code}" if code else type(error).__name__


def fail_expired(claim=None, now: datetime.datetime | None = None) -> int:
    """Rows still unsent REMINDER_GIVE_UP_HOURS after they were planned fail, saying so, so
    a mail server that never recovers does not keep them forever. With a claim, only that
    delivery's rows; without, the whole outbox (the two-minute task)."""
    now = now or timezone.now()
    too_old = now - datetime.timedelta(hours=settings.REMINDER_GIVE_UP_HOURS)
    rows = Reminder.objects.pending().filter(created_at__lt=too_old)
    if claim is not None:
        rows = rows.filter(claim=claim)
    expired = list(rows.values_list("code", flat=True))
    if expired:
        rows.update(
            failed_at=now, error=f"not delivered within {settings.REMINDER_GIVE_UP_HOURS} hours", claim=None
        )
        logger.warning(
            "Reminders %s given up after repeated temporary failures", ", ".join(map(str, expired))
        )
    return len(expired)


def _still_due(reminder: Reminder) -> bool:
    """An assignment completed or cancelled, an update acknowledged, or a visit held,
    cancelled, missed or moved, since planning: no email."""
    if reminder.kind == Reminder.Kind.UPDATED:
        assignment = reminder.assignment
        return not assignment.cancelled_at and assignment.reacknowledge_since == reminder.update_at
    if reminder.assignment_id:
        assignment = reminder.assignment
        return not (assignment.completed_at or assignment.cancelled_at)
    visit = reminder.visit
    return visit.state == "planned" and visit.scheduled_at == reminder.visit_at


def _fail(reminders, reason: str, report) -> None:
    Reminder.objects.filter(pk__in=[r.pk for r in reminders]).update(
        failed_at=timezone.now(), error=reason, claim=None
    )
    report.failed += len(reminders)
    # Codes only: a log line must not say who was reminded of what.
    logger.warning("Reminders %s not sent: %s", ", ".join(str(r.code) for r in reminders), reason)


# The emails ---------------------------------------------------------------------------------


def _patient_email(patient: User, waiting: int) -> EmailMultiAlternatives:
    unsubscribe = settings.SITE_URL + reverse("portal:unsubscribe", args=[unsubscribe_token(patient)])
    context = {
        "clinic_name": patient.clinic.name,
        "waiting": waiting,
        "link": settings.SITE_URL + reverse("education:my_modules"),
        "unsubscribe": unsubscribe,
    }
    return templated_email("reminder", context, patient, headers={"List-Unsubscribe": f"<{unsubscribe}>"})


def _digest_email(reminders) -> EmailMultiAlternatives:
    clinician = reminders[0].recipient
    clinics = sorted({r.visit.patient.clinic.name for r in reminders})
    context = {
        "clinic_name": ", ".join(clinics),
        "visits": len(reminders),
        "link": settings.SITE_URL + reverse("portal:dashboard") + "?status=visit_soon",
    }
    return templated_email("visit_digest", context, clinician)


UNSUBSCRIBE_VALID_DAYS = 60


class UnsubscribeLinkExpired(Exception):
    """A genuine link older than UNSUBSCRIBE_VALID_DAYS."""


def unsubscribe_token(patient: User) -> str:
    """Signed and dated; it carries the patient's unsubscribe key, never their record code."""
    return signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).sign(patient.unsubscribe_key.hex)


def patient_for_unsubscribe(token: str) -> User | None:
    """The patient a genuine, unexpired link names; None if it is forged. Raises
    UnsubscribeLinkExpired for a genuine link that is too old."""
    max_age = datetime.timedelta(days=UNSUBSCRIBE_VALID_DAYS)
    try:
        key = signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise UnsubscribeLinkExpired from None
    except signing.BadSignature:
        return None
    return User.objects.patients().filter(unsubscribe_key=key).first()


@transaction.atomic
def unsubscribe(token: str) -> User | None:
    """Switch off reminder emails for the patient the link names; None if it is forged.
    Raises UnsubscribeLinkExpired for an expired link."""
    patient = patient_for_unsubscribe(token)
    if patient:
        set_reminder_emails(patient=patient, enabled=False)
    return patient


def set_reminder_emails(*, patient: User, enabled: bool) -> None:
    """Switch the patient's reminder emails on or off; planned reminders not yet sent are
    dropped when they come to be delivered."""
    User.objects.filter(pk=patient.pk).update(reminder_emails=enabled)
    patient.reminder_emails = enabled
