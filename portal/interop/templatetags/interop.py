from django import template
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from portal.interop.models import EventKind

register = template.Library()


@register.filter
def assigned_because(assignment) -> str:
    """ "Assigned because: dose lowered on 3 December 2026" for an assignment a clinical
    event made; empty for one a clinician made."""
    if not assignment.event_kind:
        return ""
    kind = assignment.event_kind
    label = EventKind(kind).label if kind in EventKind.values else kind
    day = date_format(assignment.event_on, "DATE_FORMAT") if assignment.event_on else ""
    return _("Assigned because: %(event)s on %(day)s (event %(event_id)s from the record system)") % {
        "event": label,
        "day": day,
        "event_id": assignment.event_id,
    }
