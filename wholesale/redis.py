"""A plain Redis client for what the cache API does not offer (lists used as buffers)."""

from __future__ import annotations

import redis
from django.conf import settings

_clients: dict[str, redis.Redis] = {}


def redis_client() -> redis.Redis | None:
    """The process's client for REDIS_URL, or None when the shop runs without Redis.

    redis-py's pool notices a fork and reconnects, so gunicorn and Celery workers are safe.
    """
    url = settings.REDIS_URL
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        client = _clients.setdefault(
            url, redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        )
    return client


def key(name: str) -> str:
    """Namespace a raw key the way the cache namespaces its keys."""
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return f"{prefix}:{name}" if prefix else name
