"""The catalog page cache.

Rendered catalog fragments (the main column of the home, list, search and product pages) are
cached under a key made of the catalog version, the language, the currency, the price
audience (hidden prices, or the member's price level) and the full path with its query.
Any change to a product, variant, tier, image or category bumps the version, so every key
goes stale at once: nothing has to be found and deleted.

Stock is the exception: every order takes some, and retiring the whole catalog's pages on
each order would leave the cache nearly always cold. Only the product page shows stock, so a
stock change bumps that product's own stock version, which product page keys add to the
catalog version (one MGET reads both).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

VERSION_KEY = "catalog:version"
# A missing stock version reads as this; a bumped one is a random token.
NO_STOCK_VERSION = "0"


def stock_key(slug: str) -> str:
    return f"catalog:stock:{slug}"


def _stock_version_timeout() -> int:
    # A stock version must outlive every page cached under it: were it to expire back to
    # NO_STOCK_VERSION, a page cached before the bump would match again.
    return max(2 * settings.WHOLESALE_PAGE_CACHE_SECONDS, 3600)


def bump_stock_versions(slugs) -> None:
    """Retire the cached pages of these products (their stock changed) once the current
    transaction commits; the rest of the catalog's cache stays warm."""
    keys = {stock_key(slug) for slug in slugs}
    if not keys:
        return

    def bump():
        try:
            token = uuid.uuid4().hex[:12]
            cache.set_many(dict.fromkeys(keys, token), timeout=_stock_version_timeout())
        except Exception:
            logger.warning("could not bump stock versions", exc_info=True)

    transaction.on_commit(bump)


def _with_stock(version: str, found: dict, extra_key: str | None) -> str:
    if not version or extra_key is None:
        return version
    return f"{version}.{found.get(extra_key) or NO_STOCK_VERSION}"


def catalog_version(extra_key: str | None = None) -> str:
    """The catalog version; with `extra_key` (a product's stock key), both together."""
    if extra_key is not None:
        try:
            found = cache.get_many([VERSION_KEY, extra_key])
        except Exception:
            logger.warning("catalog cache unavailable", exc_info=True)
            return ""
        version = found.get(VERSION_KEY) or catalog_version()
        return _with_stock(version, found, extra_key)
    return _catalog_version()


def _catalog_version() -> str:
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            version = uuid.uuid4().hex[:12]
            # add(), not set(): two processes starting together agree on one version.
            cache.add(VERSION_KEY, version, timeout=None)
            version = cache.get(VERSION_KEY, version)
        return version
    except Exception:  # the cache is down: serve uncached rather than fail
        logger.warning("catalog cache unavailable", exc_info=True)
        return ""


def bump_catalog_version() -> None:
    """Invalidate every cached catalog fragment once the current transaction commits."""

    def bump():
        try:
            cache.set(VERSION_KEY, uuid.uuid4().hex[:12], timeout=None)
        except Exception:
            logger.warning("could not bump the catalog cache version", exc_info=True)

    transaction.on_commit(bump)


def fragment_key(
    *, name: str, path: str, audience: str, currency: str, extra_key: str | None = None
) -> str | None:
    if settings.WHOLESALE_PAGE_CACHE_SECONDS <= 0:
        return None
    version = catalog_version(extra_key)
    if not version:
        return None
    raw = "|".join([name, version, get_language() or "", currency, audience, path])
    return "catalog:fragment:" + hashlib.sha256(raw.encode()).hexdigest()


def cache_read(key: str | None):
    """The cached value, or None when absent, switched off or the cache is down."""
    if key is None:
        return None
    try:
        return cache.get(key)
    except Exception:
        logger.warning("catalog cache unavailable", exc_info=True)
        return None


def cache_write(key: str | None, value) -> None:
    if key is None:
        return
    try:
        cache.set(key, value, timeout=settings.WHOLESALE_PAGE_CACHE_SECONDS)
    except Exception:
        logger.warning("could not store a catalog page", exc_info=True)


def cached_fragment(key: str | None, build: Callable[[], dict]) -> dict:
    """Return the cached value for `key`, or build, store and return it."""
    value = cache_read(key)
    if value is None:
        value = build()
        cache_write(key, value)
    return value


def cached_count(*, scope: str, count: Callable[[], int]) -> int:
    """A result count (e.g. of a category or a search), cached until the catalog changes.

    Counting 20,000 products costs more than fetching a page of them; the count only changes
    when a product does, which bumps the version and so the key.
    """
    version = catalog_version()
    if not version:
        return count()
    key = "catalog:count:" + hashlib.sha256(f"{version}|{scope}".encode()).hexdigest()
    try:
        value = cache.get(key)
    except Exception:
        return count()
    if value is None:
        value = count()
        try:
            cache.set(key, value, timeout=3600)
        except Exception:
            logger.warning("could not store a catalog count", exc_info=True)
    return value


def page_key(
    *, name: str, path: str, audience: str, currency: str, country: str = ""
) -> str | None:
    """The key of a whole cached page. Unlike fragment keys it holds no version: the stored
    page carries the version it was rendered at, so one MGET fetches both (see page_read).
    The page's header shows the visitor's country ("Ship to"), so the key holds it too."""
    if settings.WHOLESALE_PAGE_CACHE_SECONDS <= 0:
        return None
    raw = "|".join([name, get_language() or "", currency, audience, path, country])
    return "catalog:page:" + hashlib.sha256(raw.encode()).hexdigest()


def page_read(key: str | None, extra_key: str | None = None) -> tuple[dict | None, str]:
    """The cached page if it is of the current catalog version (and, with `extra_key`, of
    the product's current stock version), and that version.

    One round trip to the cache; the version is "" when the cache is down.
    """
    if key is None:
        return None, ""
    try:
        found = cache.get_many([VERSION_KEY, key, *([extra_key] if extra_key else [])])
    except Exception:
        logger.warning("catalog cache unavailable", exc_info=True)
        return None, ""
    version = _with_stock(found.get(VERSION_KEY) or catalog_version(), found, extra_key)
    page = found.get(key)
    if page is not None and version and page.get("version") == version:
        return page, version
    return None, version


def page_write(key: str | None, *, version: str, body: bytes, meta: dict) -> None:
    if key and version:
        cache_write(key, {"version": version, "body": body, "meta": meta})
