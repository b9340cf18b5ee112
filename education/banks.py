"""A version's quiz bank (questions and choices), read once per process: a version never
changes once loaded, and the quiz answer and the clinician's records read the same banks
on every request."""

from dataclasses import dataclass

from education.models import Choice, Question


@dataclass(frozen=True)
class QuizBank:
    """A version's questions and each question's choices in file order."""

    questions: dict[int, Question]
    choices: dict[int, list[Choice]]


def quiz_banks(versions) -> dict[int, QuizBank]:
    """The versions' banks by version id, those not read yet in this process in one query:
    a version never changes once loaded. Kept by id and code, which no other version ever
    has (an id can come back after a rollback)."""
    keys = {(version.pk, version.code) for version in versions}
    missing = {pk for pk, code in keys if (pk, code) not in _BANKS}
    if missing:
        if len(_BANKS) > MAX_BANKS_KEPT:
            _BANKS.clear()
        _BANKS.update(_read_banks(missing, codes=dict(keys)))
    return {pk: _BANKS[pk, code] for pk, code in keys}


_BANKS: dict[tuple, QuizBank] = {}
MAX_BANKS_KEPT = 1000  # far more versions than a library has; a bound all the same


def _read_banks(version_ids: set[int], codes: dict) -> dict[tuple, QuizBank]:
    banks = {(pk, codes[pk]): QuizBank({}, {}) for pk in version_ids}
    choices = (
        Choice.objects.filter(question__version__in=version_ids)
        .select_related("question")
        .order_by("question__version", "question__position", "position")
    )
    for choice in choices:
        question = choice.question
        bank = banks[question.version_id, codes[question.version_id]]
        bank.questions.setdefault(question.pk, question)
        bank.choices.setdefault(question.pk, []).append(choice)
    return banks
