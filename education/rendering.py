"""Markdown to safe HTML, and the plain-language measures taken from it."""

import html
import re

import markdown
import nh3
import textstat

ALLOWED_TAGS = {
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
# Headings keep their id so a quiz result can link to the section that teaches a point.
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"scope"},
    "h2": {"id"},
    "h3": {"id"},
}
# No javascript:, data: or other schemes that run or embed content.
ALLOWED_URL_SCHEMES = {"https", "http", "mailto", "tel"}

BODY_BLOCK = re.compile(r"<(p|li)>(.*?)</\1>", re.DOTALL)
SECTION_HEADING = re.compile(r'<h2 id="([^"]+)">(.*?)</h2>', re.DOTALL)
TAG = re.compile(r"<[^>]+>")


def render_markdown(source: str) -> str:
    """Render Markdown and keep only the allow-listed tags, attributes and URL schemes,
    so a script, an event handler, an iframe or a javascript: link comes out inert."""
    raw = markdown.markdown(source, extensions=["extra", "sane_lists", "toc"], output_format="html")
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def body_text(rendered_html: str) -> str:
    """The paragraphs and list items as plain sentences, for word counts and grading.
    A list item without a full stop still ends a sentence when read."""
    blocks = []
    for _, inner in BODY_BLOCK.findall(rendered_html):
        text = " ".join(html.unescape(TAG.sub(" ", inner)).split())
        if text:
            blocks.append(text if text[-1] in ".!?:" else text + ".")
    return "\n".join(blocks)


def sections(rendered_html: str) -> dict[str, str]:
    """The module's sections: each level-2 heading's anchor and its text, in order."""
    return {
        anchor: " ".join(html.unescape(TAG.sub(" ", inner)).split())
        for anchor, inner in SECTION_HEADING.findall(rendered_html)
    }


def word_count(text: str) -> int:
    return textstat.lexicon_count(text)


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade level of plain text."""
    return round(textstat.flesch_kincaid_grade(text), 1)
