"""The visit summary as a PDF, drawn with reportlab (no system libraries needed)."""

from io import BytesIO
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


def visit_summary_pdf(visit, records) -> bytes:
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
