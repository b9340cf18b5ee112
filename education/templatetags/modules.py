"""Parts of the patient's pages that repeat, drawn in Python.

As included templates, a My modules card's badge, step button and past attempts were half
of that page's rendering (eight modules, in-process timing on the bench database): each
include and each chain of comparisons ran once per card. Text that is not fixed here (a
module's title, a section's) is escaped as the template's autoescape would. The fixed words
are translated, escaped and made into markup once per language (`Words`), not per card."""

import zoneinfo
from dataclasses import dataclass

from django import template
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from education.models import Assignment
from education.services import Step
from education.templatetags.links import link
from education.wording import PerLanguage

register = template.Library()

Status = Assignment.Status
_BADGES = {
    Status.UPDATED: ("text-bg-warning", gettext_lazy("Updated: please review")),
    Status.COMPLETED: ("text-bg-success", gettext_lazy("Completed")),
    Status.OVERDUE: ("text-bg-danger", gettext_lazy("Overdue")),
    Status.IN_PROGRESS: ("text-bg-info", gettext_lazy("In progress")),
    Status.CANCELLED: ("text-bg-secondary", gettext_lazy("Cancelled")),
    Status.NEW: ("text-bg-primary", gettext_lazy("New")),
}


@register.filter
def status_badge(status: str) -> str:
    """The badge for an assignment's status (Assignment.Status); an unknown one shows as new."""
    badges = Words.current().badges
    # Reviewed: fixed markup from the table above, its words escaped; no user text.
    return mark_safe(badges.get(status, badges[Status.NEW]))  # noqa: S308  # nosec B308 B703


@register.simple_tag
def step_button(assignment) -> str:
    """The card's one action, named for what comes next (services.Step); its accessible
    name adds the module's title. Needs `step` (selectors.my_modules)."""
    title = escape(assignment.module.title_in(translation.get_language()))
    step, code = assignment.step, assignment.code
    css, label, aria, name = Words.current().buttons.get(step) or _unknown_step(step)
    if step == Step.REVIEW and assignment.reacknowledge_since:
        css = "btn-primary"  # an updated module: reviewing it is the next thing to do
    aria = aria % {"title": title}
    # Reviewed: the title is escaped; the rest are fixed words (escaped), a UUID and our own URL.
    markup = f'<a class="btn {css}" href="{link(code, name)}" aria-label="{aria}">{label}</a>'
    return mark_safe(markup)  # noqa: S308  # nosec B308 B703


# Step -> (button class, label, accessible name, URL name)
_BUTTONS = {
    Step.START: ("btn-primary", gettext_lazy("Start"), gettext_lazy("Start: %(title)s"), "education:reader"),
    Step.CONTINUE: (
        "btn-primary",
        gettext_lazy("Continue"),
        gettext_lazy("Continue: %(title)s"),
        "education:reader",
    ),
    Step.QUIZ: (
        "btn-primary",
        gettext_lazy("Take the quiz"),
        gettext_lazy("Take the quiz: %(title)s"),
        "education:quiz",
    ),
    Step.CONFIRM: (
        "btn-primary",
        gettext_lazy("Confirm"),
        gettext_lazy("Confirm you read %(title)s"),
        "education:acknowledge",
    ),
    Step.REVIEW: (
        "btn-outline-primary",
        gettext_lazy("Review"),
        gettext_lazy("Review: %(title)s"),
        "education:reader",
    ),
}


def _unknown_step(step: str) -> tuple[str, str, str, str]:
    """A step the table above does not know yet: named by itself, as the step says it."""
    shown = escape(step)
    return ("btn-primary", shown, f"{shown}: %(title)s", "education:reader")


@register.simple_tag(takes_context=True)
def past_attempts(context, assignment) -> str:
    """An assignment's quiz attempts, folded, each linking to its result; nothing when
    there are none. Needs `past_attempts` (selectors.my_modules)."""
    attempts = assignment.past_attempts
    if not attempts:
        return ""
    zone = zoneinfo.ZoneInfo(context["user"].clinic.time_zone)
    words = Words.current()
    items = "".join(
        f'<li><a href="{link(attempt.code, "education:quiz_result")}">'
        f"{date_format(attempt.submitted_at.astimezone(zone), 'DATETIME_FORMAT')}</a>: "
        f"{(words.passed if attempt.passed else words.not_passed) % {'score': attempt.score}}</li>"
        for attempt in attempts
    )
    summary = words.past_attempts % {"count": len(attempts)}
    for_title = words.for_title % {"title": escape(assignment.module.title_in(translation.get_language()))}
    markup = (
        f'<details class="mt-2 small"><summary>{summary}'
        f'<span class="visually-hidden"> {for_title}</span></summary>'
        f'<ul class="list-unstyled mt-1 mb-0">{items}</ul></details>'
    )
    # Reviewed: the title is escaped; the rest are numbers, dates, UUIDs and our own URLs.
    return mark_safe(markup)  # noqa: S308  # nosec B308 B703


@register.simple_tag(takes_context=True)
def ask_here(context, ask_url: str, anchor: str = "", title: str = "", back: str = "") -> str:
    """ "Ask at my visit" for one part of a module (its anchor and title), or for the module
    as a whole (no anchor); `back` is where saving returns to. Drawn in Python: the reader
    shows one after each of a module's sections, and as an included template they were a
    third of the reader's rendering. The page's one CSRF token (the template context's,
    masked once) serves every form: get_token() masks a new one per call, 0.1 ms each."""
    words = Words.current()
    field = f"ask-{escape(anchor or 'module')}"
    about, label = "", words.question
    if title:
        about = f'<span class="visually-hidden"> {words.about % {"title": escape(title)}}</span>'
        label = words.question_about_part
    back_field = f'<input type="hidden" name="next" value="{escape(back)}">' if back else ""
    markup = (
        f'<details class="ask-at-visit no-print mb-4"><summary>{words.ask}{about}</summary>'
        f'<form method="post" action="{escape(ask_url)}" class="mt-2">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{context["csrf_token"]}">'
        f'<input type="hidden" name="section" value="{escape(anchor)}">{back_field}'
        f'<label class="form-label" for="{field}">{label}</label>'
        f'<textarea class="form-control" id="{field}" name="text" rows="3" maxlength="500" required'
        f' aria-describedby="{field}-help"></textarea>'
        f'<div class="form-text" id="{field}-help">{words.question_help}</div>'
        f'<button class="btn btn-outline-primary btn-sm mt-2" type="submit">{words.save_question}</button>'
        "</form></details>"
    )
    # Reviewed: every value that is not fixed text is escaped.
    return mark_safe(markup)  # noqa: S308  # nosec B308 B703


@dataclass(frozen=True)
class Words(PerLanguage):
    """The fixed words of these parts in one language, translated, escaped and made into
    markup once per language and process: per card, gettext and escaping would undo what
    drawing them in Python saves. Sentences keep their %(name)s places, filled per card with
    escaped values."""

    badges: dict[str, str]  # status -> badge markup
    buttons: dict[str, tuple[str, str, str, str]]  # step -> class, label, accessible name, URL name
    passed: str  # "%(score)s%%, passed"
    not_passed: str
    past_attempts: str  # "Past quiz attempts (%(count)s)"
    for_title: str  # "for %(title)s"
    ask: str
    about: str  # "about “%(title)s”"
    question: str
    question_about_part: str
    question_help: str
    save_question: str

    @classmethod
    def translated(cls) -> "Words":
        """In the active language."""
        return cls(
            badges={
                status: f'<span class="badge {css}">{escape(label)}</span>'
                for status, (css, label) in _BADGES.items()
            },
            buttons={
                step: (css, escape(label), escape(aria), name)
                for step, (css, label, aria, name) in _BUTTONS.items()
            },
            passed=escape(_("%(score)s%%, passed")),
            not_passed=escape(_("%(score)s%%, not passed")),
            past_attempts=escape(_("Past quiz attempts (%(count)s)")),
            for_title=escape(_("for %(title)s")),
            ask=escape(_("Ask at my visit")),
            about=escape(_("about “%(title)s”")),
            question=escape(_("Your question")),
            question_about_part=escape(_("Your question about this part")),
            question_help=escape(
                _("Up to 500 characters. Your care team sees it before your visit, not in any email.")
            ),
            save_question=escape(_("Save my question")),
        )
