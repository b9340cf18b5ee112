"""Celery tasks: thin wrappers that call portal.reminders and portal.services. Beat runs
the sweeps hourly and the overview's figures every few minutes (CELERY_BEAT_SCHEDULE);
without CELERY_BROKER_URL they run in-process."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections

from accounts.models import Clinic
from portal import reminders, services


@shared_task
def send_due_reminders():
    """Plan the patient reminders now due (and those about updated modules), then queue
    their delivery."""
    planned = reminders.plan_patient_reminders() + reminders.plan_update_reminders()
    return {"planned": planned, "batches": queue_deliveries()}


@shared_task
def requeue_pending_reminders():
    """Every two minutes: queue the rows nobody holds (never claimed, or a claim whose lease
    ran out after a crash) and give up on rows too old to keep trying."""
    return {"given_up": reminders.fail_expired(), "batches": queue_deliveries()}


@shared_task
def send_visit_digests():
    """Plan tomorrow's visit digests for clinicians, then queue their delivery."""
    planned = reminders.plan_visit_digests()
    return {"planned": planned, "batches": queue_deliveries()}


def queue_deliveries() -> int:
    batches = 0
    for batch in reminders.pending_recipient_batches():
        deliver_reminders.delay(batch)
        batches += 1
    return batches


@shared_task(bind=True, max_retries=settings.REMINDER_MAX_RETRIES)
def deliver_reminders(self, recipient_ids):
    """Send one batch; a mail server that is down is retried with exponential backoff."""
    countdown = settings.REMINDER_RETRY_SECONDS * 2**self.request.retries
    try:
        report = reminders.deliver_reminders(recipient_ids)
    except reminders.TransientDeliveryError as error:
        raise self.retry(exc=error, countdown=countdown) from error
    except (OperationalError, InterfaceError) as error:
        # The database restarted or is briefly away: drop the broken connection so the
        # retry opens a new one. Rows claimed before the error wait for their lease.
        close_old_connections()
        raise self.retry(exc=error, countdown=countdown) from error
    return {"sent": report.sent, "skipped": report.skipped, "failed": report.failed, "emails": report.emails}


@shared_task
def summarise_clinics():
    """Every few minutes: the clinic overview's figures of every clinic."""
    count = 0
    for clinic in Clinic.objects.order_by("pk").iterator():
        services.summarise_clinic(clinic)
        count += 1
    return {"clinics": count}
