"""Reading the module library from files, and refusing what must not be published.

Each module is a folder `education/content/<slug>/` with `module.md` (a TOML header
between `+++` lines, then the Markdown body) and `quiz.toml`. Parsing touches no database:
`load_library` in services checks every file first and writes only if all are good.
"""

import datetime
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from education.models import Module
from education.quiz import MIN_CONCEPTS_PER_ATTEMPT
from education.rendering import body_text, reading_grade, render_markdown, sections, word_count

CONTENT_DIR = settings.BASE_DIR / "education" / "content"
MAX_READING_GRADE = 8
MIN_WORDS, MAX_WORDS = 400, 900
MIN_BANK_SIZE = 10
CHOICES_PER_QUESTION = 4
# A patient who always picks the longest choice must not pass: with five questions drawn
# and a pass mark of 80, the right answer may be the longest in at most 40 % of the bank.
MAX_LONGEST_RIGHT_SHARE = 0.4
DEFAULT_REVEAL_AFTER_FAILS = 3
# Choices nobody would pick: they make the right answer easy to find without reading.
THROWAWAY_CHOICE = re.compile(
    r"\b(?:none of (?:these|the above|them)|all of (?:these|the above)|nothing much|"
    r"(?:has|have) nothing to do with|i don.t know|no idea)\b",
    re.IGNORECASE,
)
CARE_TEAM_MESSAGE = "talk to your care team"
HEADER_KEYS = {
    "title",
    "topic",
    "summary",
    "minutes_to_read",
    "sources",
    "reviewer",
    "reviewed_on",
    "pass_mark",
    "material_change",
    "reveal_answers_after_fails",
}
REQUIRED_HEADER_KEYS = HEADER_KEYS - {"material_change", "reveal_answers_after_fails"}
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# The red lines: the portal never gives a dose and never sells.
DOSE = re.compile(r"\b\d+(?:\.\d+)?\s?(?:mg|milligrams?|mcg|micrograms?)\b", re.IGNORECASE)
SALES = re.compile(r"\$\s?\d|\b(?:buy|order online|discount|coupon|per pill)\b", re.IGNORECASE)


class ContentError(Exception):
    """One or more module files cannot be published; each message names its file."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ChoiceSource:
    text: str
    is_correct: bool
    explanation: str


@dataclass(frozen=True)
class QuestionSource:
    text: str
    concept: str
    section: str
    choices: list[ChoiceSource]


@dataclass(frozen=True)
class ModuleSource:
    slug: str
    title: str
    topic: str
    summary: str
    minutes_to_read: int
    sources: list[str]
    reviewer: str
    reviewed_on: datetime.date
    pass_mark: int
    material_change: bool
    reveal_answers_after_fails: int
    body_markdown: str
    body_html: str
    reading_grade: float
    word_count: int
    content_hash: str
    sections: dict[str, str] = field(default_factory=dict)
    concepts: dict[str, str] = field(default_factory=dict)
    questions: list[QuestionSource] = field(default_factory=list)


class _Problem(Exception):
    """A problem with one file; becomes a line of ContentError."""


def read_library(content_dir: Path = CONTENT_DIR) -> list[ModuleSource]:
    """Every module under `content_dir`, or ContentError listing every bad file."""
    folders = sorted(path for path in content_dir.iterdir() if path.is_dir())
    modules, problems = [], []
    for folder in folders:
        try:
            modules.append(read_module(folder))
        except _Problem as problem:
            problems.append(str(problem))
    if not folders:
        problems.append(f"{content_dir}: no module folders found")
    if problems:
        raise ContentError(problems)
    return modules


def read_module(folder: Path) -> ModuleSource:
    if not SLUG.match(folder.name):
        raise _Problem(f"{folder}: the folder name must be a slug such as sleep-medicines")
    module_file, quiz_file = folder / "module.md", folder / "quiz.toml"
    module_bytes, quiz_bytes = _read(module_file), _read(quiz_file)
    header, body = _split_front_matter(module_file, module_bytes.decode())
    _check_header(module_file, header)
    body_html = render_markdown(body)
    text = body_text(body_html)
    _check_body(module_file, body, text)
    module_sections = sections(body_html)
    concepts, questions = _read_quiz(quiz_file, quiz_bytes.decode(), module_sections)
    return ModuleSource(
        slug=folder.name,
        title=header["title"].strip(),
        topic=header["topic"],
        summary=header["summary"].strip(),
        minutes_to_read=header["minutes_to_read"],
        sources=[source.strip() for source in header["sources"]],
        reviewer=header["reviewer"].strip(),
        reviewed_on=header["reviewed_on"],
        pass_mark=header["pass_mark"],
        material_change=header.get("material_change", True),
        reveal_answers_after_fails=header.get("reveal_answers_after_fails", DEFAULT_REVEAL_AFTER_FAILS),
        body_markdown=body,
        body_html=body_html,
        reading_grade=reading_grade(text),
        word_count=word_count(text),
        content_hash=hashlib.sha256(module_bytes + b"\0" + quiz_bytes).hexdigest(),
        sections=module_sections,
        concepts=concepts,
        questions=questions,
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise _Problem(f"{path}: file is missing") from None


def _split_front_matter(path: Path, text: str) -> tuple[dict, str]:
    parts = text.split("+++\n", 2)
    if len(parts) != 3 or parts[0].strip():
        raise _Problem(f"{path}: must start with a TOML header between two '+++' lines")
    try:
        header = tomllib.loads(parts[1])
    except tomllib.TOMLDecodeError as error:
        raise _Problem(f"{path}: the header is not valid TOML ({error})") from None
    return header, parts[2].strip() + "\n"


def _check_header(path: Path, header: dict) -> None:
    unknown = sorted(set(header) - HEADER_KEYS)
    if unknown:
        raise _Problem(f"{path}: unknown header field(s) {', '.join(unknown)}")
    missing = sorted(key for key in REQUIRED_HEADER_KEYS if not header.get(key))
    if missing:
        raise _Problem(f"{path}: no {', '.join(missing)} in the header")
    for key in ("title", "summary", "reviewer"):
        if not isinstance(header[key], str) or not header[key].strip():
            raise _Problem(f"{path}: {key} must be text")
    if header["topic"] not in Module.Topic.values:
        raise _Problem(
            f"{path}: unknown topic {header['topic']!r}; use one of {', '.join(Module.Topic.values)}"
        )
    sources = header["sources"]
    if not isinstance(sources, list) or not all(isinstance(s, str) and s.strip() for s in sources):
        raise _Problem(f"{path}: sources must be a list of citations")
    if not isinstance(header["reviewed_on"], datetime.date):
        raise _Problem(f"{path}: reviewed_on must be a date such as 2026-11-20")
    if not isinstance(header["minutes_to_read"], int) or header["minutes_to_read"] < 1:
        raise _Problem(f"{path}: minutes_to_read must be a whole number of minutes")
    if not isinstance(header["pass_mark"], int) or not 1 <= header["pass_mark"] <= 100:
        raise _Problem(f"{path}: pass_mark must be a percentage from 1 to 100")
    if not isinstance(header.get("material_change", True), bool):
        raise _Problem(f"{path}: material_change must be true or false")
    reveal = header.get("reveal_answers_after_fails", DEFAULT_REVEAL_AFTER_FAILS)
    if not isinstance(reveal, int) or isinstance(reveal, bool) or not 1 <= reveal <= 10:
        raise _Problem(f"{path}: reveal_answers_after_fails must be a whole number from 1 to 10")


def _check_body(path: Path, body: str, text: str) -> None:
    if re.search(r"^# ", body, re.MULTILINE):
        raise _Problem(f"{path}: start headings at '##'; the title is the page's heading")
    words = word_count(text)
    if not MIN_WORDS <= words <= MAX_WORDS:
        raise _Problem(f"{path}: the body has {words} words; it must have {MIN_WORDS} to {MAX_WORDS}")
    grade = reading_grade(text)
    if grade > MAX_READING_GRADE:
        raise _Problem(
            f"{path}: reading grade {grade} is above {MAX_READING_GRADE}; use shorter sentences and words"
        )
    if CARE_TEAM_MESSAGE not in " ".join(text.lower().split()):
        raise _Problem(f"{path}: the body must tell the reader to {CARE_TEAM_MESSAGE!r}")
    for pattern, what in ((DOSE, "a dose"), (SALES, "a price or a sales word")):
        found = pattern.search(body)
        if found:
            raise _Problem(f"{path}: the body mentions {what} ({found.group(0)!r}); modules never do")


def _read_quiz(
    path: Path, text: str, module_sections: dict[str, str]
) -> tuple[dict[str, str], list[QuestionSource]]:
    """The concepts and the question bank, or the first reason to refuse them."""
    try:
        quiz = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _Problem(f"{path}: not valid TOML ({error})") from None
    unknown = sorted(set(quiz) - {"concepts", "questions"})
    if unknown:
        raise _Problem(f"{path}: unknown table(s) {', '.join(unknown)}; use [concepts] and [[questions]]")
    concepts = _read_concepts(path, quiz.get("concepts"))
    questions = quiz.get("questions")
    if not isinstance(questions, list) or len(questions) < MIN_BANK_SIZE:
        found = len(questions) if isinstance(questions, list) else 0
        raise _Problem(f"{path}: the bank has {found} [[questions]]; it needs at least {MIN_BANK_SIZE}")
    bank = [
        _read_question(path, number, question, concepts, module_sections)
        for number, question in enumerate(questions, 1)
    ]
    _check_bank(path, bank, concepts)
    return concepts, bank


def _read_concepts(path: Path, concepts) -> dict[str, str]:
    if not isinstance(concepts, dict) or not concepts:
        raise _Problem(f"{path}: no [concepts] table naming the safety points the questions check")
    for key, label in concepts.items():
        if not SLUG.match(key):
            raise _Problem(f"{path}: concept {key!r} must be a slug such as never-stop-suddenly")
        if not isinstance(label, str) or not label.strip():
            raise _Problem(f"{path}: concept {key!r} needs a description")
    return {key: label.strip() for key, label in concepts.items()}


def _read_question(
    path: Path, number: int, question: dict, concepts: dict[str, str], module_sections: dict[str, str]
) -> QuestionSource:
    where = f"{path}: question {number}"
    if not str(question.get("text", "")).strip():
        raise _Problem(f"{where} has no text")
    concept, section = question.get("concept"), question.get("section")
    if concept not in concepts:
        raise _Problem(f"{where}: concept {concept!r} is not in [concepts]")
    if section not in module_sections:
        raise _Problem(
            f"{where}: section {section!r} is not a heading of the module; "
            f"use one of {', '.join(module_sections)}"
        )
    choices = question.get("choices")
    if not isinstance(choices, list) or len(choices) != CHOICES_PER_QUESTION:
        raise _Problem(f"{where} must have exactly {CHOICES_PER_QUESTION} choices")
    if sum(1 for choice in choices if choice.get("correct") is True) != 1:
        raise _Problem(f"{where} must have exactly one correct choice")
    for letter, choice in zip("ABCD", choices, strict=False):
        if not str(choice.get("text", "")).strip():
            raise _Problem(f"{where}, choice {letter} has no text")
        if not str(choice.get("explanation", "")).strip():
            raise _Problem(f"{where}, choice {letter} has no explanation")
        throwaway = THROWAWAY_CHOICE.search(choice["text"])
        if throwaway:
            raise _Problem(
                f"{where}, choice {letter} is a throwaway ({throwaway.group(0)!r}); "
                "write a mistake a patient could believe"
            )
    return QuestionSource(
        text=question["text"].strip(),
        concept=concept,
        section=section,
        choices=[
            ChoiceSource(c["text"].strip(), c.get("correct") is True, c["explanation"].strip())
            for c in choices
        ],
    )


def _check_bank(path: Path, bank: list[QuestionSource], concepts: dict[str, str]) -> None:
    used = {question.concept for question in bank}
    if len(used) < MIN_CONCEPTS_PER_ATTEMPT:
        raise _Problem(
            f"{path}: the questions check {len(used)} concept(s); an attempt needs at least "
            f"{MIN_CONCEPTS_PER_ATTEMPT}"
        )
    unused = sorted(set(concepts) - used)
    if unused:
        raise _Problem(f"{path}: no question checks concept(s) {', '.join(unused)}")
    cued = [number for number, question in enumerate(bank, 1) if _right_is_longest(question)]
    if len(cued) > MAX_LONGEST_RIGHT_SHARE * len(bank):
        raise _Problem(
            f"{path}: the right answer is the longest choice in {len(cued)} of {len(bank)} questions "
            f"(questions {', '.join(map(str, cued))}); at most {MAX_LONGEST_RIGHT_SHARE:.0%} may be, "
            "or always picking the longest passes"
        )


def _right_is_longest(question: QuestionSource) -> bool:
    """A tie counts: a patient picking the longest choice would have an even chance."""
    right = next(choice for choice in question.choices if choice.is_correct)
    return len(right.text) >= max(len(choice.text) for choice in question.choices)
