from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from portal import demo


class Command(BaseCommand):
    help = (
        f"Create the demo clinic, its sign-ins, the demo patient's first steps and "
        f"{demo.DEMO_CLINIC_PATIENTS} synthetic patients with histories (idempotent); "
        f"--patients N adds exactly N more synthetic patients instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--patients",
            type=int,
            default=None,
            help=f"Add this many synthetic patients (default: up to {demo.DEMO_CLINIC_PATIENTS} in all).",
        )

    def handle(self, *args, patients, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run when PORTAL_ENV=production.")
        if patients is not None and patients < 0:
            raise CommandError("--patients must be 0 or more.")
        clinic = demo.seed_demo_accounts()
        demo.give_the_demo_patient_a_history()
        if patients is None:
            added = demo.top_up_synthetic_patients(clinic)
            count = demo.synthetic_patient_count(clinic)
            self.stdout.write(f"The demo clinic has {count} synthetic patients ({added} new).")
        elif patients:
            first = demo.add_synthetic_patients(clinic, patients)
            self.stdout.write(
                f"Added {patients} synthetic patients (numbers {first} to {first + patients - 1})."
            )
        demo.analyze_tables()
        self.stdout.write(f"\nDemo sign-ins for {clinic.name} (password: {demo.DEMO_PASSWORD}):")
        for account in demo.DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.description:<25} {account.email}")
        if settings.SENT_EMAILS_DIR:
            self.stdout.write(
                f"\nEmails are printed here and kept in {settings.SENT_EMAILS_DIR}; staff read them at "
                f"{settings.SITE_URL}{reverse('portal:dev_emails')}"
            )
