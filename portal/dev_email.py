"""Email in development: no mail server, nothing leaves the machine.

Each message is printed to the console as a plain block (who, subject, the text body with
its links: no MIME headers, no base64) and kept as an .eml file in SENT_EMAILS_DIR, where
the staff's "Sent emails" page (portal/views/dev_emails.py) reads it back. Files rather
than memory because runserver's autoreloader starts a new process on every code change.
settings.py chooses this backend only outside production when no mail server is set."""

import email
import email.policy
import secrets
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from django.utils.html import strip_tags

RULE = "-" * 72


class EmailBackend(BaseEmailBackend):
    def __init__(self, *args, stream=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()

    def send_messages(self, email_messages):
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                keep(message)
                with self._lock:
                    self.stream.write(readable(message))
                    self.stream.flush()
            except Exception:
                if not self.fail_silently:
                    raise
            else:
                sent += 1
        return sent


def readable(message) -> str:
    """The message as a person reads it: the text body, or the HTML one without its tags."""
    body = message.body if message.content_subtype == "plain" else strip_tags(message.body)
    return (
        f"\n{RULE}\nEmail to {', '.join(message.recipients())}\n"
        f"Subject: {message.subject}\n{RULE}\n{body.rstrip()}\n{RULE}\n\n"
    )


def keep(message) -> Path:
    """Write the message as an .eml file; names start with the time sent, so they sort."""
    folder = Path(settings.SENT_EMAILS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{timezone.now():%Y%m%d-%H%M%S-%f}-{secrets.token_hex(4)}.eml"
    path = folder / name
    # "x": never overwrite, though the time and random suffix make a clash unlikely.
    with path.open("xb") as file:
        file.write(message.message().as_bytes())
    return path


@dataclass(frozen=True)
class SentEmail:
    to: str
    subject: str
    sent_at: datetime | None
    body: str


def sent_emails(limit: int = 100) -> list[SentEmail]:
    """The newest kept messages first, at most `limit`, each with its text body."""
    folder = Path(settings.SENT_EMAILS_DIR)
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [_read(path) for path in paths]


def _read(path: Path) -> SentEmail:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    date = message["Date"]
    return SentEmail(
        to=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        sent_at=date.datetime if date is not None and date.datetime else None,
        body=_text_body(message),
    )


def _text_body(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content()
    return text if part.get_content_subtype() == "plain" else strip_tags(text)
