from django.core.management.base import BaseCommand

from education import progress


class Command(BaseCommand):
    help = (
        "Recompute every patient's progress row (what the dashboard shows and sorts on) from "
        "the records. The services keep the rows up to date; run this after writing records "
        "around them, e.g. a restore or a manual fix."
    )

    def handle(self, *args, **options):
        count = progress.rebuild()
        self.stdout.write(f"Rebuilt the progress rows of {count} patient(s).")
