"""The visit summary and the acknowledgment receipt as PDFs, drawn with reportlab (no
system libraries needed)."""

from io import BytesIO
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


def visit_summary_pdf(visit, records, questions=()) -> bytes:
    styles = getSampleStyleSheet()
    when = visit.scheduled_at.astimezone(ZoneInfo(visit.patient.clinic.time_zone))
    story = [
        Paragraph("Follow-up visit summary", styles["Title"]),
        Paragraph(f"Patient: {escape(visit.patient.full_name)}", styles["Heading2"]),
        Paragraph(
            f"Visit: {when:%d %B %Y, %H:%M} ({escape(visit.patient.clinic.time_zone)}) with "
            f"{escape(str(visit.clinician))} · {escape(visit.patient.clinic.name)}",
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
        *_agenda(questions, styles),
    ]
    if not records:
        story.append(Paragraph("No modules are linked to this visit.", styles["Normal"]))
    for record in records:
        story.extend(_module_section(record, styles))
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, title="Follow-up visit summary", author="Clinic education portal"
    )
    document.build(story)
    return buffer.getvalue()


def _agenda(questions, styles) -> list:
    """The patient's open questions, in their words, first: the visit's agenda."""
    if not questions:
        return []
    story = [Paragraph("The patient's questions for this visit", styles["Heading3"])]
    for question in questions:
        about = question.assignment.module.title + (
            f" · {question.section_title}" if question.section_title else ""
        )
        story.append(
            Paragraph(f"“{escape(question.text)}”<br/><i>About {escape(about)}</i>", styles["Normal"])
        )
        story.append(Spacer(1, 2 * mm))
    story.append(Spacer(1, 4 * mm))
    return story


def receipt_pdf(receipt, *, verification_code: str, time_zone: str) -> bytes:
    """The patient's copy of what they confirmed: module, version, when, the statement,
    the name as typed, the text's SHA-256 and the code a clinician can check it by."""
    acknowledgment = receipt.acknowledgment
    version = acknowledgment.version
    styles = getSampleStyleSheet()
    when = acknowledgment.acknowledged_at.astimezone(ZoneInfo(time_zone))
    rows = [
        ["Module", Paragraph(escape(version.title), styles["Normal"])],
        ["Version", str(version.number)],
        ["Confirmed", f"{when:%d %B %Y, %H:%M} ({time_zone})"],
        ["Statement", Paragraph(escape(acknowledgment.statement), styles["Normal"])],
        ["Name typed", Paragraph(_spaces_kept(acknowledgment.typed_name), styles["Normal"])],
        ["Text SHA-256", Paragraph(f"<font face='Courier'>{receipt.text_sha256}</font>", styles["Normal"])],
        ["Verification code", verification_code],
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
        Paragraph("Receipt: you confirmed reading a module", styles["Title"]),
        table,
        Spacer(1, 6 * mm),
        Paragraph(
            "Your care team can check this receipt with its verification code. The SHA-256 is a "
            "fingerprint of the module's text as you read it: if the text changed, the fingerprint "
            "would change too.",
            styles["Normal"],
        ),
    ]
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, title="Acknowledgment receipt", author="Clinic education portal"
    )
    document.build(story)
    return buffer.getvalue()


def _spaces_kept(text: str) -> str:
    """Text for a Paragraph with every space shown: a Paragraph collapses runs of spaces,
    and the receipt shows the name exactly as typed."""
    return escape(text).replace("  ", " &nbsp;").replace("&nbsp; ", "&nbsp;&nbsp;")


def _module_section(record, styles):
    ack = record.acknowledgment
    acknowledged = "not yet"
    if ack:
        earlier = " (an earlier version)" if record.acknowledged_earlier_version else ""
        acknowledged = f"version {ack.version.number} on {ack.acknowledged_at:%d %B %Y}{earlier}"
    latest = record.latest_attempt
    rows = [
        ["Status", record.status_label],
        ["Acknowledged", acknowledged],
        ["Best score", f"{record.best_score}%" if record.best_score is not None else "no quiz yet"],
        ["Latest score", f"{latest.score}% on {latest.submitted_at:%d %B %Y}" if latest else "no quiz yet"],
        ["Not done", ", ".join(record.to_do) or "nothing"],
    ]
    table = Table(rows, colWidths=[35 * mm, 130 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    section = [Paragraph(escape(record.assignment.module.title), styles["Heading3"]), table]
    section.append(Paragraph(escape(_quiz_tries(record)), styles["Normal"]))
    if record.still_missed:
        section.append(Paragraph("Talking points: safety points not yet shown", styles["Heading4"]))
        for concept in record.still_missed:
            times = f" (missed {concept.times_missed} times)" if concept.times_missed > 1 else ""
            latest = concept.latest
            text = (
                f"<b>{escape(concept.label)}</b>{times}<br/>"
                f"Asked: “{escape(latest.question.text)}” Chose {latest.chosen_letter}: "
                f"“{escape(latest.chosen.text)}”<br/>"
                f"Right answer: “{escape(latest.right_choice.text)}”"
            )
            section.append(Paragraph(text, styles["Normal"]))
    if record.mastered:
        shown = "; ".join(concept.label for concept in record.mastered)
        section.append(Paragraph(f"<b>Shown:</b> {escape(shown)}", styles["Normal"]))
    section.append(Spacer(1, 5 * mm))
    return section


def _quiz_tries(record) -> str:
    tries = len(record.attempts)
    if record.attempts_to_pass:
        return f"Passed on attempt {record.attempts_to_pass} of {tries}."
    return f"Not passed yet after {tries} attempt{'s' if tries != 1 else ''}." if tries else "No quiz yet."
