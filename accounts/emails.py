"""Emails from templates, each written in its recipient's language."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import User


def templated_email(name: str, context: dict, recipient: User, headers=None) -> EmailMultiAlternatives:
    """`emails/<name>_subject.txt`, `<name>.txt` and `<name>.html` for `recipient`, in the
    language they chose, whatever language the sender's page is in."""
    with translation.override(recipient.language):
        message = EmailMultiAlternatives(
            subject=render_to_string(f"emails/{name}_subject.txt", context).strip(),
            body=render_to_string(f"emails/{name}.txt", context),
            to=[recipient.email],
            headers={**(headers or {}), "Content-Language": recipient.language},
        )
        message.attach_alternative(render_to_string(f"emails/{name}.html", context), "text/html")
    return message
