from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal import demo


class Command(BaseCommand):
    help = "Create the demo clinic and sign-ins (idempotent); --patients N adds N synthetic patients."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=0, help="How many synthetic patients to add.")

    def handle(self, *args, patients, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run when PORTAL_ENV=production.")
        if patients < 0:
            raise CommandError("--patients must be 0 or more.")
        clinic = demo.seed_demo_accounts()
        if patients:
            first = demo.add_synthetic_patients(clinic, patients)
            self.stdout.write(
                f"Added {patients} synthetic patients (numbers {first} to {first + patients - 1})."
            )
        demo.analyze_tables()
        self.stdout.write(f"\nDemo sign-ins for {clinic.name} (password: {demo.DEMO_PASSWORD}):")
        for account in demo.DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.description:<15} {account.email}")
