"""The visit summary and the acknowledgment receipt as PDFs, drawn with reportlab (no
system libraries needed)."""

import functools
from io import BytesIO
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.utils import dateformat, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


def visit_summary_pdf(visit, rows, questions=()) -> bytes:
    """The visit summary on one page (six modules with three talking points each fit on A4
    and Letter): who and when, the patient's questions, then one row per module, those
    needing attention first (portal.selectors.visit_summary_rows)."""
    styles = _compact_styles()
    patient = visit.patient
    when = visit.scheduled_at.astimezone(ZoneInfo(patient.clinic.time_zone))
    born = dateformat.format(patient.date_of_birth, "d M Y") if patient.date_of_birth else "—"
    title = _("Follow-up visit summary")
    story = [
        Paragraph(escape(title), styles["title"]),
        Paragraph(
            _markup(
                _("%(name)s · born %(born)s · record number %(record_number)s · %(clinic)s"),
                name=f"<b>{escape(patient.full_name)}</b>",
                born=born,
                record_number=escape(patient.record_number or "—"),
                clinic=escape(patient.clinic.name),
            ),
            styles["body"],
        ),
        Paragraph(_visit_line(visit, when), styles["body"]),
        Spacer(1, 3 * mm),
        *_agenda(questions, styles),
    ]
    story.append(
        _modules_table(rows, styles)
        if rows
        else Paragraph(escape(_("No modules are linked to this visit.")), styles["body"])
    )
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=_SMALLER_OF_A4_AND_LETTER,
        title=title,
        author=_("Clinic education portal"),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
    )
    document.build(story)
    return buffer.getvalue()


def _markup(message: str, **values: str) -> str:
    """A translated sentence as Paragraph markup: its own words escaped, `values` (markup
    already, escaped by the caller) put in their places."""
    return escape(message) % values


def _visit_line(visit, when) -> str:
    line = _markup(
        _("Visit: %(when)s (%(time_zone)s) with %(clinician)s"),
        when=dateformat.format(when, "D d M Y, H:i"),
        time_zone=escape(visit.patient.clinic.time_zone),
        clinician=escape(str(visit.clinician)),
    )
    return line + (f" · {escape(visit.state_label)}" if visit.state != "planned" else "")


# A4's width is smaller, Letter's height: a page drawn within both prints on either.
_SMALLER_OF_A4_AND_LETTER = (min(A4[0], LETTER[0]), min(A4[1], LETTER[1]))


@functools.cache
def _compact_styles() -> dict:
    sample = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=sample["Normal"], fontSize=8.5, leading=10.5)
    return {
        "title": ParagraphStyle("title", parent=sample["Title"], fontSize=15, leading=18, spaceAfter=4),
        "heading": ParagraphStyle(
            "heading", parent=sample["Heading4"], fontSize=9.5, spaceBefore=2, spaceAfter=2
        ),
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9),
    }


def _agenda(questions, styles) -> list:
    """The patient's open questions, in their words, first: the visit's agenda."""
    if not questions:
        return []
    story = [Paragraph(escape(_("The patient's questions for this visit")), styles["heading"])]
    for question in questions:
        about = question.assignment.module.title + (
            f" · {question.section_title}" if question.section_title else ""
        )
        story.append(Paragraph(f"• “{escape(question.text)}” <i>({escape(about)})</i>", styles["body"]))
    story.append(Spacer(1, 3 * mm))
    return story


MODULE_COLUMNS = (
    gettext_lazy("Module"),
    gettext_lazy("Status"),
    gettext_lazy("Acknowledged"),
    gettext_lazy("Best / latest"),
    gettext_lazy("Talking points: not yet shown"),
    gettext_lazy("Teach-back"),
)


def _modules_table(rows, styles) -> Table:
    cell = styles["cell"]
    data = [[Paragraph(f"<b>{escape(str(title))}</b>", cell) for title in MODULE_COLUMNS]]
    needs_attention = f"<br/><b>{escape(_('Needs attention'))}</b>"
    for row in rows:
        title = escape(row.title) + (needs_attention if row.needs_attention else "")
        points = "<br/>".join(f"• {escape(point)}" for point in row.talking_points) or "—"
        data.append(
            [
                Paragraph(title, cell),
                Paragraph(escape(row.status_label), cell),
                Paragraph(escape(row.acknowledged), cell),
                Paragraph(escape(row.scores), cell),
                Paragraph(points, cell),
                Paragraph(_teach_back_cell(row.record), cell),
            ]
        )
    table = Table(data, colWidths=[32 * mm, 25 * mm, 24 * mm, 17 * mm, 56 * mm, 32 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _teach_back_cell(record) -> str:
    """What was recorded, or boxes to tick on paper."""
    teach_back = getattr(record, "teach_back", None)
    if teach_back is None:
        boxes = (_("explained back"), _("needs review"), _("not discussed"))
        return "<br/>".join(f"[  ] {escape(box)}" for box in boxes)
    outcome = escape(teach_back.get_outcome_display())
    if not teach_back.note:
        return outcome
    return _markup(_("%(outcome)s: “%(note)s”"), outcome=outcome, note=escape(teach_back.note))


def receipt_pdf(receipt, *, verification_code: str, time_zone: str) -> bytes:
    """The patient's copy of what they confirmed: module, version, when, the statement,
    the name as typed, the text's SHA-256 and the code a clinician can check it by; in the
    language they read it in, whatever language they use the portal in now."""
    with translation.override(receipt.acknowledgment.language):
        return _receipt_pdf(receipt, verification_code=verification_code, time_zone=time_zone)


def _receipt_pdf(receipt, *, verification_code: str, time_zone: str) -> bytes:
    acknowledgment = receipt.acknowledgment
    version = acknowledgment.version
    styles = getSampleStyleSheet()
    when = acknowledgment.acknowledged_at.astimezone(ZoneInfo(time_zone))
    rows = [
        [_("Module"), Paragraph(escape(version.text_in(acknowledgment.language).title), styles["Normal"])],
        [_("Version"), str(version.number)],
        [_("Confirmed"), f"{date_format(when, 'DATETIME_FORMAT')} ({time_zone})"],
        [_("Statement"), Paragraph(escape(acknowledgment.statement), styles["Normal"])],
        [_("Name typed"), Paragraph(_spaces_kept(acknowledgment.typed_name), styles["Normal"])],
        [
            _("Text SHA-256"),
            Paragraph(f"<font face='Courier'>{receipt.text_sha256}</font>", styles["Normal"]),
        ],
        [_("Verification code"), verification_code],
    ]
    table = Table(rows, colWidths=[40 * mm, 125 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story = [
        Paragraph(escape(_("Receipt: you confirmed reading a module")), styles["Title"]),
        table,
        Spacer(1, 6 * mm),
        Paragraph(
            escape(
                _(
                    "Your care team can check this receipt with its verification code. The SHA-256 is a "
                    "fingerprint of the module's text as you read it: if the text changed, the fingerprint "
                    "would change too."
                )
            ),
            styles["Normal"],
        ),
    ]
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, title=_("Acknowledgment receipt"), author=_("Clinic education portal")
    )
    document.build(story)
    return buffer.getvalue()


def _spaces_kept(text: str) -> str:
    """Text for a Paragraph with every space shown: a Paragraph collapses runs of spaces,
    and the receipt shows the name exactly as typed."""
    return escape(text).replace("  ", " &nbsp;").replace("&nbsp; ", "&nbsp;&nbsp;")
