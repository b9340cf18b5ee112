from django.core.management.base import BaseCommand

from portal import reminders


class Command(BaseCommand):
    help = "Plan and send due patient reminders and tomorrow's visit digests once, in this process."

    def handle(self, *args, **options):
        planned = reminders.plan_patient_reminders() + reminders.plan_visit_digests()
        total = reminders.DeliveryReport()
        try:
            for batch in reminders.pending_recipient_batches():
                report = reminders.deliver_reminders(batch)
                total.sent += report.sent
                total.skipped += report.skipped
                total.failed += report.failed
                total.emails += report.emails
        except reminders.TransientDeliveryError as error:
            self.stderr.write(f"The mail server is not available ({error}); the next sweep will retry.")
        self.stdout.write(
            f"Planned {planned} reminders; sent {total.sent} in {total.emails} emails, "
            f"skipped {total.skipped} no longer due, {total.failed} failed."
        )
