"""The dashboard's table rows, drawn in Python.

Drawn by the template engine, 50 rows were most of the page's time (cProfile: the row
loop was 90% of rendering, about half of the request); format_html then cost 7 ms a
page in its lazy-string checks. Each row is one f-string; the only text a person typed
(the patient's, the clinic's and the module's names) goes through html.escape, as the template's
autoescape would. The fixed words are translated and escaped once per language (`Words`)."""

import datetime
from dataclasses import dataclass
from html import escape

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from education.templatetags.links import url_with_code
from education.wording import PerLanguage

register = template.Library()

BADGE_CSS = {"invited": "text-bg-info", "not_invited": "text-bg-warning", "inactive": "text-bg-secondary"}
NOTHING = "—"


@register.simple_tag
def patient_rows(rows):
    detail_url = url_with_code("portal:patient_detail")
    dates, words = Dates(), Words.current()
    # Reviewed: _row escapes the only typed text (names); the rest are numbers, codes, dates
    # and the fixed words, escaped in Words.
    markup = "".join(_row(row, detail_url, dates, words) for row in rows)
    return mark_safe(markup)  # noqa: S308  # nosec B308 B703


@dataclass(frozen=True)
class Words(PerLanguage):
    """The rows' fixed words in one language, translated and escaped once per language and
    process rather than per row: gettext per cell would be 50 rows' worth of lookups a
    page. Nor are the sentences filled with % per row, which cost a tenth of the rows' time
    (in-process timing, 50 rows): one blank is kept as the words around it (`_around`), two
    as a str.format template (`_numbered`)."""

    badges: dict[str, str]
    select: tuple[str, str]  # "Select %(name)s"
    progress: str  # "{0} of {1}": completed, assigned, in the order the translation puts them
    updated: tuple[str, str]  # "needs to re-acknowledge (updated %(date)s)"
    passed: tuple[str, str]  # "%(score)s%% passed"
    not_passed: tuple[str, str]

    @classmethod
    def translated(cls) -> "Words":
        labels = {
            "invited": _("Invited"),
            "not_invited": _("No valid invitation"),
            "inactive": _("Inactive"),
        }
        return cls(
            badges={
                status: f' <span class="badge {BADGE_CSS[status]}">{escape(label)}</span>'
                for status, label in labels.items()
            },
            select=_around(_("Select %(name)s"), "name"),
            progress=_numbered(_("%(completed)s of %(assigned)s"), "completed", "assigned"),
            updated=_around(_("needs to re-acknowledge (updated %(date)s)"), "date"),
            passed=_around(_("%(score)s%% passed"), "score"),
            not_passed=_around(_("%(score)s%% not passed"), "score"),
        )


_BLANK = "\x00"


def _numbered(sentence: str, *names: str) -> str:
    """The escaped sentence as a str.format template, its %(name)s blanks numbered in the
    order of `names`, so a row fills them positionally wherever the translation puts them."""
    numbered = {name: f"{{{number}}}" for number, name in enumerate(names)}
    return escape(sentence).replace("{", "{{").replace("}", "}}") % numbered


def _around(sentence: str, name: str) -> tuple[str, str]:
    """The escaped words before and after the sentence's one %(name)s, for a row's f-string."""
    before, _blank, after = (escape(sentence) % {name: _BLANK}).partition(_BLANK)
    return before, after


class Dates:
    """Dates as the date filter shows them ("j M Y", "j M Y, H:i"), in the current time zone
    and language, both looked up once per page: per date, the zone and the translated month
    names were most of a row's time (cProfile)."""

    def __init__(self):
        self.zone = timezone.get_current_timezone()
        self.months = {number: str(name).title() for number, name in MONTHS_3.items()}

    def day(self, moment) -> str:
        """A date as it is, a moment on its date in the current time zone."""
        local = moment.astimezone(self.zone) if isinstance(moment, datetime.datetime) else moment
        return f"{local.day} {self.months[local.month]} {local.year}"

    def day_and_time(self, moment) -> str:
        local = moment.astimezone(self.zone)
        return f"{local.day} {self.months[local.month]} {local.year}, {local:%H:%M}"


# A patient who reads another language than English, named in that language: the one
# thing a clinician must know before handing over a printout or starting a visit.
_READS = {code: f' · <span lang="{code}">{name}</span>' for code, name in settings.LANGUAGES if code != "en"}


def _reads(language: str) -> str:
    return _READS.get(language, "")


def _row(row, detail_url, dates: Dates, words: Words) -> str:
    name = escape(row.full_name)
    overdue = f'<span class="badge text-bg-danger">{row.overdue_count}</span>' if row.overdue_count else "0"
    updated = ""
    if row.reacknowledge_since:
        before, after = words.updated
        since = dates.day(row.reacknowledge_since)
        updated = f'<div class="small text-warning-emphasis">{before}{since}{after}</div>'
    progress = words.progress.format(row.completed_count, row.assigned_count)
    badge, (select, selected) = words.badges.get(row.account_status, ""), words.select

    return (
        f'<tr><td><input class="form-check-input" type="checkbox" name="patients" value="{row.code}"'
        f' id="select-{row.code}" aria-label="{select}{name}{selected}"></td>'
        f'<td><a href="{detail_url.format(code=row.code)}">{name}</a>{badge}'
        f'<div class="small text-body-secondary">{escape(row.clinic_name)}{_reads(row.language)}</div></td>'
        f"<td>{progress}{updated}</td>"
        f"<td>{dates.day(row.next_due) if row.next_due else NOTHING}</td>"
        f"<td>{overdue}</td>"
        f"<td>{_latest_result(row, words)}</td>"
        f"<td>{dates.day(row.last_activity) if row.last_activity else NOTHING}</td>"
        f"<td>{dates.day_and_time(row.next_visit) if row.next_visit else NOTHING}</td></tr>"
    )


def _latest_result(row, words: Words) -> str:
    if row.latest_score is None:
        return NOTHING
    before, after = words.passed if row.latest_passed else words.not_passed
    result = f"{before}{row.latest_score}{after}"
    module = escape(row.latest_module_title or "")
    return f'{result}<div class="small text-body-secondary">{module}</div>' if module else result
