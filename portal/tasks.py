"""Celery tasks: thin wrappers that call portal.reminders. Beat runs the sweeps hourly
(CELERY_BEAT_SCHEDULE); without CELERY_BROKER_URL they run in-process."""

from celery import shared_task
from django.conf import settings

from portal import reminders


@shared_task
def send_due_reminders():
    """Plan the patient reminders now due (and those about updated modules), then queue
    their delivery."""
    planned = reminders.plan_patient_reminders() + reminders.plan_update_reminders()
    return {"planned": planned, "batches": queue_deliveries()}


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
    try:
        report = reminders.deliver_reminders(recipient_ids)
    except reminders.TransientDeliveryError as error:
        countdown = settings.REMINDER_RETRY_SECONDS * 2**self.request.retries
        raise self.retry(exc=error, countdown=countdown) from error
    return {"sent": report.sent, "skipped": report.skipped, "failed": report.failed, "emails": report.emails}
