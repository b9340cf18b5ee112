"""Links to a record by its code, with the URL reversed once per process for each name.

`{% url %}` resolves its pattern on every call: the 18 links of a patient's My modules
page were a sixth of its rendering, the dashboard's 50 a fifth of its own. A link to a
record differs from the next only in the code, so the URL is reversed once with a
placeholder code and the placeholder replaced after that.

    {% load links %}<a href="{{ attempt.code|link:'education:quiz_result' }}">
"""

import functools
import uuid

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

_PLACEHOLDER = str(uuid.UUID(int=0))


@register.filter
def link(code, name: str) -> str:
    """The URL `name` takes for the record with this code."""
    before, after = _around_the_code(name, get_script_prefix(), get_urlconf())
    return f"{before}{code}{after}"


def url_with_code(name: str) -> str:
    """The URL `name` takes for a record, with "{code}" where the code goes."""
    before, after = _around_the_code(name, get_script_prefix(), get_urlconf())
    return f"{before}{{code}}{after}"


@functools.lru_cache(maxsize=256)
def _around_the_code(name: str, script_prefix: str, urlconf) -> tuple[str, str]:
    # Keyed on what reverse() depends on besides the name: a site served under another
    # prefix or URLconf gets its own.
    before, _, after = reverse(name, args=[_PLACEHOLDER], urlconf=urlconf).partition(_PLACEHOLDER)
    return before, after
