from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from education import services
from education.content import CONTENT_DIR, ContentError


class Command(BaseCommand):
    help = (
        "Load the module library from education/content/: changed files become draft versions, "
        "which a content editor approves before patients see them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from", dest="content_dir", type=Path, default=CONTENT_DIR, help="The library folder to load."
        )
        parser.add_argument(
            "--by",
            dest="editor",
            help="The email of the content editor loading the drafts (two-person review).",
        )

    def handle(self, *args, content_dir, editor, **options):
        loaded_by = self._editor(editor)
        try:
            report = services.load_library(content_dir, loaded_by=loaded_by)
        except ContentError as error:
            raise CommandError("Nothing was loaded. Fix these files first:\n" + str(error)) from error
        for label, slugs in (("new draft", report.created), ("new draft", report.updated)):
            for slug in slugs:
                self.stdout.write(f"  {label}: {slug}")
        self.stdout.write(
            f"Modules: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged. New versions are drafts until an editor approves them."
        )

    def _editor(self, email):
        """Under two-person review the loader must be named: they may not approve their own drafts."""
        if email is None:
            if settings.TWO_PERSON_REVIEW:
                raise CommandError("Two-person review is on: say who loads the drafts with --by EMAIL.")
            return None
        editor = User.objects.filter(email=User.objects.normalize_email(email)).first()
        if editor is None or not editor.is_content_editor:
            raise CommandError(f"{email} is not a content editor.")
        return editor
