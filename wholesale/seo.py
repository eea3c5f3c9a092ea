"""What search engines and link previews read of the public pages, per language.

- The canonical address of a page: its own language's URL, on the shop's public address
  (WHOLESALE_SITE_URL, else the request's host), without the request's query. A list page
  states the query that selects what it lists (``category``, ``q`` and ``page`` above 1, see
  listing_meta); sort orders, tracking tags (utm_*, gclid, fbclid ...) and anything else
  show the same products, and on every other page no query changes what it shows.
- hreflang alternates: the same page in each of settings.LANGUAGES, plus ``x-default`` (the
  default language's URL), through django.urls.translate_url.
- Open Graph tags: og:title, og:description, og:url (the canonical address), og:locale and
  og:locale:alternate on every public page; og:type ``product`` and og:image on product pages.
- robots.txt: everything public may be crawled; the staff's pages and a buyer's own pages
  (account, cart, checkout, payments, login) may not, in every language.

Pages under a private prefix get no canonical, alternates or Open Graph tags: robots.txt keeps
crawlers out of them and nobody shares them.

Cached catalog pages (catalog.views._render_cached) keep the tags they were rendered with: the
page cache key holds the language and the full path, so each language and address has its own
copy, and none depends on who asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from django.conf import settings
from django.http import HttpResponse
from django.urls import (
    NoReverseMatch,
    Resolver404,
    get_script_prefix,
    get_urlconf,
    resolve,
    reverse,
    translate_url,
)
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext, override, to_locale
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from .currencies import format_display
from .money import Money

DESCRIPTION_LENGTH = 160

# Pages that are nobody's business but the staff's or one buyer's. The first have one address;
# the second live under each language's prefix (wholesale/urls.py, i18n_patterns).
PRIVATE_PATHS = ("/admin/", "/analytics/", "/i18n/", "/currency/")
PRIVATE_LANGUAGE_PATHS = ("account/", "accounts/", "cart/", "checkout/", "payments/", "r/")

_SPACES = re.compile(r"\s+")


# --- Addresses --------------------------------------------------------------------------------


def site_root(request) -> str:
    """The shop's public address without a trailing slash, e.g. "https://shop.example"."""
    configured = (settings.WHOLESALE_SITE_URL or "").rstrip("/")
    if configured:
        return configured
    return f"{request.scheme}://{request.get_host()}"


def absolute_url(request, url: str) -> str:
    """`url` as an absolute address; one that already is (a CDN's media URL) stays as it is."""
    if not url or url.startswith(("http://", "https://")):
        return url
    if url.startswith("//"):
        return f"{request.scheme}:{url}"
    return site_root(request) + url


def private_paths() -> tuple[str, ...]:
    return _private_paths(settings.LANGUAGE_CODE, tuple(code for code, _n in settings.LANGUAGES))


@lru_cache(maxsize=8)
def _private_paths(default: str, languages: tuple[str, ...]) -> tuple[str, ...]:
    paths = list(PRIVATE_PATHS)
    for code in languages:
        prefix = "/" if code == default else f"/{code}/"  # i18n_patterns, no default prefix
        paths += [prefix + path for path in PRIVATE_LANGUAGE_PATHS]
    return tuple(paths)


def is_public(path: str) -> bool:
    return not path.startswith(private_paths())


def hreflang(code: str) -> str:
    """The hreflang value of a Django language code: "en", "pt-BR"."""
    return to_locale(code).replace("_", "-")


@dataclass(frozen=True)
class Alternate:
    hreflang: str
    url: str


def _translated_paths(request) -> dict[str, str]:
    """{language: the request's page in that language}, as translate_url() gives them."""
    languages = tuple(code for code, _name in settings.LANGUAGES)
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    found = _paths_in_languages(urlconf, get_script_prefix(), request.path_info, languages)
    return dict(zip(languages, found, strict=True))


@lru_cache(maxsize=4096)
def _paths_in_languages(
    urlconf: str, script_prefix: str, path_info: str, languages: tuple[str, ...]
) -> tuple[str, ...]:
    # translate_url() resolves the path again for every language, which cost more than the
    # rest of the <head> together: resolve once, reverse in each language, and remember the
    # answer per path (it depends on nothing else named in the key).
    try:
        match = resolve(path_info, urlconf)
    except Resolver404:
        return tuple(script_prefix + path_info.lstrip("/") for _code in languages)
    paths = []
    for code in languages:
        with override(code):
            try:
                paths.append(
                    reverse(match.view_name, urlconf, args=match.args, kwargs=match.kwargs)
                )
            except NoReverseMatch:
                paths.append(translate_url(script_prefix + path_info.lstrip("/"), code))
    return tuple(paths)


def alternates(request, query: str = "") -> list[Alternate]:
    """The request's page (with its canonical `query`, "" or "?category=bags") in every
    language, then x-default (the default language's)."""
    root = site_root(request)
    paths = _translated_paths(request)
    links = [Alternate(hreflang(code), root + url + query) for code, url in paths.items()]
    links.append(Alternate("x-default", root + paths[settings.LANGUAGE_CODE] + query))
    return links


# --- Text -------------------------------------------------------------------------------------


def trim_description(text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """One line of at most `limit` characters, cut at a word with an ellipsis when longer."""
    text = _SPACES.sub(" ", text or "").strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–—") + "…"


@lru_cache(maxsize=32)
def og_locale(code: str) -> str:
    """The Open Graph locale (language_TERRITORY) of a Django language code: "en" gives
    "en_US" and "es" "es_ES" (the language's most likely territory), "pt-br" "pt_BR"."""
    name = to_locale(code)
    try:
        locale = Locale.parse(name)
        if not locale.territory:
            likely = get_global("likely_subtags").get(locale.language)
            locale = Locale.parse(likely) if likely else locale
    except (UnknownLocaleError, ValueError):
        return name
    return f"{locale.language}_{locale.territory}" if locale.territory else locale.language


# --- What each catalog page says about itself -------------------------------------------------
# Catalog views put these in their page_meta, which the page cache keeps with the page (per
# language, currency and price audience): "title" and "description" for every page, "og_type"
# and "image" (the main picture's URL) for a product, "robots" for search results and
# "canonical_query" for list pages.


def home_meta() -> dict:
    return {
        "title": _("Wholesale direct from the factory"),
        "description": _(
            "Order wholesale direct from the factory: tiered quantity prices, low minimum "
            "orders and worldwide shipping for shops, online sellers and distributors."
        ),
    }


def listing_meta(
    *,
    title: str,
    count: int,
    number: int = 1,
    term: str = "",
    category: str = "",
    category_slug: str = "",
    category_description: str = "",
) -> dict:
    """A catalog list page: all products, a category, or search results (not for indexing:
    they repeat the catalog, and every visitor's words would make a new page). Its canonical
    query names what it lists as the view understood it (`category_slug`, the normalised
    `term`, the page `number`)."""
    if number > 1:
        title = _("%(title)s, page %(number)s") % {"title": title, "number": number}
    selection = [("category", category_slug), ("q", term), ("page", number if number > 1 else "")]
    query = urlencode([(name, value) for name, value in selection if value])
    meta = {"title": title, "canonical_query": f"?{query}" if query else ""}
    if term:
        meta["description"] = ngettext(
            "%(count)s product found for “%(term)s”.",
            "%(count)s products found for “%(term)s”.",
            count,
        ) % {"count": count, "term": term}
        meta["robots"] = "noindex, follow"
    elif category:
        meta["description"] = category_description or ngettext(
            "%(category)s wholesale direct from the factory: %(count)s product with tiered "
            "quantity prices.",
            "%(category)s wholesale direct from the factory: %(count)s products with tiered "
            "quantity prices.",
            count,
        ) % {"category": category, "count": count}
    else:
        meta["description"] = ngettext(
            "Our wholesale catalog: %(count)s product direct from the factory, with tiered "
            "quantity prices and low minimum orders.",
            "Our wholesale catalog: %(count)s products direct from the factory, with tiered "
            "quantity prices and low minimum orders.",
            count,
        ) % {"count": count}
    return meta


def product_meta(
    *,
    name: str,
    category: str,
    description: str,
    moq: int,
    price_from=None,
    image: str = "",
) -> dict:
    """A product page. `price_from` (a base-currency Decimal) only when the page shows prices:
    the description then opens with it, in the visitor's currency."""
    title = _("%(product)s · %(category)s") % {"product": name, "category": category}
    text = trim_description(description) or _(
        "%(product)s, wholesale direct from the factory. Minimum order: %(moq)s units."
    ) % {"product": name, "moq": moq}
    if price_from is not None:
        lead = _("From %(price)s, minimum order %(moq)s units.") % {
            "price": format_display(Money.base(price_from)),
            "moq": moq,
        }
        text = f"{lead} {text}"
    return {
        "title": title if category else name,
        "description": trim_description(text),
        "og_type": "product",
        "image": image,
    }


# --- The <head> -------------------------------------------------------------------------------


def _meta(attribute: str, key: str, value: str) -> str:
    return f'<meta {attribute}="{key}" content="{escape(str(value))}">'


def head_tags(
    request,
    *,
    title: str = "",
    description: str = "",
    og_type: str = "",
    image: str = "",
    robots: str = "",
    canonical_query: str = "",
) -> SafeString:
    """The page's description, robots, canonical, hreflang and Open Graph tags; the canonical
    address is the page's path with `canonical_query` (see listing_meta), never the request's.

    Every value is escaped here (html.escape: format_html's lazy-aware escaping cost more than
    resolving the page's addresses, on every page a member sees)."""
    description = trim_description(str(description))
    tags = []
    if description:
        tags.append(_meta("name", "description", description))
    if robots:
        tags.append(_meta("name", "robots", robots))
    if request is not None and is_public(request.path):
        canonical = site_root(request) + request.path + canonical_query
        tags.append(f'<link rel="canonical" href="{escape(canonical)}">')
        tags += [
            f'<link rel="alternate" hreflang="{link.hreflang}" href="{escape(link.url)}">'
            for link in alternates(request, canonical_query)
        ]
        current = get_language() or settings.LANGUAGE_CODE
        tags += [
            _meta("property", "og:site_name", settings.WHOLESALE_SHOP_NAME),
            _meta("property", "og:type", og_type or "website"),
            _meta("property", "og:title", title or settings.WHOLESALE_SHOP_NAME),
            _meta("property", "og:url", canonical),
            _meta("property", "og:locale", og_locale(current)),
        ]
        tags += [
            _meta("property", "og:locale:alternate", og_locale(code))
            for code, _name in settings.LANGUAGES
            if code != current
        ]
        if description:
            tags.append(_meta("property", "og:description", description))
        if image:
            tags.append(_meta("property", "og:image", absolute_url(request, image)))
            if title:
                tags.append(_meta("property", "og:image:alt", title))
    return mark_safe("\n  ".join(tags))  # noqa: S308 - every value escaped above


# --- robots.txt -------------------------------------------------------------------------------


@require_safe
@cache_control(max_age=3600, public=True)
def robots_txt(request):
    # Disallow lines first: crawlers that take the first matching rule (not the longest, as
    # Google does) would otherwise let "Allow: /" win.
    lines = ["User-agent: *"]
    lines += [f"Disallow: {path}" for path in private_paths()]
    lines.append("Allow: /")
    lines.append(f"Sitemap: {site_root(request)}{reverse('sitemap')}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
