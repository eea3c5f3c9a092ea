"""The header's language and "Ship to" choices (templates/wholesale/_language_switcher.html).

Every page shows them, some 250 countries among them: their options are rendered once per
language and process, then only the visitor's own is marked, which costs microseconds instead
of a template loop's milliseconds.
"""

import functools

from django import template
from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, get_language_info
from django_countries import countries

register = template.Library()


@functools.lru_cache(maxsize=32)
def _options(language: str) -> tuple[tuple[str, str], ...]:
    # Called with `language` active: django-countries names and sorts the countries in it.
    return tuple(
        (country.code, f'<option value="{country.code}">{escape(country.name)}</option>')
        for country in countries
    )


@register.simple_tag
def country_options(selected) -> str:
    """The <option>s of every country, in the active language, `selected` marked."""
    code = str(selected or "")
    marker = f'value="{code}">'
    html = "".join(
        option.replace(marker, f'value="{code}" selected>', 1) if value == code else option
        for value, option in _options(get_language() or "")
    )
    return mark_safe(html)  # noqa: S308 - codes and escaped names


@functools.cache
def _language_options() -> tuple[tuple[str, str], ...]:
    options = []
    for code, _name in settings.LANGUAGES:
        name = escape(capfirst(get_language_info(code)["name_local"]))
        options.append((code, f'<option value="{code}" lang="{code}">{name}</option>'))
    return tuple(options)


@register.simple_tag
def language_options(selected) -> str:
    """The <option>s of the shop's languages, each named in itself, `selected` marked."""
    code = str(selected or "")
    marker = f'lang="{code}">'
    html = "".join(
        option.replace(marker, f'lang="{code}" selected>', 1) if value == code else option
        for value, option in _language_options()
    )
    return mark_safe(html)  # noqa: S308 - codes and escaped names
