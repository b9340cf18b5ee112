"""Markdown to safe HTML, and the plain-language measures taken from it.

Modules use a few documented blocks on top of Markdown (Python-Markdown's admonition syntax):
`!!! key-points "Key points"`, `!!! tool "..."`, and `!!! emergency-ladder` (optionally
`!!! emergency-ladder samhsa`), which this module replaces with the same emergency card for
every module, from `education/content/emergency-ladder*.md`. Icons are Markdown images with
an `icon:` address, `![Call 911](icon:ambulance)`, served from `static/education/icons/`.
"""

import functools
import html
import itertools
import re

import markdown
import nh3
import textstat
from django.conf import settings

ALLOWED_TAGS = {
    "div",
    "img",
    "h2",
    "h3",
    "h4",
    "p",
    "br",
    "hr",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "b",
    "i",
    "blockquote",
    "a",
    "abbr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "code",
}
# Headings keep their id so a quiz result can link to the section that teaches a point;
# blocks keep their class, icons their address (filtered below to the portal's own icons).
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"scope"},
    "h2": {"id"},
    "h3": {"id"},
    "div": {"class"},
    "p": {"class"},
    "img": {"src", "alt", "class", "width", "height"},
    "li": {"class"},
}
BLOCKS = ("key-points", "tool", "emergency-ladder", "samhsa")
ALLOWED_CLASSES = {"admonition", "admonition-title", "icon", "figure", "check", *BLOCKS}
CHECK_ITEM = re.compile(r"<li>(?:\[ \]|\u2610)\s*")

CONTENT_DIR = settings.BASE_DIR / "education" / "content"
PICTURE_DIR = settings.BASE_DIR / "static" / "education"
PICTURE_URL = f"/{settings.STATIC_URL.strip('/')}/education/"
# Small icons beside an action, and larger drawings (the recovery position), all drawn for
# the portal and served by it: `![alt](icon:name)`, `![alt](figure:name)`.
PICTURES = {
    kind: frozenset(path.stem for path in (PICTURE_DIR / f"{kind}s").glob("*.svg"))
    for kind in ("icon", "figure")
}
PICTURE_SRC = re.compile(r'<img alt="([^"]*)" src="(icon|figure):([a-z0-9-]+)"\s*/?>')
ICON_IN_MARKDOWN = re.compile(r"!\[([^\]]*)\]\((icon|figure):([^)\s]*)\)")
PICTURE_PATH = re.compile(rf"^{re.escape(PICTURE_URL)}(icon|figure)s/([a-z0-9-]+)\.svg$")
LADDER = re.compile(r"^!!! emergency-ladder( samhsa)?[ \t]*$", re.MULTILINE)
# No javascript:, data: or other schemes that run or embed content.
ALLOWED_URL_SCHEMES = {"https", "http", "mailto", "tel"}

BODY_BLOCK = re.compile(r"<(p|li)>(.*?)</\1>", re.DOTALL)
SECTION_HEADING = re.compile(r'<h2 id="([^"]+)">(.*?)</h2>', re.DOTALL)
SECTION_START = re.compile(r'<h2 id="([^"]+)">')
TAG = re.compile(r"<[^>]+>")


@functools.cache  # small files that only change with a deployment
def emergency_ladder_source(samhsa: bool = False, language: str = "en") -> str:
    """The Markdown of the emergency card every module shows, in `language`; with the
    SAMHSA line where a module discusses misuse."""
    ladder = (CONTENT_DIR / content_file("emergency-ladder.md", language)).read_text()
    if samhsa:
        extra = (CONTENT_DIR / content_file("emergency-ladder-samhsa.md", language)).read_text()
        ladder = ladder.rstrip("\n") + "\n" + extra
    return ladder.replace('!!! emergency-ladder "', '!!! emergency-ladder samhsa "', 1) if samhsa else ladder


def content_file(english_name: str, language: str) -> str:
    """`module.md` in English, `module.es.md` in Spanish: translations sit beside the original."""
    if language == "en":
        return english_name
    stem, dot, suffix = english_name.rpartition(".")
    return f"{stem}.{language}{dot}{suffix}"


def expand_blocks(source: str, language: str = "en") -> str:
    return LADDER.sub(
        lambda found: emergency_ladder_source(bool(found.group(1)), language).rstrip("\n"), source
    )


def render_markdown(source: str, language: str = "en") -> str:
    """Render Markdown and keep only the allow-listed tags, attributes and URL schemes,
    so a script, an event handler, an iframe or a javascript: link comes out inert."""
    raw = markdown.markdown(
        expand_blocks(source, language),
        extensions=["extra", "sane_lists", "toc", "admonition"],
        output_format="html",
    )
    raw = PICTURE_SRC.sub(_picture_tag, raw)
    # "- [ ] item" (or "- ☐ item") is a line to tick: the page draws the box, and prints it.
    raw = CHECK_ITEM.sub('<li class="check">', raw)
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_allowed_value,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def _picture_tag(found: re.Match) -> str:
    alt, kind, name = found.groups()
    if name not in PICTURES[kind]:
        return found.group(0)  # left as it is: the filter drops the address, the loader refuses it
    # Icons have one size; a figure's height follows its width (CSS), so only icons say it.
    size = ' width="24" height="24"' if kind == "icon" else ""
    return f'<img class="{kind}" alt="{alt}" src="{PICTURE_URL}{kind}s/{name}.svg"{size}>'


def _allowed_value(tag: str, attribute: str, value: str) -> str | None:
    """Only the portal's own block classes and icon files survive."""
    if attribute == "class":
        kept = [name for name in value.split() if name in ALLOWED_CLASSES]
        return " ".join(kept) or None
    if tag == "img" and attribute == "src":
        found = PICTURE_PATH.match(value)
        return value if found and found.group(2) in PICTURES[found.group(1)] else None
    return value


def body_text(rendered_html: str) -> str:
    """The paragraphs and list items as plain sentences, for word counts and grading.
    A list item without a full stop still ends a sentence when read."""
    return "\n".join(text if text[-1] in ".!?:" else text + "." for text in body_blocks(rendered_html))


def body_blocks(rendered_html: str) -> list[str]:
    """Each paragraph and list item as plain text, in order."""
    return [text for _, inner in BODY_BLOCK.findall(rendered_html) if (text := plain(inner))]


def plain(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", fragment)).split())


def sections(rendered_html: str) -> dict[str, str]:
    """The module's sections: each level-2 heading's anchor and its text, in order."""
    return {anchor: plain(inner) for anchor, inner in SECTION_HEADING.findall(rendered_html)}


def split_sections(rendered_html: str) -> list[tuple[str, str]]:
    """The rendered body cut before each level-2 heading: (anchor, html) pairs in order,
    the text before the first heading with a blank anchor. Joined, they are the body."""
    starts = [found.start() for found in SECTION_START.finditer(rendered_html)]
    bounds = [0, *starts, len(rendered_html)]
    pieces = [rendered_html[start:end] for start, end in itertools.pairwise(bounds)]
    anchors = ["", *(found.group(1) for found in SECTION_START.finditer(rendered_html))]
    return [(anchor, piece) for anchor, piece in zip(anchors, pieces, strict=True) if piece.strip()]


def word_count(text: str) -> int:
    return textstat.lexicon_count(text)


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade level of plain text."""
    return round(textstat.flesch_kincaid_grade(text), 1)


def smog_grade(text: str) -> float:
    """SMOG grade of plain text: counts words of three or more syllables per sentence, and
    usually reads two or three grades above Flesch-Kincaid."""
    return round(textstat.smog_index(text), 1)
