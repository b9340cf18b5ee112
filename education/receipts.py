"""Acknowledgment receipts: the short code a clinician checks a receipt by, and the hash
of the text the patient confirmed reading."""

import hashlib
import re
import secrets

from education.models import AcknowledgmentReceipt, ModuleVersion

# Crockford's base 32: no I, L, O or U, so a code read aloud or retyped is not misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def text_sha256(version: ModuleVersion, language: str = "en") -> str:
    """SHA-256 of the version as the reader shows it in `language`: its title and its
    rendered text. Both are stored with the version, so the hash can be recomputed."""
    text = version.text_in(language)
    return hashlib.sha256(f"{text.title}\n\n{text.body_html}".encode()).hexdigest()


def new_code() -> str:
    """A fresh verification code, unused so far (50 random bits: a clash is rare, and the
    unique index refuses one that slips through)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if not AcknowledgmentReceipt.objects.filter(verification_code=code).exists():
            return code


def shown(code: str) -> str:
    """The code as printed: two groups of five."""
    return f"{code[:5]}-{code[5:]}"


def normalized(typed: str) -> str | None:
    """The code a clinician typed, as stored, or None when it cannot be one: spaces and
    dashes dropped, case and look-alike letters forgiven."""
    code = re.sub(r"[\s-]", "", typed).upper().translate(_LOOK_ALIKES)
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code
