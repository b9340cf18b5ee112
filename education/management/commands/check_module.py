from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from education.content import ContentError, ModuleProblem, read_library, read_module


class Command(BaseCommand):
    help = "Check a module folder (or a library folder) against the authoring rules; writes nothing."

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="A module folder, or a folder of module folders.")

    def handle(self, *args, folder, **options):
        try:
            modules = [read_module(folder)] if (folder / "module.md").exists() else read_library(folder)
        except (ContentError, ModuleProblem) as error:
            raise CommandError(f"Not publishable:\n{error}") from error
        for module in modules:
            self.stdout.write(
                f"{module.slug}: {module.word_count} words, Flesch-Kincaid {module.reading_grade}, "
                f"SMOG {module.smog_grade}, {len(module.questions)} questions in "
                f"{len(module.concepts)} concepts, {len(module.sources)} sources: OK"
            )
            for code, t in module.translations.items():
                self.stdout.write(
                    f"  {code}: {t.word_count} words, Fernández-Huerta {t.fernandez_huerta}, "
                    f"Szigriszt-Pazos {t.szigriszt_pazos}, {len(t.questions)} questions, "
                    "the same blocks as the English: OK"
                )
            if not module.translations:
                self.stdout.write("  no Spanish version yet: Spanish readers get the English")
