"""The record system's API: FHIR R4 reads (JSON, application/fhir+json) and clinical
events in. A bearer token names the API client and so the clinic; sessions and cookies
play no part. Every answer is English JSON; every call is on the audit trail."""

import functools
import json

from django.http import JsonResponse
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from portal import audit
from portal.interop import fhir, search, services
from portal.interop.forms import EventForm
from portal.models import AuditEvent

Action = AuditEvent.Action
FHIR_JSON = "application/fhir+json"


def fhir_response(resource: dict, status: int = 200, **headers) -> JsonResponse:
    response = JsonResponse(resource, status=status, content_type=f"{FHIR_JSON}; charset=utf-8")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def outcome(status: int, code: str, text: str, **headers) -> JsonResponse:
    return fhir_response(fhir.operation_outcome(code, text), status, **headers)


def api_client_required(scope: str):
    """The call's client from its bearer token (401 without a valid one), allowed `scope`
    (403), under its rate limit (429); then the view, in English, with `request.api_client`."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            with translation.override("en"):
                kind, _space, token = request.headers.get("Authorization", "").partition(" ")
                client = services.client_for_token(token.strip()) if kind.lower() == "bearer" else None
                if client is None:
                    return outcome(
                        401,
                        "login",
                        "A valid API token is needed: Authorization: Bearer <token>.",
                        WWW_Authenticate='Bearer realm="clinic-education-portal"',
                    )
                if scope not in client.scopes:
                    return outcome(
                        403,
                        "forbidden",
                        f"This API client may not {scope}; its scopes: {', '.join(client.scopes)}.",
                    )
                if services.over_rate_limit(client):
                    return outcome(
                        429,
                        "throttled",
                        "Too many calls this minute. Try again in a minute.",
                        Retry_After="60",
                    )
                request.api_client = client
                return view(request, *args, **kwargs)

        return csrf_exempt(wrapper)

    return decorator


@require_GET
@api_client_required("read")
def capability_statement(request):
    return fhir_response(fhir.capability_statement(list(search.KINDS.values())))


@require_GET
@api_client_required("read")
def search_resources(request, resource_type):
    kind = search.KINDS.get(resource_type)
    if kind is None:
        return outcome(404, "not-supported", f"{resource_type[:40]} is not a resource type this server has.")
    client = request.api_client
    try:
        page = search.search(kind, client.clinic, request.GET)
    except search.BadSearch as error:
        return outcome(400, "invalid", str(error))
    entries = kind.resources(page.rows)
    path = request.path.removeprefix("/fhir/R4")
    next_url = page.next_cursor and search.next_url(path, request.GET, page.next_cursor)
    _audit_read(request, kind, page.rows, f"{kind.name} search, {len(page.rows)} found")
    return fhir_response(
        fhir.searchset(
            entries, self_url=search.self_url(path, request.GET), next_url=next_url, now=timezone.now()
        )
    )


@require_GET
@api_client_required("read")
def read_resource(request, resource_type, code):
    kind = search.PROVENANCE if resource_type == "Provenance" else search.KINDS.get(resource_type)
    if kind is None:
        return outcome(404, "not-supported", f"{resource_type[:40]} is not a resource type this server has.")
    row = search.read(kind, request.api_client.clinic, code)
    if row is None:
        return outcome(404, "not-found", f"No {resource_type} with this id here.")
    _audit_read(request, kind, [row], f"{kind.name} read")
    return fhir_response(kind.resources([row])[0][0])


def _audit_read(request, kind, rows, detail) -> None:
    patients = [kind.patient_pk(row) for row in rows] if kind.patient else []
    audit.record_api_call(
        Action.API_READ, request=request, client=request.api_client, patients=patients, detail=detail
    )


@require_POST
@api_client_required("write")
def receive_event(request):
    """A clinical event (see docs/integration.md): 201 when it assigned, 200 when the same
    event id came before, 400 for a malformed body, 422 for an unknown patient or an event
    that cannot assign."""
    client = request.api_client
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return outcome(400, "invalid", "The body must be JSON (Content-Type: application/json).")
    form = EventForm.from_json(body)
    if not form.is_valid():
        return outcome(400, "invalid", form.problems())
    try:
        received = services.receive_event(client=client, request=form.event_request())
    except services.UnknownPatient as error:
        audit.record_api_call(
            Action.API_EVENT_RECEIVED,
            request=request,
            client=client,
            patients=[],
            detail="event refused: unknown patient",
        )
        return outcome(422, "not-found", str(error))
    except services.EventRefused as error:
        audit.record_api_call(
            Action.API_EVENT_RECEIVED, request=request, client=client, patients=[], detail="event refused"
        )
        return outcome(422, "business-rule", str(error))
    event = received.event
    audit.record_api_call(
        Action.API_EVENT_RECEIVED,
        request=request,
        client=client,
        patients=[event.patient_id],
        detail=f"event {event.code}: {len(event.assigned)} assigned"
        + ("" if received.created else " (repeat, nothing done)"),
    )
    return JsonResponse(_event_answer(event, received.created), status=201 if received.created else 200)


def _event_answer(event, created: bool) -> dict:
    return {
        "event_id": event.event_id,
        "type": event.kind,
        "patient": f"Patient/{event.patient.code}",
        "received_at": fhir.instant(event.received_at),
        "created": created,
        "assigned": event.assigned,
        "already_open": event.already_open,
    }
