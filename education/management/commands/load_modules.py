from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from education import services
from education.content import CONTENT_DIR, ContentError


class Command(BaseCommand):
    help = "Publish the module library from education/content/: changed files become new versions."

    def add_arguments(self, parser):
        parser.add_argument(
            "--from", dest="content_dir", type=Path, default=CONTENT_DIR, help="The library folder to load."
        )

    def handle(self, *args, content_dir, **options):
        try:
            report = services.load_library(content_dir)
        except ContentError as error:
            raise CommandError("Nothing was loaded. Fix these files first:\n" + str(error)) from error
        for label, slugs in (("new", report.created), ("new version", report.updated)):
            for slug in slugs:
                self.stdout.write(f"  {label}: {slug}")
        self.stdout.write(
            f"Modules: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged."
        )
