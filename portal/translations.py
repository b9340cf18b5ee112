"""The interface's Spanish catalogue: where it is, what it lacks, and its compiled form.

`locale/es/LC_MESSAGES/django.po` is the source, kept in git; the `.mo` that Django reads
is built from it by `make` (with polib, so no gettext tools are needed to run the portal).
A string with no Spanish shows in English; CI refuses a catalogue that has one.
"""

from pathlib import Path

import polib
from django.conf import settings

CATALOGUES = {
    language: settings.BASE_DIR / "locale" / language / "LC_MESSAGES" / "django.po"
    for language, _ in settings.LANGUAGES
    if language != settings.LANGUAGE_CODE
}


def missing(po_path: Path) -> list[str]:
    """Each string of `po_path` that has no translation, or only a fuzzy (unchecked) one."""
    catalogue = polib.pofile(str(po_path))
    untranslated = [f"untranslated: {entry.msgid!r}" for entry in catalogue.untranslated_entries()]
    fuzzy = [f"fuzzy: {entry.msgid!r}" for entry in catalogue.fuzzy_entries()]
    return untranslated + fuzzy


def compile_catalogue(po_path: Path) -> Path:
    mo_path = po_path.with_suffix(".mo")
    polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
    return mo_path
