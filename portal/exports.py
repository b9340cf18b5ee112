"""CSV written row by row, so an export of 50,000 assignments needs no more memory than 50."""

import csv
from functools import cache
from zoneinfo import ZoneInfo

from portal.models import AuditEvent

EXPORT_HEADER = [
    "patient",
    "email",
    "record number",
    "clinic",
    "module",
    "version acknowledged",
    "status",
    "assigned",
    "due",
    "completed",
    "best score",
    # For programs: the status as a code, the times in ISO 8601 with their UTC offset.
    "status code",
    "assigned (ISO 8601)",
    "completed (ISO 8601)",
]
# The status in the words of the clinician's pages.
STATUS_WORDS = {
    "new": "Not started",
    "in_progress": "In progress",
    "overdue": "Overdue",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "updated": "Needs to re-acknowledge",
}


def assignment_rows(rows):
    """Export tuples (portal.selectors.assignment_export_rows) as the CSV shows them: the
    status in words, times in the clinic's zone to the minute, then the machine columns."""
    for *shown, status, assigned, due, completed, best, zone in rows:
        yield (
            *shown,
            STATUS_WORDS.get(status, status),
            _local(assigned, zone),
            due,
            _local(completed, zone),
            best,
            status,
            assigned.isoformat(),
            completed.isoformat() if completed else "",
        )


def _local(moment, zone: str) -> str:
    return f"{moment.astimezone(_zone(zone)):%Y-%m-%d %H:%M}" if moment else ""


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """A file-like object whose write() hands back the line instead of storing it."""

    def write(self, line):
        return line


def _cell(value):
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


AUDIT_HEADER = ["when", "action", "by", "patient", "clinic", "address", "detail"]


def audit_rows(events):
    """Audit events as CSV tuples, read in chunks."""
    labels = dict(AuditEvent.Action.choices)
    rows = events.order_by("at", "pk").values_list(
        "at", "action", "actor__email", "patient__full_name", "clinic__name", "ip_address", "detail"
    )
    for at, action, actor, patient, clinic, address, detail in rows.iterator(chunk_size=500):
        yield at.isoformat(), labels.get(action, action), actor, patient, clinic, address, detail


def csv_lines(rows, header=EXPORT_HEADER):
    """Yield the header and one CSV line per row of `rows` (an iterator of tuples)."""
    writer = csv.writer(_Line())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_cell(value) for value in row])
