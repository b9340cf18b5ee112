"""The SMS provider's inbound webhook: a patient's reply to a text message."""

import json

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portal import sms


@csrf_exempt  # the provider signs the body instead (X-Signature: HMAC-SHA256, shared secret)
@require_POST
def sms_inbound(request):
    """A reply: STOP (and its kin) stops texts to that number. Unsigned or wrongly signed:
    403, nothing read or written. Anything else: 200, so the provider does not retry."""
    if not sms.signature_valid(request.body, request.headers.get("X-Signature", "")):
        return HttpResponse("Signature missing or wrong.", status=403, content_type="text/plain")
    try:
        reply = json.loads(request.body)
        sender, text = str(reply["from"]), str(reply["text"])
    except (ValueError, KeyError, TypeError):
        return HttpResponse(
            'The body must be JSON: {"from": "+1…", "text": "…"}.', status=400, content_type="text/plain"
        )
    stopped = sms.handle_reply(sender, text)
    return HttpResponse(f"{stopped} stopped", content_type="text/plain")
