"""The rules a module's Spanish version must meet, and how it must match the English one.

A Spanish version is a translation of its English module, not a module of its own: it has
the same blocks in the same order (key points, the emergency card, the sections, the
pictures, the tool) and a quiz with the same questions, choices and right answers in the
same places, so a patient's answers mean the same whichever language they read. Pure
functions over text, like `authoring`: no files, no database.
"""

import re

from textstat.textstat import textstatistics

from education import authoring
from education.authoring import Finding
from education.rendering import ICON_IN_MARKDOWN, word_count

MIN_FERNANDEZ_HUERTA = 70  # "bastante fácil" or easier
MIN_SZIGRISZT_PAZOS = 65  # INFLESZ "bastante fácil" or easier
# Spanish runs about a fifth longer than the English it says the same as.
MIN_WORDS, MAX_WORDS = 450, 1400
CARE_TEAM_MESSAGE = "hable con su equipo de salud"
WHAT_TO_DO = "Qué hacer"
QUESTIONS_TO_ASK = "Preguntas para su equipo de salud"
# Figures with words drawn in them have a Spanish drawing beside the English one.
SPANISH_FIGURE_SUFFIX = "-es"
SHORTER = "use shorter sentences and words"

_SPANISH = textstatistics()
_SPANISH.set_lang("es")

DOSE = re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:mg|miligramos?|mcg|microgramos?)\b", re.IGNORECASE)
# "una pastilla para dormir" names a kind of medicine; a count from two up is an amount.
NUMBER_OF_UNITS = re.compile(
    r"\b(?:\d+(?:[.,]\d+)?|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|media)\s+"
    r"(?:pastillas?|tabletas?|píldoras?|comprimidos?|mg|miligramos?)\b",
    re.IGNORECASE,
)
SALES = re.compile(
    r"\$\s?\d|\b(?:precios?|descuentos?|cupón|cupones|en oferta|baratos?|baratas?|a la venta|por pastilla)\b",
    re.IGNORECASE,
)
SOME_ALCOHOL = re.compile(
    r"\b(?:un poco de|poco|algo de|menos|una pequeña cantidad de)\s+alcohol\b", re.IGNORECASE
)
STOP_ADVICE = re.compile(
    r"^[\W\d]*(?:(?:usted\s+)?(?:puede|podría|debe|solo|entonces|así que)\s+)?"
    r"(?:deje|dejar|suspenda|suspender|pare|parar)\b[^.!?]*?"
    r"\b(?:de golpe|de repente|por su cuenta|de una vez|en seco|enseguida)\b",
    re.IGNORECASE,
)
DOUBLE_ADVICE = re.compile(
    r"\bdoble\s+dosis\b|\bduplique\b|\bduplicar\s+(?:la|su)\s+dosis\b|\btome\s+dos\s+dosis\b", re.IGNORECASE
)
SPANISH_NEGATION = re.compile(r"\b(?:no|nunca|jamás|ni|sin|nada|evite)\b", re.IGNORECASE)

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

SKELETON_LINE = re.compile(r"^(!!! [a-z-]+(?: samhsa)?|#{2,3} )", re.MULTILINE)
KEY_POINT = re.compile(r"^    - ", re.MULTILINE)


SPANISH = authoring.RedLines(RED_LINES_ANYWHERE, RED_LINES_AS_ADVICE, STOP_ADVICE, SPANISH_NEGATION)


def red_lines(text: str, *, advice: bool = True) -> list[Finding]:
    """The Spanish red-line phrases in `text` (see authoring.red_lines)."""
    return authoring.red_lines(text, advice=advice, rules=SPANISH)


def readability(text: str, words: int) -> list[Finding]:
    """Length, Fernández-Huerta and Szigriszt-Pazos (INFLESZ) of the body's plain text."""
    findings = []
    if not MIN_WORDS <= words <= MAX_WORDS:
        findings.append(Finding(0, f"the body has {words} words; it must have {MIN_WORDS} to {MAX_WORDS}"))
    huerta, szigriszt = fernandez_huerta(text), szigriszt_pazos(text)
    if huerta < MIN_FERNANDEZ_HUERTA:
        message = (
            f"Fernández-Huerta {huerta} is below {MIN_FERNANDEZ_HUERTA}; use shorter sentences and words"
        )
        findings.append(Finding(0, message))
    if szigriszt < MIN_SZIGRISZT_PAZOS:
        message = (
            f"Szigriszt-Pazos {szigriszt} is below {MIN_SZIGRISZT_PAZOS}; use shorter sentences and words"
        )
        findings.append(Finding(0, message))
    if CARE_TEAM_MESSAGE not in " ".join(text.lower().split()):
        findings.append(Finding(0, f"the body must tell the reader {CARE_TEAM_MESSAGE!r}"))
    return findings


def fernandez_huerta(text: str) -> float:
    return round(_SPANISH.fernandez_huerta(text), 1)


def szigriszt_pazos(text: str) -> float:
    return round(_SPANISH.szigriszt_pazos(text), 1)


def skeleton(source: str) -> list[str]:
    """The blocks of a module body in order: boxes, headings, pictures and the number of
    key points, with a Spanish figure named as its English one."""
    parts = [found.group(1).strip() for found in SKELETON_LINE.finditer(source)]
    parts += [
        f"{kind}:{name.removesuffix(SPANISH_FIGURE_SUFFIX)}"
        for _, kind, name in ICON_IN_MARKDOWN.findall(source)
    ]
    key_points = source.split("!!! key-points", 1)[-1].split("\n\n", 1)[0]
    return [*parts, f"{len(KEY_POINT.findall(key_points))} key points"]


def same_blocks(english: str, spanish: str) -> list[Finding]:
    """Where the Spanish body's blocks differ from the English body's."""
    mine, theirs = skeleton(spanish), skeleton(english)
    if mine == theirs:
        return []
    first = next(
        (i for i, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b), min(len(mine), len(theirs))
    )
    got = mine[first] if first < len(mine) else "nothing"
    wanted = theirs[first] if first < len(theirs) else "nothing"
    return [
        Finding(
            0,
            f"the blocks differ from the English module: block {first + 1} is {got!r}, in English {wanted!r}",
        )
    ]


def quiz_pairing(english: list[dict], spanish: list[dict]) -> list[str]:
    """Where the Spanish bank does not match the English one question for question: the
    same count, four choices each and the right answer in the same place."""
    if len(spanish) != len(english):
        return [f"the Spanish bank has {len(spanish)} questions; the English one has {len(english)}"]
    problems = []
    for number, (theirs, mine) in enumerate(zip(english, spanish, strict=True), 1):
        extra = sorted(set(mine) - {"text", "choices"})
        if extra:
            problems.append(f"question {number}: {', '.join(extra)} come(s) from the English bank; remove it")
        choices = mine.get("choices")
        if not isinstance(choices, list) or len(choices) != len(theirs["choices"]):
            problems.append(f"question {number} must have {len(theirs['choices'])} choices, as in English")
            continue
        if [c.get("correct") is True for c in choices] != [
            c.get("correct") is True for c in theirs["choices"]
        ]:
            problems.append(f"question {number}: the right answer must be the same choice as in English")
        for letter, choice in zip("ABCD", choices, strict=False):
            if not str(choice.get("text", "")).strip() or not str(choice.get("explanation", "")).strip():
                problems.append(f"question {number} choice {letter} needs text and an explanation")
    return problems


def _right_places(choices: list[dict]) -> list[bool]:
    return [choice.get("correct") is True for choice in choices]


def body_findings(english_source: str, source: str, rendered: str, text: str) -> list[Finding]:
    """Every rule on a Spanish body, in the order of its source: the English frame with
    the Spanish headings, the Spanish red lines and readability, and the English blocks."""
    findings = [
        *authoring.headings(source),
        *red_lines(source),
        *authoring.frame(source, rendered, what_to_do=WHAT_TO_DO, questions_to_ask=QUESTIONS_TO_ASK),
        *same_blocks(english_source, source),
        *readability(text, word_count(text)),
    ]
    return sorted(findings, key=lambda finding: finding.offset)
