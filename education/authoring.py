"""The authoring rules a module must meet before it can be published.

Each check takes the text it judges and returns the problems it finds as `Finding`s: the
character offset in that text (so the loader can name the line) and a message an editor can
act on. Pure functions: no files, no database.
"""

import re
from dataclasses import dataclass

from markdown.extensions.toc import slugify

from education.rendering import ICON_IN_MARKDOWN as ICON
from education.rendering import LADDER, PICTURES, body_blocks, reading_grade, smog_grade, word_count

MAX_READING_GRADE = 6  # Flesch-Kincaid
MAX_SMOG_GRADE = 9
MIN_WORDS, MAX_WORDS = 450, 1100
KEY_POINTS = (3, 5)
CARE_TEAM_MESSAGE = "talk to your care team"
WHAT_TO_DO = "What to do"
QUESTIONS_TO_ASK = "Questions to ask your care team"


@dataclass(frozen=True)
class Finding:
    offset: int
    message: str


# The red lines. Some phrases are wrong anywhere; others only when given as advice, so
# "Never stop suddenly" passes and "Stop it right away" does not.
DOSE = re.compile(r"\b\d+(?:\.\d+)?\s?(?:mg|milligrams?|mcg|micrograms?)\b", re.IGNORECASE)
NUMBER_OF_UNITS = re.compile(
    r"\b(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|half)\s+"
    r"(?:extra\s+|more\s+)?(?:tablets?|pills?|mg|milligrams?)\b",
    re.IGNORECASE,
)
SALES = re.compile(
    r"\$\s?\d|\b(?:buy|order online|discount|coupon|per pill|price|cheap|for sale)\b", re.IGNORECASE
)
SOME_ALCOHOL = re.compile(r"\b(?:less|a little|a small amount of|a bit of)\s+alcohol\b", re.IGNORECASE)
STOP_ADVICE = re.compile(
    r"^[\W\d]*(?:(?:you\s+(?:can|could|should|may)|just|then|so)\s+)?stop\b[^.!?]*?"
    r"\b(?:suddenly|right away|on your own|at once|cold turkey)\b",
    re.IGNORECASE,
)
DOUBLE_ADVICE = re.compile(
    r"\bdouble\s+up\b|\bdouble\s+(?:the|your|a)\s+doses?\b|\btake\s+(?:two|2)\s+doses\b", re.IGNORECASE
)
KEY_POINTS_BOX = re.compile(
    r'<div class="admonition key-points">\s*<p class="admonition-title">.*?</p>\s*<ul>(.*?)</ul>', re.S
)
TOOL_BOX = re.compile(r'<div class="admonition tool">\s*<p class="admonition-title">[^<]+</p>')
NEGATION = re.compile(r"\b(?:not|never|don't|no|without|avoid)\b", re.IGNORECASE)
SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")

RED_LINES_ANYWHERE = (
    (DOSE, "a dose"),
    (NUMBER_OF_UNITS, "a number of tablets, pills or mg"),
    (SALES, "a price or a sales word"),
)
RED_LINES_AS_ADVICE = (
    (SOME_ALCOHOL, "implies some alcohol is fine; the rule is no alcohol while taking clonazepam"),
    (STOP_ADVICE, "advises stopping suddenly or alone; say to talk to the prescriber about a safe plan"),
    (DOUBLE_ADVICE, "advises doubling a dose"),
)


@dataclass(frozen=True)
class RedLines:
    """One language's red-line patterns: those wrong anywhere, those wrong as advice (the
    stopping one even after a negation, as it is written to catch the advice itself), and
    the words that negate the rest."""

    anywhere: tuple
    as_advice: tuple
    stop_advice: re.Pattern
    negation: re.Pattern


ENGLISH = RedLines(RED_LINES_ANYWHERE, RED_LINES_AS_ADVICE, STOP_ADVICE, NEGATION)


def red_lines(text: str, *, advice: bool = True, rules: RedLines = ENGLISH) -> list[Finding]:
    """Red-line phrases in `text`. With advice=False only the phrases that are wrong
    anywhere, for text that is a patient's mistake by design (a quiz's wrong choices)."""
    findings = [
        Finding(found.start(), f"mentions {what} ({found.group(0)!r}); modules never do")
        for pattern, what in rules.anywhere
        for found in pattern.finditer(text)
    ]
    if advice:
        for sentence in SENTENCE.finditer(text):
            for pattern, what in rules.as_advice:
                found = pattern.search(sentence.group(0))
                before = sentence.group(0)[: found.start()] if found else ""
                if found and (pattern is rules.stop_advice or not rules.negation.search(before)):
                    phrase = found.group(0).strip(" -*0123456789.")
                    findings.append(Finding(sentence.start() + found.start(), f"{what} ({phrase!r})"))
    return sorted(findings, key=lambda finding: finding.offset)


def blocks(source: str, rendered: str) -> list[Finding]:
    """The frame every module has: key points first, the emergency ladder, "What to do" as
    a numbered list, a tool, "Questions to ask your care team", icons with alt text."""
    return frame(source, rendered, what_to_do=WHAT_TO_DO, questions_to_ask=QUESTIONS_TO_ASK)


def frame(source: str, rendered: str, *, what_to_do: str, questions_to_ask: str) -> list[Finding]:
    """The frame with the two fixed headings as a language writes them."""
    return [
        *_key_points(rendered),
        *_ladder(source),
        *_section_list(source, rendered, what_to_do, "ol", "a numbered list of actions"),
        *_tool(rendered),
        *_section_list(source, rendered, questions_to_ask, "ul|ol", "a list of questions"),
        *_icons(source),
    ]


def _key_points(rendered: str) -> list[Finding]:
    box = KEY_POINTS_BOX.match(rendered)
    if not box:
        return [Finding(0, 'must open with a "Key points" box: !!! key-points "Key points"')]
    low, high = KEY_POINTS
    if not low <= box.group(1).count("<li>") <= high:
        return [Finding(0, f"the key points box must have {low} to {high} short points")]
    return []


def _ladder(source: str) -> list[Finding]:
    if len(LADDER.findall(source)) != 1:
        return [Finding(0, "must show the emergency ladder once: a line !!! emergency-ladder")]
    return []


def _tool(rendered: str) -> list[Finding]:
    if not TOOL_BOX.search(rendered):
        return [Finding(0, 'must give the reader a tool: !!! tool "Checklist: ..." followed by a list')]
    return []


def _icons(source: str) -> list[Finding]:
    findings = []
    for found in ICON.finditer(source):
        alt, kind, name = found.groups()
        if not alt.strip():
            message = f"{kind} {name!r} needs alt text: ![What it means]({kind}:{name})"
            findings.append(Finding(found.start(), message))
        elif name not in PICTURES[kind]:
            message = f"no {kind} {name!r}; use one of {', '.join(sorted(PICTURES[kind]))}"
            findings.append(Finding(found.start(), message))
    return findings


def _section_list(source: str, rendered: str, heading: str, tags: str, what: str) -> list[Finding]:
    anchor = slugify(heading, "-")  # what render_markdown's toc extension gives the heading
    if not re.search(rf'<h2 id="{anchor}">{re.escape(heading)}</h2>\s*<(?:{tags})>', rendered):
        where = source.find(f"## {heading}")
        return [Finding(max(where, 0), f'needs a "## {heading}" section that starts with {what}')]
    return []


def body_findings(source: str, rendered: str, text: str) -> list[Finding]:
    """Every rule on a module's body (its Markdown, that Markdown rendered, and the rendered
    text), in the order of the source: the loader and the editors' re-check share it."""
    findings = [
        *headings(source),
        *red_lines(source),
        *blocks(source, rendered),
        *readability(source, rendered, text, word_count(text)),
    ]
    return sorted(findings, key=lambda finding: finding.offset)


def headings(source: str) -> list[Finding]:
    title = re.search(r"^# ", source, re.MULTILINE)
    return (
        [Finding(title.start(), "start headings at '##'; the title is the page's heading")] if title else []
    )


def readability(source: str, rendered: str, text: str, words: int) -> list[Finding]:
    """Length, Flesch-Kincaid and SMOG of the body; for a grade that is too high, the
    offset of the hardest paragraph, which is where an editor starts."""
    findings = []
    if not MIN_WORDS <= words <= MAX_WORDS:
        findings.append(Finding(0, f"the body has {words} words; it must have {MIN_WORDS} to {MAX_WORDS}"))
    grade, smog = reading_grade(text), smog_grade(text)
    hardest = _hardest_block(source, rendered) if grade > MAX_READING_GRADE or smog > MAX_SMOG_GRADE else 0
    if grade > MAX_READING_GRADE:
        findings.append(
            Finding(
                hardest,
                f"Flesch-Kincaid grade {grade} is above {MAX_READING_GRADE}; use shorter sentences and words",
            )
        )
    if smog > MAX_SMOG_GRADE:
        findings.append(
            Finding(
                hardest,
                f"SMOG grade {smog} is above {MAX_SMOG_GRADE}; use fewer words of three or more syllables",
            )
        )
    if CARE_TEAM_MESSAGE not in " ".join(text.lower().split()):
        findings.append(Finding(len(source), f"the body must tell the reader to {CARE_TEAM_MESSAGE!r}"))
    return findings


def _hardest_block(source: str, rendered: str) -> int:
    """Where in the source the paragraph or list item with the highest grade starts."""
    graded = [(reading_grade(text), text) for text in body_blocks(rendered) if len(text.split()) >= 8]
    if not graded:
        return 0
    _, hardest = max(graded)
    first_words = " ".join(hardest.split()[:4])
    offset = source.find(first_words)
    return max(offset, 0)
