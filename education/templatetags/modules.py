"""Parts of the patient's pages that repeat, drawn in Python.

As included templates, a My modules card's badge, step button and past attempts were half
of that page's rendering (eight modules, in-process timing on the bench database): each
include and each chain of comparisons ran once per card. Text that is not fixed here (a
module's title, a section's) is escaped as the template's autoescape would."""

import zoneinfo

from django import template
from django.utils import dateformat
from django.utils.html import escape
from django.utils.safestring import mark_safe

from education.models import Assignment
from education.services import Step
from education.templatetags.links import link

register = template.Library()

Status = Assignment.Status
_BADGES = {
    Status.UPDATED: ("text-bg-warning", "Updated: please review"),
    Status.COMPLETED: ("text-bg-success", "Completed"),
    Status.OVERDUE: ("text-bg-danger", "Overdue"),
    Status.IN_PROGRESS: ("text-bg-info", "In progress"),
    Status.CANCELLED: ("text-bg-secondary", "Cancelled"),
    Status.NEW: ("text-bg-primary", "New"),
}
_MARKUP = {status: f'<span class="badge {css}">{label}</span>' for status, (css, label) in _BADGES.items()}


@register.filter
def status_badge(status: str) -> str:
    """The badge for an assignment's status (Assignment.Status); an unknown one shows as new."""
    # Reviewed: fixed markup from the table above, no user text.
    return mark_safe(_MARKUP.get(status, _MARKUP[Status.NEW]))  # noqa: S308  # nosec B308 B703


@register.simple_tag
def step_button(assignment) -> str:
    """The card's one action, named for what comes next (services.Step); its accessible
    name adds the module's title. Needs `step` (selectors.my_modules)."""
    title = escape(assignment.module.title)
    step, code = assignment.step, assignment.code
    css, label, aria, name = _BUTTONS.get(step, _BUTTONS[None])
    if step == Step.REVIEW and assignment.reacknowledge_since:
        css = "btn-primary"  # an updated module: reviewing it is the next thing to do
    aria = aria.format(step=step, title=title)
    # Reviewed: the title is escaped; the rest are fixed words, a UUID and our own URL.
    markup = f'<a class="btn {css}" href="{link(code, name)}" aria-label="{aria}">{label or step}</a>'
    return mark_safe(markup)  # noqa: S308  # nosec B308 B703


# Step -> (button class, label (blank: the step's own), accessible name, URL name)
_BUTTONS = {
    Step.QUIZ: ("btn-primary", "Take the quiz", "Take the quiz: {title}", "education:quiz"),
    Step.CONFIRM: ("btn-primary", "Confirm", "Confirm you read {title}", "education:acknowledge"),
    Step.REVIEW: ("btn-outline-primary", "Review", "Review: {title}", "education:reader"),
    None: ("btn-primary", "", "{step}: {title}", "education:reader"),  # Start, Continue
}


@register.simple_tag(takes_context=True)
def past_attempts(context, assignment) -> str:
    """An assignment's quiz attempts, folded, each linking to its result; nothing when
    there are none. Needs `past_attempts` (selectors.my_modules)."""
    attempts = assignment.past_attempts
    if not attempts:
        return ""
    zone = zoneinfo.ZoneInfo(context["user"].clinic.time_zone)
    items = "".join(
        f'<li><a href="{link(attempt.code, "education:quiz_result")}">'
        f"{dateformat.format(attempt.submitted_at.astimezone(zone), 'j F Y, H:i')}</a>: "
        f"{attempt.score}%, {'passed' if attempt.passed else 'not passed'}</li>"
        for attempt in attempts
    )
    markup = (
        f'<details class="mt-2 small"><summary>Past quiz attempts ({len(attempts)})'
        f'<span class="visually-hidden"> for {escape(assignment.module.title)}</span></summary>'
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
    field = f"ask-{escape(anchor or 'module')}"
    about = f'<span class="visually-hidden"> about “{escape(title)}”</span>' if title else ""
    back_field = f'<input type="hidden" name="next" value="{escape(back)}">' if back else ""
    markup = (
        f'<details class="ask-at-visit no-print mb-4"><summary>Ask at my visit{about}</summary>'
        f'<form method="post" action="{escape(ask_url)}" class="mt-2">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{context["csrf_token"]}">'
        f'<input type="hidden" name="section" value="{escape(anchor)}">{back_field}'
        f'<label class="form-label" for="{field}">Your question{" about this part" if title else ""}</label>'
        f'<textarea class="form-control" id="{field}" name="text" rows="3" maxlength="500" required'
        f' aria-describedby="{field}-help"></textarea>'
        f'<div class="form-text" id="{field}-help">Up to 500 characters. Your care team sees it before'
        " your visit, not in any email.</div>"
        '<button class="btn btn-outline-primary btn-sm mt-2" type="submit">Save my question</button>'
        "</form></details>"
    )
    # Reviewed: every value that is not fixed text is escaped.
    return mark_safe(markup)  # noqa: S308  # nosec B308 B703
