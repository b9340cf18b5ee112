"""CSV written row by row, so an export of 50,000 assignments needs no more memory than 50."""

import csv

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
]
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
