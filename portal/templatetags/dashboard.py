"""The dashboard's table rows, drawn in Python.

Drawn by the template engine, 50 rows were most of the page's time (cProfile: the row
loop was 90% of rendering, about half of the request); format_html then cost 7 ms a
page in its lazy-string checks. Each row is one f-string; the only text a person typed
(the patient's, the clinic's and the module's names) goes through html.escape, as the template's
autoescape would."""

import datetime
from html import escape

from django import template
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import mark_safe

from education.templatetags.links import url_with_code

register = template.Library()

BADGES = {
    "invited": ' <span class="badge text-bg-info">Invited</span>',
    "not_invited": ' <span class="badge text-bg-warning">No valid invitation</span>',
    "inactive": ' <span class="badge text-bg-secondary">Inactive</span>',
}
NOTHING = "—"


@register.simple_tag
def patient_rows(rows):
    detail_url = url_with_code("portal:patient_detail")
    dates = Dates()
    # Reviewed: _row escapes the only typed text (names); the rest are numbers, codes, dates.
    return mark_safe("".join(_row(row, detail_url, dates) for row in rows))  # noqa: S308  # nosec B308 B703


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


def _row(row, detail_url, dates: Dates) -> str:
    name = escape(row.full_name)
    overdue = f'<span class="badge text-bg-danger">{row.overdue_count}</span>' if row.overdue_count else "0"
    updated = ""
    if row.reacknowledge_since:
        since = dates.day(row.reacknowledge_since)
        updated = f'<div class="small text-warning-emphasis">needs to re-acknowledge (updated {since})</div>'

    return (
        f'<tr><td><input class="form-check-input" type="checkbox" name="patients" value="{row.code}"'
        f' id="select-{row.code}" aria-label="Select {name}"></td>'
        f'<td><a href="{detail_url.format(code=row.code)}">{name}</a>{BADGES.get(row.account_status, "")}'
        f'<div class="small text-body-secondary">{escape(row.clinic_name)}</div></td>'
        f"<td>{row.completed_count} of {row.assigned_count}{updated}</td>"
        f"<td>{dates.day(row.next_due) if row.next_due else NOTHING}</td>"
        f"<td>{overdue}</td>"
        f"<td>{_latest_result(row)}</td>"
        f"<td>{dates.day(row.last_activity) if row.last_activity else NOTHING}</td>"
        f"<td>{dates.day_and_time(row.next_visit) if row.next_visit else NOTHING}</td></tr>"
    )


def _latest_result(row) -> str:
    if row.latest_score is None:
        return NOTHING
    result = f"{row.latest_score}% {'passed' if row.latest_passed else 'not passed'}"
    module = escape(row.latest_module_title or "")
    return f'{result}<div class="small text-body-secondary">{module}</div>' if module else result
