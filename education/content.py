"""Reading the module library from files, and refusing what must not be published.

Each module is a folder `education/content/<slug>/` with `module.md` (a TOML header
between `+++` lines, then the Markdown body) and `quiz.toml`; `sources.toml` beside the
folders is the registry of what modules may cite. Parsing touches no database:
`load_library` in services checks every file first and writes only if all are good. Every
refusal names the file and line: `path:line: what is wrong`.
"""

import datetime
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from education import authoring, spanish
from education.models import Module
from education.quiz import MIN_CONCEPTS_PER_ATTEMPT
from education.rendering import (
    SECTION_START,
    body_text,
    content_file,
    emergency_ladder_source,
    reading_grade,
    render_markdown,
    sections,
    smog_grade,
    word_count,
)

CONTENT_DIR = settings.BASE_DIR / "education" / "content"
SOURCES_FILE = "sources.toml"
MIN_SOURCES = 3
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
HEADER_KEYS = {
    "title",
    "topic",
    "summary",
    "minutes_to_read",
    "sources",
    "reviewed_on",
    "pass_mark",
    "material_change",
    "reveal_answers_after_fails",
}
REQUIRED_HEADER_KEYS = HEADER_KEYS - {"material_change", "reveal_answers_after_fails"}
# A translation carries only its words, and whether a change to them is material; the
# rest is the English module's.
TRANSLATION_HEADER_KEYS = {"title", "summary", "material_change"}
REQUIRED_TRANSLATION_KEYS = {"title", "summary"}
TRANSLATIONS = ("es",)
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


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
class TranslationSource:
    """A module in another language. Its sections carry the English anchors, so a question
    asked or a quiz answered in Spanish points at the same section as in English."""

    language: str
    title: str
    summary: str
    material_change: bool
    body_markdown: str
    body_html: str
    sections: dict[str, str]
    word_count: int
    fernandez_huerta: float
    szigriszt_pazos: float
    content_hash: str
    # Each question's text and its choices' (text, explanation), in the English order.
    questions: list[tuple[str, list[tuple[str, str]]]]

    def as_stored(self) -> dict:
        return {
            "title": self.title,
            "summary": self.summary,
            "body_markdown": self.body_markdown,
            "body_html": self.body_html,
            "sections": self.sections,
            "word_count": self.word_count,
            "fernandez_huerta": self.fernandez_huerta,
            "szigriszt_pazos": self.szigriszt_pazos,
            "content_hash": self.content_hash,
        }


@dataclass(frozen=True)
class ModuleSource:
    slug: str
    title: str
    topic: str
    summary: str
    minutes_to_read: int
    sources: list[dict]
    reviewed_on: datetime.date
    pass_mark: int
    material_change: bool
    reveal_answers_after_fails: int
    body_markdown: str
    body_html: str
    reading_grade: float
    smog_grade: float
    word_count: int
    content_hash: str
    sections: dict[str, str] = field(default_factory=dict)
    concepts: dict[str, str] = field(default_factory=dict)
    questions: list[QuestionSource] = field(default_factory=list)
    translations: dict[str, TranslationSource] = field(default_factory=dict)


class ModuleProblem(Exception):
    """A problem with one file; becomes a line of ContentError."""

    def __init__(self, path: Path, message: str, line: int | None = None):
        super().__init__(located(path, message, line))


class ModuleProblems(ModuleProblem):
    """Several problems with one file, each already located."""

    def __init__(self, located_messages: list[str]):
        Exception.__init__(self, "\n".join(located_messages))


def located(path: Path, message: str, line: int | None = None) -> str:
    return f"{path}:{line}: {message}" if line else f"{path}: {message}"


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(offset, 0)) + 1


def read_library(content_dir: Path = CONTENT_DIR) -> list[ModuleSource]:
    """Every module under `content_dir`, or ContentError listing every bad file."""
    folders = sorted(path for path in content_dir.iterdir() if path.is_dir())
    modules, problems = [], []
    try:
        registry = read_sources(content_dir)
    except ModuleProblem as problem:
        raise ContentError([str(problem)]) from None
    for folder in folders:
        try:
            modules.append(read_module(folder, registry))
        except ModuleProblem as problem:
            problems.append(str(problem))
    if not folders:
        problems.append(f"{content_dir}: no module folders found")
    if problems:
        raise ContentError(problems)
    return modules


def read_sources(content_dir: Path) -> dict[str, dict]:
    """The citation registry: `content_dir`'s own, or the shipped one for a draft folder
    that has none. Each entry has an id, a full citation, a URL and the date checked."""
    path = content_dir / SOURCES_FILE
    if not path.exists():
        path = CONTENT_DIR / SOURCES_FILE
    text = path.read_text()
    try:
        entries = tomllib.loads(text).get("sources", [])
    except tomllib.TOMLDecodeError as error:
        raise ModuleProblem(path, f"not valid TOML ({error})") from None
    registry = {}
    for entry in entries:
        where = line_of(text, text.find(f'id = "{entry.get("id")}"'))
        if set(entry) != {"id", "citation", "url", "checked"} or not isinstance(
            entry["checked"], datetime.date
        ):
            message = "each source needs exactly id, citation, url and checked (a date)"
            raise ModuleProblem(path, message, where)
        if not str(entry["url"]).startswith("https://"):
            raise ModuleProblem(path, f"source {entry['id']!r}: the url must start with https://", where)
        registry[entry["id"]] = {**entry, "checked": entry["checked"].isoformat()}
    return registry


def read_module(folder: Path, registry: dict[str, dict] | None = None) -> ModuleSource:
    if not SLUG.match(folder.name):
        raise ModuleProblem(folder, "the folder name must be a slug such as sleep-medicines")
    registry = read_sources(folder.parent) if registry is None else registry
    module_file, quiz_file = folder / "module.md", folder / "quiz.toml"
    module_bytes, quiz_bytes = _read(module_file), _read(quiz_file)
    module_text = module_bytes.decode()
    header, body, body_line = _split_front_matter(module_file, module_text)
    _check_header(module_file, module_text, header)
    sources = _cited_sources(module_file, module_text, header["sources"], registry)
    body_html = render_markdown(body)
    text = body_text(body_html)
    _check_body(module_file, body, body_html, text, body_line)
    module_sections = sections(body_html)
    concepts, questions = _read_quiz(quiz_file, quiz_bytes.decode(), module_sections)
    # Everything a patient sees goes into the hash: the files, the shared emergency card
    # and the citations, so a change to any of them is a new version.
    shared = (emergency_ladder_source(samhsa=True) + repr(sources)).encode()
    english = {"body": body, "sections": module_sections, "quiz": quiz_bytes.decode()}
    translations = {
        language: translation
        for language in TRANSLATIONS
        if (translation := read_translation(folder, language, english, sources)) is not None
    }
    return ModuleSource(
        slug=folder.name,
        title=header["title"].strip(),
        topic=header["topic"],
        summary=header["summary"].strip(),
        minutes_to_read=header["minutes_to_read"],
        sources=sources,
        reviewed_on=header["reviewed_on"],
        pass_mark=header["pass_mark"],
        material_change=header.get("material_change", True),
        reveal_answers_after_fails=header.get("reveal_answers_after_fails", DEFAULT_REVEAL_AFTER_FAILS),
        body_markdown=body,
        body_html=body_html,
        reading_grade=reading_grade(text),
        smog_grade=smog_grade(text),
        word_count=word_count(text),
        content_hash=hashlib.sha256(module_bytes + b"\0" + quiz_bytes + b"\0" + shared).hexdigest(),
        sections=module_sections,
        concepts=concepts,
        questions=questions,
        translations=translations,
    )


def read_translation(
    folder: Path, language: str, english: dict, sources: list[dict]
) -> TranslationSource | None:
    """`module.<language>.md` and `quiz.<language>.toml` beside the English files, checked
    against the English module; None when the module has no such translation yet."""
    module_file, quiz_file = (
        folder / content_file("module.md", language),
        folder / content_file("quiz.toml", language),
    )
    if not module_file.exists() and not quiz_file.exists():
        return None
    module_bytes, quiz_bytes = _read(module_file), _read(quiz_file)
    module_text = module_bytes.decode()
    header, body, body_line = _split_front_matter(module_file, module_text)
    _check_translation_header(module_file, module_text, header)
    rendered = render_markdown(body, language)
    text = body_text(rendered)
    findings = spanish.body_findings(english["body"], body, rendered, text)
    if findings:
        raise ModuleProblems(
            [located(module_file, f.message, body_line + line_of(body, f.offset) - 1) for f in findings]
        )
    body_html = _with_english_anchors(rendered, english["sections"])
    questions = _read_translated_quiz(quiz_file, quiz_bytes.decode(), english["quiz"])
    shared = (emergency_ladder_source(samhsa=True, language=language) + repr(sources)).encode()
    return TranslationSource(
        language=language,
        title=header["title"].strip(),
        summary=header["summary"].strip(),
        material_change=header.get("material_change", True),
        body_markdown=body,
        body_html=body_html,
        sections=sections(body_html),
        word_count=word_count(text),
        fernandez_huerta=spanish.fernandez_huerta(text),
        szigriszt_pazos=spanish.szigriszt_pazos(text),
        content_hash=hashlib.sha256(module_bytes + b"\0" + quiz_bytes + b"\0" + shared).hexdigest(),
        questions=questions,
    )


def _check_translation_header(path: Path, text: str, header: dict) -> None:
    unknown = sorted(set(header) - TRANSLATION_HEADER_KEYS)
    missing = sorted(REQUIRED_TRANSLATION_KEYS - set(header))
    if unknown or missing:
        message = (
            f"a translation's header has {', '.join(sorted(REQUIRED_TRANSLATION_KEYS))} and may say "
            f"material_change; the rest comes from the English module (check {', '.join(unknown + missing)})"
        )
        raise ModuleProblem(path, message, _key_line(text, (unknown + missing)[0]))
    for key in ("title", "summary"):
        if not isinstance(header[key], str) or not header[key].strip():
            raise ModuleProblem(path, f"{key} must be text", _key_line(text, key))
    if not isinstance(header.get("material_change", True), bool):
        raise ModuleProblem(path, "material_change must be true or false", _key_line(text, "material_change"))


def _with_english_anchors(body_html: str, english_sections: dict[str, str]) -> str:
    """The translation's section headings take the English anchors, in order (the blocks
    check has made sure both have the same number of sections)."""
    anchors = iter(english_sections)
    return SECTION_START.sub(lambda found: f'<h2 id="{next(anchors, found.group(1))}">', body_html)


def _read_translated_quiz(
    path: Path, text: str, english_text: str
) -> list[tuple[str, list[tuple[str, str]]]]:
    try:
        quiz = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ModuleProblem(path, f"not valid TOML ({error})") from None
    if set(quiz) != {"questions"} or not isinstance(quiz["questions"], list):
        raise ModuleProblem(path, "a translated bank has only [[questions]]; the concepts come from English")
    english = tomllib.loads(english_text)["questions"]
    lines = _question_lines(text)
    problems = spanish.quiz_pairing(english, quiz["questions"])
    if problems:
        raise ModuleProblem(path, problems[0], lines[0] if lines else None)
    for number, question in enumerate(quiz["questions"], 1):
        _check_red_lines(
            Where(path, number, lines[number - 1]), question["text"], question["choices"], spanish.SPANISH
        )
    _check_longest_share(path, [_as_question(question) for question in quiz["questions"]], lines)
    return [
        (q["text"].strip(), [(c["text"].strip(), c["explanation"].strip()) for c in q["choices"]])
        for q in quiz["questions"]
    ]


def _as_question(question: dict) -> QuestionSource:
    choices = [ChoiceSource(c["text"].strip(), c.get("correct") is True, "") for c in question["choices"]]
    return QuestionSource(question["text"], "", "", choices)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ModuleProblem(path, "file is missing") from None


def _split_front_matter(path: Path, text: str) -> tuple[dict, str, int]:
    """The header, the body, and the file line the body starts on."""
    parts = text.split("+++\n", 2)
    if len(parts) != 3 or parts[0].strip():
        raise ModuleProblem(path, "must start with a TOML header between two '+++' lines", 1)
    try:
        header = tomllib.loads(parts[1])
    except tomllib.TOMLDecodeError as error:
        raise ModuleProblem(path, f"the header is not valid TOML ({error})", 2) from None
    body_start = len(parts[0]) + len(parts[1]) + 8
    leading = len(parts[2]) - len(parts[2].lstrip())
    return header, parts[2].strip() + "\n", line_of(text, body_start + leading)


def _key_line(text: str, key: str) -> int:
    found = re.search(rf"^{re.escape(key)}\s*=", text, re.MULTILINE)
    return line_of(text, found.start()) if found else 2


def _check_header(path: Path, text: str, header: dict) -> None:
    if "reviewer" in header:
        raise ModuleProblem(
            path,
            "remove reviewer: a module file does not claim a review; sign-off is recorded in the portal",
            _key_line(text, "reviewer"),
        )
    unknown = sorted(set(header) - HEADER_KEYS)
    if unknown:
        message = f"unknown header field(s) {', '.join(unknown)}"
        raise ModuleProblem(path, message, _key_line(text, unknown[0]))
    missing = sorted(key for key in REQUIRED_HEADER_KEYS if not header.get(key))
    if missing:
        raise ModuleProblem(path, f"no {', '.join(missing)} in the header", _key_line(text, missing[0]))
    for key in ("title", "summary"):
        if not isinstance(header[key], str) or not header[key].strip():
            raise ModuleProblem(path, f"{key} must be text", _key_line(text, key))
    if header["topic"] not in Module.Topic.values:
        raise ModuleProblem(
            path,
            f"unknown topic {header['topic']!r}; use one of {', '.join(Module.Topic.values)}",
            _key_line(text, "topic"),
        )
    if not isinstance(header["reviewed_on"], datetime.date):
        message = "reviewed_on must be a date such as 2026-11-20"
        raise ModuleProblem(path, message, _key_line(text, "reviewed_on"))
    if not isinstance(header["minutes_to_read"], int) or header["minutes_to_read"] < 1:
        raise ModuleProblem(
            path, "minutes_to_read must be a whole number of minutes", _key_line(text, "minutes_to_read")
        )
    if not isinstance(header["pass_mark"], int) or not 1 <= header["pass_mark"] <= 100:
        message = "pass_mark must be a percentage from 1 to 100"
        raise ModuleProblem(path, message, _key_line(text, "pass_mark"))
    if not isinstance(header.get("material_change", True), bool):
        raise ModuleProblem(path, "material_change must be true or false", _key_line(text, "material_change"))
    reveal = header.get("reveal_answers_after_fails", DEFAULT_REVEAL_AFTER_FAILS)
    if not isinstance(reveal, int) or isinstance(reveal, bool) or not 1 <= reveal <= 10:
        raise ModuleProblem(
            path,
            "reveal_answers_after_fails must be a whole number from 1 to 10",
            _key_line(text, "reveal_answers_after_fails"),
        )


def _cited_sources(path: Path, text: str, ids, registry: dict[str, dict]) -> list[dict]:
    """The full citations for the header's source ids, in its order."""
    line = _key_line(text, "sources")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ModuleProblem(path, f"sources must be a list of ids from {SOURCES_FILE}", line)
    unknown = [source_id for source_id in ids if source_id not in registry]
    if unknown:
        raise ModuleProblem(path, f"source(s) {', '.join(unknown)} are not in {SOURCES_FILE}", line)
    if len(set(ids)) < MIN_SOURCES:
        message = f"cite at least {MIN_SOURCES} sources; this module cites {len(set(ids))}"
        raise ModuleProblem(path, message, line)
    return [registry[source_id] for source_id in dict.fromkeys(ids)]


def _check_body(path: Path, body: str, body_html: str, text: str, body_line: int) -> None:
    findings = authoring.body_findings(body, body_html, text)
    if findings:
        # Every finding of the file at once, in file order: an editor fixes them in one pass.
        raise ModuleProblems(
            [
                located(path, finding.message, body_line + line_of(body, finding.offset) - 1)
                for finding in findings
            ]
        )


def _read_quiz(
    path: Path, text: str, module_sections: dict[str, str]
) -> tuple[dict[str, str], list[QuestionSource]]:
    """The concepts and the question bank, or the first reason to refuse them."""
    try:
        quiz = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ModuleProblem(path, f"not valid TOML ({error})") from None
    unknown = sorted(set(quiz) - {"concepts", "questions"})
    if unknown:
        raise ModuleProblem(path, f"unknown table(s) {', '.join(unknown)}; use [concepts] and [[questions]]")
    concepts = _read_concepts(path, text, quiz.get("concepts"))
    questions = quiz.get("questions")
    if not isinstance(questions, list) or len(questions) < MIN_BANK_SIZE:
        found = len(questions) if isinstance(questions, list) else 0
        raise ModuleProblem(path, f"the bank has {found} [[questions]]; it needs at least {MIN_BANK_SIZE}")
    lines = _question_lines(text)
    bank = [
        _read_question(Where(path, number, lines[number - 1]), question, concepts, module_sections)
        for number, question in enumerate(questions, 1)
    ]
    _check_bank(path, bank, concepts, lines)
    return concepts, bank


@dataclass(frozen=True)
class Where:
    """A question of a quiz file, for messages: `path:line: question N ...`."""

    path: Path
    number: int
    line: int

    def problem(self, message: str) -> "ModuleProblem":
        return ModuleProblem(self.path, f"question {self.number} {message}", self.line)


def _question_lines(text: str) -> list[int]:
    return [line_of(text, found.start()) for found in re.finditer(r"^\[\[questions\]\]", text, re.MULTILINE)]


def _read_concepts(path: Path, text: str, concepts) -> dict[str, str]:
    if not isinstance(concepts, dict) or not concepts:
        raise ModuleProblem(path, "no [concepts] table naming the safety points the questions check")
    for key, label in concepts.items():
        if not SLUG.match(key):
            raise ModuleProblem(
                path, f"concept {key!r} must be a slug such as never-stop-suddenly", _key_line(text, key)
            )
        if not isinstance(label, str) or not label.strip():
            raise ModuleProblem(path, f"concept {key!r} needs a description", _key_line(text, key))
    return {key: label.strip() for key, label in concepts.items()}


def _read_question(
    where: Where, question: dict, concepts: dict[str, str], module_sections: dict[str, str]
) -> QuestionSource:
    if not str(question.get("text", "")).strip():
        raise where.problem("has no text")
    concept, section = question.get("concept"), question.get("section")
    if concept not in concepts:
        raise where.problem(f"has concept {concept!r}, which is not in [concepts]")
    if section not in module_sections:
        raise where.problem(
            f"has section {section!r}, which is not a heading of the module; "
            f"use one of {', '.join(module_sections)}"
        )
    choices = question.get("choices")
    if not isinstance(choices, list) or len(choices) != CHOICES_PER_QUESTION:
        raise where.problem(f"must have exactly {CHOICES_PER_QUESTION} choices")
    if sum(1 for choice in choices if choice.get("correct") is True) != 1:
        raise where.problem("must have exactly one correct choice")
    for letter, choice in zip("ABCD", choices, strict=False):
        _check_choice(where, letter, choice)
    _check_red_lines(where, question["text"], choices)
    return QuestionSource(
        text=question["text"].strip(),
        concept=concept,
        section=section,
        choices=[
            ChoiceSource(c["text"].strip(), c.get("correct") is True, c["explanation"].strip())
            for c in choices
        ],
    )


def _check_choice(where: Where, letter: str, choice: dict) -> None:
    if not str(choice.get("text", "")).strip():
        raise where.problem(f"choice {letter} has no text")
    if not str(choice.get("explanation", "")).strip():
        raise where.problem(f"choice {letter} has no explanation")
    throwaway = THROWAWAY_CHOICE.search(choice["text"])
    if throwaway:
        raise where.problem(
            f"choice {letter} is a throwaway ({throwaway.group(0)!r}); "
            "write a mistake a patient could believe"
        )


def _check_red_lines(where: Where, text: str, choices: list[dict], rules=authoring.ENGLISH) -> None:
    """The question, the right answer and every explanation speak for the portal; a wrong
    choice is a patient's mistake by design, so only the phrases wrong anywhere count there.
    `rules`: the red lines of the bank's language."""
    spoken = [text] + [c["explanation"] for c in choices] + [c["text"] for c in choices if c.get("correct")]
    for part in spoken:
        for finding in authoring.red_lines(part, rules=rules):
            raise where.problem(finding.message)
    for choice in choices:
        for finding in authoring.red_lines(choice["text"], advice=False, rules=rules):
            raise where.problem(finding.message)


def _check_bank(path: Path, bank: list[QuestionSource], concepts: dict[str, str], lines: list[int]) -> None:
    used = {question.concept for question in bank}
    if len(used) < MIN_CONCEPTS_PER_ATTEMPT:
        raise ModuleProblem(
            path,
            f"the questions check {len(used)} concept(s); "
            f"an attempt needs at least {MIN_CONCEPTS_PER_ATTEMPT}",
        )
    unused = sorted(set(concepts) - used)
    if unused:
        raise ModuleProblem(path, f"no question checks concept(s) {', '.join(unused)}")
    _check_longest_share(path, bank, lines)


def _check_longest_share(path: Path, bank: list[QuestionSource], lines: list[int]) -> None:
    cued = [number for number, question in enumerate(bank, 1) if _right_is_longest(question)]
    if len(cued) > MAX_LONGEST_RIGHT_SHARE * len(bank):
        raise ModuleProblem(
            path,
            f"the right answer is the longest choice in {len(cued)} of {len(bank)} questions "
            f"(questions {', '.join(map(str, cued))}); at most {MAX_LONGEST_RIGHT_SHARE:.0%} may be, "
            "or always picking the longest passes",
            lines[cued[0] - 1],
        )


def _right_is_longest(question: QuestionSource) -> bool:
    """A tie counts: a patient picking the longest choice would have an even chance."""
    right = next(choice for choice in question.choices if choice.is_correct)
    return len(right.text) >= max(len(choice.text) for choice in question.choices)
