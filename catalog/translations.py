"""Which languages catalog content (product and category names, descriptions) is translated
into, and how PostgreSQL stems each for search.

The base language is LANGUAGE_CODE: the name and description on Product and Category are
written in it, and are what a page shows where an editor left a translation out.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language

# PostgreSQL's text search configuration per language; a language it has none for (Polish)
# is indexed and searched word for word ("simple").
SEARCH_CONFIGS = {
    "en": "english",
    "es": "spanish",
    "fr": "french",
    "de": "german",
    "ru": "russian",
    "pt": "portuguese",
    "it": "italian",
    "nl": "dutch",
}


def translation_languages() -> list[tuple[str, str]]:
    """The choices of a translation's language: every interface language but the base one."""
    return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def content_language() -> str | None:
    """The active language if content is translated into it, None for the base language."""
    language = (get_language() or "").lower()
    codes = {code for code, _name in translation_languages()}
    if language in codes:
        return language
    generic = language.split("-")[0]
    return generic if generic in codes else None


def search_config(language: str) -> str:
    return SEARCH_CONFIGS.get(language) or SEARCH_CONFIGS.get(language.split("-")[0], "simple")
