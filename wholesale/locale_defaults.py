"""The interface language a country's visitors get by default.

Only the shop's own languages (settings.LANGUAGES) appear here; every other country gets the
default language (settings.LANGUAGE_CODE, English). Where a country speaks several of ours,
the one most of its buyers read: Switzerland German; Belgium French (Dutch, its other main
language, is not one of ours, and French is spoken across the whole country); Luxembourg
French; Canada English. A visitor can always pick another language in the switcher.
"""

from __future__ import annotations

from django.conf import settings

_LANGUAGE_COUNTRIES = {
    "es": "ES AR BO CL CO CR CU DO EC GQ GT HN MX NI PA PE PR PY SV UY VE",
    "fr": (
        # France with its overseas departments and territories, and the French-speaking
        # countries of Europe, Africa and the Caribbean.
        "FR GF GP MQ RE YT PM BL MF NC PF WF MC BE LU "
        "SN CI ML BF NE TG BJ GN CM GA CG CD CF TD DJ KM MG HT"
    ),
    "de": "DE AT CH LI",
    "ru": "RU BY KZ KG",
    "pl": "PL",
    "pt-br": "BR PT AO MZ CV GW ST TL",
}

COUNTRY_LANGUAGES: dict[str, str] = {
    country: language
    for language, codes in _LANGUAGE_COUNTRIES.items()
    for country in codes.split()
}


def language_for_country(country: str | None) -> str:
    """The default interface language for visitors from `country` (an ISO 3166 code)."""
    language = COUNTRY_LANGUAGES.get(str(country or "").upper())
    if language and language in dict(settings.LANGUAGES):
        return language
    return settings.LANGUAGE_CODE
