import shutil

from django.core.management import BaseCommand, CommandError, call_command

from portal import translations

# Sources only: the virtual environment and the tests hold no interface text.
IGNORED = [".venv", "tests", "benchmarks", "staticfiles", "var"]


class Command(BaseCommand):
    help = (
        "Compile the translation catalogues; with --check, first gather every marked string "
        "(makemessages, which needs GNU gettext) and fail if any has no translation or a fuzzy one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="gather strings and fail on a missing one")

    def handle(self, *args, check=False, **options):
        if check:
            self._gather()
        problems = []
        for language, po_path in translations.CATALOGUES.items():
            if check:
                problems += [f"{po_path}: {problem}" for problem in translations.missing(po_path)]
            translations.compile_catalogue(po_path)
            self.stdout.write(f"{language}: compiled {po_path.with_suffix('.mo').name}")
        if problems:
            raise CommandError(
                f"{len(problems)} string(s) would show in English to a Spanish reader:\n"
                + "\n".join(problems)
            )

    def _gather(self):
        if shutil.which("xgettext") is None:
            raise CommandError("makemessages needs GNU gettext: apt-get install gettext")
        languages = list(translations.CATALOGUES)
        call_command("makemessages", locale=languages, ignore_patterns=IGNORED, no_obsolete=True, verbosity=0)
