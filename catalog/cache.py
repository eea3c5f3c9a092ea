"""The catalog page cache.

Rendered catalog fragments (the main column of the home, list, search and product pages) are
cached under a key made of the catalog version, the language, the currency, the price
audience (hidden prices, or the member's price level) and the full path with its query.
Any change to a product, variant, tier, image or category bumps the version, so every key
goes stale at once: nothing has to be found and deleted.
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


def catalog_version() -> str:
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


def fragment_key(*, name: str, path: str, audience: str, currency: str) -> str | None:
    version = catalog_version()
    if not version or settings.WHOLESALE_PAGE_CACHE_SECONDS <= 0:
        return None
    raw = "|".join([name, version, get_language() or "", currency, audience, path])
    return "catalog:fragment:" + hashlib.sha256(raw.encode()).hexdigest()


def cached_fragment(key: str | None, build: Callable[[], dict]) -> dict:
    """Return the cached value for `key`, or build, store and return it."""
    if key is None:
        return build()
    try:
        value = cache.get(key)
    except Exception:
        logger.warning("catalog cache unavailable", exc_info=True)
        return build()
    if value is None:
        value = build()
        try:
            cache.set(key, value, timeout=settings.WHOLESALE_PAGE_CACHE_SECONDS)
        except Exception:
            logger.warning("could not store a catalog fragment", exc_info=True)
    return value
