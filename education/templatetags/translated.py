"""A module's words in the language the page shows them in: `{{ question|text_in:language }}`.
The translations ride on the rows already loaded, so a translated page runs the same
queries as an English one."""

from django import template

register = template.Library()


@register.filter
def text_in(item, language: str) -> str:
    """A question's or a choice's text."""
    return item.text_in(language)


@register.filter
def explanation_in(choice, language: str) -> str:
    return choice.explanation_in(language)


@register.filter
def title_in(module, language: str) -> str:
    return module.title_in(language)


@register.filter
def summary_in(module, language: str) -> str:
    return module.summary_in(language)
