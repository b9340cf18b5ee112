"""The portal's records as FHIR R4 resources: pure functions from model to JSON-ready
dicts, validated against the `fhir.resources` R4B models in tests (tests/interop).

Each resource's id is the portal record's code:

- patient: Patient;
- assignment: Task, its focus the module (a DocumentReference by the module's slug);
- published module version: Questionnaire, its whole question bank;
- quiz attempt: QuestionnaireResponse, the questions as shown, the choices made, the score;
- acknowledgment: DocumentReference (statement, typed name, version, hash) and Provenance.
"""

import base64
import datetime

from django.conf import settings

from education.models import Assignment

PATIENT_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
PORTAL_NAME = "Clinic-education portal"


def base() -> str:
    """The API's base URL, which every fullUrl and reference resolves against."""
    return f"{settings.SITE_URL}/fhir/R4"


def uri(kind: str, name: str) -> str:
    """The portal's own code systems, identifier systems and extensions."""
    return f"{settings.SITE_URL}/fhir/{kind}/{name}"


def instant(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def reference(resource_type: str, code, display: str | None = None) -> dict:
    found = {"reference": f"{resource_type}/{code}"}
    if display:
        found["display"] = display
    return found


def _meta(updated: datetime.datetime) -> dict:
    return {"lastUpdated": instant(updated)}


def _extension(name: str, **value) -> dict:
    return {"url": uri("StructureDefinition", name), **value}


# Patient -------------------------------------------------------------------------------------


def patient(user) -> dict:
    """Minimal demographics: record number, name, birth date, language, active."""
    resource = {
        "resourceType": "Patient",
        "id": str(user.code),
        "meta": _meta(user.updated_at),
        "active": user.is_active,
        "name": [{"text": user.full_name}],
        "communication": [
            {
                "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": user.language}]},
                "preferred": True,
            }
        ],
        "managingOrganization": {"display": user.clinic.name},
    }
    if user.record_number:
        resource["identifier"] = [record_number_identifier(user.clinic, user.record_number)]
    if user.date_of_birth:
        resource["birthDate"] = user.date_of_birth.isoformat()
    return resource


def record_number_identifier(clinic, record_number: str) -> dict:
    return {
        "use": "usual",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
        "system": uri("sid", f"record-number/{clinic.code}"),
        "value": record_number,
    }


# Task ----------------------------------------------------------------------------------------

Status = Assignment.Status
# The portal's state (as stored: overdue is a matter of the date) -> Task.status.
TASK_STATUS = {
    Status.NEW: "requested",
    Status.IN_PROGRESS: "in-progress",
    Status.UPDATED: "in-progress",
    Status.COMPLETED: "completed",
    Status.CANCELLED: "cancelled",
}


def stored_status(assignment) -> str:
    """The assignment's state from its own columns. Overdue is left out: it changes with
    the date, not the record, and the Task carries the due date."""
    if assignment.cancelled_at:
        return Status.CANCELLED
    if assignment.reacknowledge_since:
        return Status.UPDATED
    if assignment.completed_at:
        return Status.COMPLETED
    return Status.IN_PROGRESS if assignment.opened_at else Status.NEW


def task(assignment) -> dict:
    status = stored_status(assignment)
    module = assignment.module
    subject = reference("Patient", assignment.patient.code, assignment.patient.full_name)
    resource = {
        "resourceType": "Task",
        "id": str(assignment.code),
        "meta": _meta(assignment.updated_at),
        "status": TASK_STATUS[status],
        "businessStatus": {
            "coding": [
                {
                    "system": uri("CodeSystem", "assignment-status"),
                    "code": status,
                    "display": Status(status).label,
                }
            ]
        },
        "intent": "order",
        "code": {"text": "Read the education module, pass its quiz and acknowledge it"},
        "description": module.title,
        "focus": {
            "type": "DocumentReference",
            "identifier": {"system": uri("sid", "module"), "value": module.slug},
            "display": module.title,
        },
        "for": subject,
        "owner": subject,
        "authoredOn": instant(assignment.assigned_at),
        "lastModified": instant(assignment.updated_at),
        "requester": {"display": assignment.assigned_by.full_name or PORTAL_NAME},
        "restriction": {"period": {"end": assignment.due_date.isoformat()}},
    }
    if assignment.opened_at:
        resource["executionPeriod"] = {"start": instant(assignment.opened_at)}
        if assignment.completed_at and status == Status.COMPLETED:
            resource["executionPeriod"]["end"] = instant(assignment.completed_at)
    if assignment.event_id:
        resource["identifier"] = [
            {
                "system": uri("sid", f"clinical-event/{assignment.patient.clinic.code}"),
                "value": assignment.event_id,
            }
        ]
        resource["reasonCode"] = {
            "coding": [{"system": uri("CodeSystem", "clinical-event"), "code": assignment.event_kind}]
        }
    return resource


# Questionnaire and QuestionnaireResponse ------------------------------------------------------


def link_id(question) -> str:
    return f"question-{question.position}"


def choice_coding(version, choice, text: str | None = None) -> dict:
    return {
        "system": uri("CodeSystem", f"quiz-choices/{version.code}"),
        "code": f"{choice.question.position}.{choice.position}",
        "display": text if text is not None else choice.text,
    }


def questionnaire(version, bank) -> dict:
    """A published version's whole question bank, in file order; each attempt shows some."""
    return {
        "resourceType": "Questionnaire",
        "id": str(version.code),
        "meta": _meta(version.published_at),
        "url": f"{base()}/Questionnaire/{version.code}",
        "version": str(version.number),
        "name": "".join(part.capitalize() for part in version.module.slug.split("-")) + f"V{version.number}",
        "title": f"{version.title}: quiz",
        "status": "active" if version.module.current_version_id == version.pk else "retired",
        "date": instant(version.published_at),
        "publisher": PORTAL_NAME,
        "language": "en",
        "item": [
            {
                "linkId": link_id(question),
                "text": question.text,
                "type": "choice",
                "required": True,
                "answerOption": [
                    {"valueCoding": choice_coding(version, choice)} for choice in bank.choices[pk]
                ],
            }
            for pk, question in bank.questions.items()
        ],
    }


def questionnaire_response(attempt, answers, bank) -> dict:
    """One quiz attempt: the questions in the order shown and in the language shown, the
    choice made, whether it was right; the score and pass as extensions."""
    assignment, language = attempt.assignment, attempt.language
    subject = reference("Patient", assignment.patient.code, assignment.patient.full_name)
    items = []
    for answer in answers:
        question = bank.questions[answer.question_id]
        choice = next(c for c in bank.choices[answer.question_id] if c.pk == answer.choice_id)
        items.append(
            {
                "linkId": link_id(question),
                "text": question.text_in(language),
                "answer": [
                    {
                        "valueCoding": choice_coding(attempt.version, choice, choice.text_in(language)),
                        "extension": [_extension("answer-correct", valueBoolean=answer.is_correct)],
                    }
                ],
            }
        )
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(attempt.code),
        "meta": _meta(attempt.submitted_at),
        "language": language,
        "extension": [
            _extension("quiz-score", valueInteger=attempt.score),
            _extension("quiz-passed", valueBoolean=attempt.passed),
            _extension("quiz-task", valueReference=reference("Task", assignment.code)),
        ],
        "questionnaire": f"{base()}/Questionnaire/{attempt.version.code}",
        "status": "completed",
        "subject": subject,
        "author": subject,
        "authored": instant(attempt.submitted_at),
        "item": items,
    }


# Acknowledgment: DocumentReference and Provenance --------------------------------------------


def acknowledgment_document(acknowledgment) -> dict:
    """What the patient confirmed: the statement as shown, the name typed, when, which
    version and the SHA-256 of its text."""
    assignment, version = acknowledgment.assignment, acknowledgment.version
    subject = reference("Patient", assignment.patient.code, assignment.patient.full_name)
    return {
        "resourceType": "DocumentReference",
        "id": str(acknowledgment.code),
        "meta": _meta(acknowledgment.acknowledged_at),
        "extension": [
            _extension("typed-name", valueString=acknowledgment.typed_name),
            _extension("module-version", valueString=f"{assignment.module.slug}|{version.number}"),
            _extension("content-sha256", valueString=acknowledgment.content_hash),
        ],
        "identifier": [{"system": uri("sid", "module-version-sha256"), "value": acknowledgment.content_hash}],
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [
                {
                    "system": uri("CodeSystem", "document-type"),
                    "code": "education-acknowledgment",
                    "display": "Acknowledgment of patient education",
                }
            ]
        },
        "subject": subject,
        "date": instant(acknowledgment.acknowledged_at),
        "author": [subject],
        "description": f"{version.title}, version {version.number}",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "language": acknowledgment.language,
                    "data": base64.b64encode(acknowledgment.statement.encode()).decode(),
                    "title": "The statement the patient confirmed",
                    "creation": instant(acknowledgment.acknowledged_at),
                }
            }
        ],
        "context": {"related": [reference("Task", assignment.code)]},
    }


def provenance(acknowledgment) -> dict:
    """Who recorded the acknowledgment: the patient, signed in, through the portal."""
    patient = acknowledgment.assignment.patient
    return {
        "resourceType": "Provenance",
        "id": str(acknowledgment.code),
        "meta": _meta(acknowledgment.acknowledged_at),
        "target": [reference("DocumentReference", acknowledgment.code)],
        "recorded": instant(acknowledgment.acknowledged_at),
        "activity": {"coding": [{"system": DATA_OPERATION, "code": "CREATE", "display": "create"}]},
        "agent": [
            {
                "type": {"coding": [{"system": PATIENT_PARTICIPANT, "code": "author", "display": "Author"}]},
                "who": reference("Patient", patient.code, patient.full_name),
            },
            {
                "type": {
                    "coding": [{"system": PATIENT_PARTICIPANT, "code": "assembler", "display": "Assembler"}]
                },
                "who": {"display": PORTAL_NAME},
            },
        ],
    }


# Bundles and outcomes -------------------------------------------------------------------------


def searchset(entries: list[tuple[dict, str]], *, self_url: str, next_url: str | None, now) -> dict:
    """`entries` as (resource, "match" or "include")."""
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": instant(now),
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base()}/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": mode},
            }
            for resource, mode in entries
        ],
    }


def operation_outcome(code: str, text: str, severity: str = "error") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }


def capability_statement(kinds) -> dict:
    """What the server does: read and search the listed types, JSON only."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-23",
        "publisher": PORTAL_NAME,
        "kind": "instance",
        "implementation": {"description": f"{PORTAL_NAME}: education records", "url": base()},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {"description": "Bearer token of an API client, made by a clinic admin."},
                "resource": [_capability(kind) for kind in kinds]
                + [{"type": "Provenance", "interaction": [{"code": "read"}]}],
            }
        ],
    }


def _capability(kind) -> dict:
    params = [("_lastUpdated", "date"), ("_count", "number")]
    if kind.patient and kind.name != "Patient":
        params.append(("patient", "reference"))
    params += [(name, "token") for name in sorted(kind.params)]
    found = {
        "type": kind.name,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [{"name": name, "type": param_type} for name, param_type in params],
    }
    if kind.name == "DocumentReference":
        found["searchRevInclude"] = ["Provenance:target"]
    return found
