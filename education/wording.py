"""Words that pages draw in Python rather than in templates (badges, buttons, table rows),
built once per language and process: translating them on every row was most of a row's
time, and building them at import would fix them in one language."""

from django.utils import translation

_BUILT: dict[tuple[type, str | None], object] = {}


class PerLanguage:
    """A set of words with `translated()`, a classmethod building it in the active
    language; `current()` gives the one for the active language."""

    @classmethod
    def current(cls):
        key = (cls, translation.get_language())
        words = _BUILT.get(key)
        if words is None:
            words = _BUILT[key] = cls.translated()
        return words

    @classmethod
    def translated(cls):
        raise NotImplementedError
