"""The visitor's country and default language.

`request.country` (CountryMiddleware, right after the session's): the country the visitor
chose in the "Ship to" switcher (session "country"), else the country of their address
(wholesale.geo), else settings.WHOLESALE_DEFAULT_COUNTRY. It is worked out on first use, so
requests that never ask (static files, the health probe, the admin) pay nothing. The currency
and payment defaults follow it. A member's own distributor country is not part of it: their
delivery address decides their shipping at checkout, and the checkout's new-address form
starts from their distributor country.

The language is in the URL (/catalog/ English, /es/catalog/ Spanish). LanguageDefaultMiddleware
(after authentication) sends a GET of an English buyer page to the same page in the visitor's
language, which is, first to last: a member's preferred language, the language they chose in
the switcher (the language cookie), the language of their address's country. The latter is
applied once: the redirect sets the language cookie, which from then on is the visitor's
language until they choose another. The staff's and machines' URLs (admin, analytics, health,
webhooks, the switchers' endpoints, static and media files) never move, and neither do
crawlers: they must see stable URLs, and the hreflang links tell them about the other
languages. A member's preferred language also becomes the language cookie when they log in.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponseRedirect
from django.urls import translate_url
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language_from_path

from .geo import client_ip, country_codes, country_for_ip
from .locale_defaults import language_for_country

SESSION_COUNTRY = "country"

# Crawlers, link previews and scripts (and clients that send no User-Agent at all): they get
# the page they asked for.
_BOTS = re.compile(
    r"bot|crawl|spider|slurp|archiver|facebookexternalhit|embedly|preview|whatsapp|"
    r"curl|wget|python-|httpclient|go-http|java/|okhttp|lighthouse",
    re.IGNORECASE,
)
# Never redirected to another language: the staff's pages, machine endpoints and files.
_FIXED_PREFIXES = (
    "/admin/",
    "/analytics/",
    "/healthz",
    "/i18n/",
    "/currency/",
    "/payments/stripe/webhook",
)


# --- The country ------------------------------------------------------------------------------


def is_country(code) -> bool:
    return isinstance(code, str) and code in country_codes()


def chosen_country(request) -> str:
    """The country the visitor chose in the "Ship to" switcher, or ""."""
    session = getattr(request, "session", None)
    code = session.get(SESSION_COUNTRY) if session is not None else None
    return code if is_country(code) else ""


def ip_country(request) -> str:
    """The country of the visitor's address, or "" (private, reserved or unknown address)."""
    if not hasattr(request, "_wholesale_ip_country"):
        request._wholesale_ip_country = country_for_ip(client_ip(request))
    return request._wholesale_ip_country


def country_for_request(request) -> str:
    return chosen_country(request) or ip_country(request) or settings.WHOLESALE_DEFAULT_COUNTRY


def country_choose(request, code: str) -> bool:
    """Remember the visitor's "Ship to" country in their session; "" forgets the choice.
    False, and nothing changed, when `code` is not a country. Members keep nothing else: the
    address they pick at checkout decides where their order goes."""
    code = (code or "").strip().upper()
    if not code:
        request.session.pop(SESSION_COUNTRY, None)
    elif is_country(code):
        request.session[SESSION_COUNTRY] = code
    else:
        return False
    request.country = country_for_request(request)
    return True


class CountryMiddleware:
    """Sets request.country (see the module's docstring), worked out on first use."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.country = SimpleLazyObject(lambda: country_for_request(request))
        return self.get_response(request)


# --- The language -----------------------------------------------------------------------------


def shop_languages() -> dict:
    """{code: name} of the shop's languages."""
    return dict(settings.LANGUAGES)


def set_language_cookie(response, language: str) -> None:
    """The cookie Django's set_language writes: the visitor's language from now on."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def member_language_save(*, member, language: str) -> bool:
    """Save `language` as the member's preferred language. False for a language the shop does
    not speak (nothing saved)."""
    if language not in shop_languages():
        return False
    if member.preferred_language != language:
        member.preferred_language = language
        member.save(update_fields=["preferred_language"])
    return True


def _fixed_path(path: str) -> bool:
    if path.startswith(_FIXED_PREFIXES):
        return True
    return any(
        prefix and prefix.startswith("/") and path.startswith(prefix)
        for prefix in (settings.STATIC_URL, settings.MEDIA_URL)
    )


def _wanted_language(request) -> tuple[str, bool]:
    """The visitor's language, and whether it is the default of their country (to remember)."""
    user = getattr(request, "user", None)
    preferred = getattr(user, "preferred_language", "") if user is not None else ""
    if preferred and user.is_authenticated and preferred in shop_languages():
        return preferred, False
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if cookie in shop_languages():
        return cookie, False
    return language_for_country(ip_country(request)), True


def language_redirect(request) -> HttpResponseRedirect | None:
    """The redirect of an English buyer page to the visitor's language, or None."""
    if request.method != "GET":
        return None
    path = request.path_info
    if get_language_from_path(path) or _fixed_path(path):
        return None
    agent = request.headers.get("User-Agent", "")
    if not agent or _BOTS.search(agent):
        return None
    language, from_country = _wanted_language(request)
    if language == settings.LANGUAGE_CODE:
        return None
    here = request.get_full_path()
    target = translate_url(here, language)
    if target == here:
        return None
    response = HttpResponseRedirect(target)
    if from_country:
        set_language_cookie(response, language)
    add_never_cache_headers(response)
    patch_vary_headers(response, ("Cookie",))
    return response


class LanguageDefaultMiddleware:
    """Sends English buyer pages to the visitor's language; writes the language cookie a
    login asked for (see the module's docstring). After AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = language_redirect(request)
        if response is not None:
            return response
        response = self.get_response(request)
        language = getattr(request, "_wholesale_language_cookie", None)
        if language:
            set_language_cookie(response, language)
        return response


@receiver(user_logged_in, dispatch_uid="wholesale.visitor.member_language")
def _member_language_on_login(*, request, user, **kwargs):
    """A member's preferred language becomes this browser's language when they log in."""
    language = getattr(user, "preferred_language", "")
    if request is not None and language in shop_languages():
        request._wholesale_language_cookie = language
