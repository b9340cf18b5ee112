from django.core.management.base import BaseCommand

from portal import reminders


class Command(BaseCommand):
    help = (
        "The reminder outbox for operators: pending rows, stale claims, overdue rows, failures "
        "in the last day. Exits 1 when a claim is stale or a row overdue (see docs/operations.md)."
    )

    def handle(self, *args, **options):
        health = reminders.outbox_health()
        self.stdout.write(
            f"pending {health.pending}; stale claims {health.stale_claims}; overdue {health.overdue}; "
            f"failed in the last day {health.failed_last_day}"
        )
        if not health.healthy:
            self.stderr.write("ALERT: reminders are stuck. See docs/operations.md, 'Reminders are stuck'.")
            raise SystemExit(1)
