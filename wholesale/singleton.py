"""Small values that shop pages read on every request, cached until the settings row
(one row, pk 1, edited by the super admin only) or the rows they come from change.

``cached(key, build)`` reads a value that every page needs (the live-chat snippet, the payment
methods) from the cache, building it on a miss; ``forget(key)`` drops it when its rows change.
A cache that is down costs a query, never a failed page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

SINGLETON_PK = 1
# An hour, not forever: a missed invalidation (a row changed by raw SQL, or a request that read
# the old row just before the commit and stored it just after) heals by itself.
CACHE_SECONDS = 3600


def cached(key: str, build: Callable[[], Any], *, timeout: int = CACHE_SECONDS) -> Any:
    """The value cached under `key`, or `build()` stored there. `build` must not return None."""
    try:
        value = cache.get(key)
    except Exception:
        logger.warning("cache unavailable reading %s", key, exc_info=True)
        return build()
    if value is None:
        value = build()
        try:
            cache.set(key, value, timeout=timeout)
        except Exception:
            logger.warning("could not cache %s", key, exc_info=True)
    return value


def _delete(keys: tuple[str, ...]) -> None:
    try:
        cache.delete_many(keys)
    except Exception:
        logger.warning("could not forget %s", keys, exc_info=True)


def forget(*keys: str) -> None:
    """Drop cached values now and again once the current transaction commits.

    Now, so the request that made the change reads it back; after the commit too, because a
    request that read the old row in between may have cached it again.
    """
    _delete(keys)
    transaction.on_commit(lambda: _delete(keys))
