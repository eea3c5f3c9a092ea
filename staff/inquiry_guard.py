"""Spam protection for the public inquiry form, without an outside service.

Three checks, each cheap and each stopping a different robot:

- a honeypot field, hidden from people, that form-filling robots fill in;
- a signed timestamp of when the form was rendered: a submission under a few seconds after
  the page was served is not a person typing, and one older than a day is a replay;
- a per-IP (and per-member) count of submissions in the cache (Redis in production and tests:
  shared by every process), e.g. 5 inquiries an hour.

A rejected submission creates nothing; the views pick the answer (a neutral thank-you for the
honeypot, a form error for the clock, 429 for the rate).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache

logger = logging.getLogger(__name__)

STAMP_SALT = "staff.inquiry-form"

HONEYPOT = "honeypot"
TOO_FAST = "too_fast"
EXPIRED = "expired"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def min_seconds() -> int:
    return _setting("WHOLESALE_INQUIRY_MIN_SECONDS", 3)


def max_age_seconds() -> int:
    return _setting("WHOLESALE_INQUIRY_MAX_AGE_SECONDS", 24 * 3600)


def form_stamp(*, at: float | None = None) -> str:
    """The signed time a form is rendered at (`at` for tests of the clock checks)."""
    return signing.dumps(round(time.time() if at is None else at, 3), salt=STAMP_SALT)


def stamp_verdict(value: str | None) -> str | None:
    """None when the stamp is genuine and its age plausible; else TOO_FAST or EXPIRED (also
    for a missing or forged stamp: the page is simply sent again)."""
    try:
        rendered_at = float(signing.loads(value or "", salt=STAMP_SALT, max_age=max_age_seconds()))
    except (signing.BadSignature, TypeError, ValueError):
        return EXPIRED
    age = time.time() - rendered_at
    if age < min_seconds():
        return TOO_FAST
    if age > max_age_seconds():
        return EXPIRED
    return None


def submission_verdict(data, *, honeypot_field: str, stamp_field: str) -> str | None:
    """What is wrong with a submission, spam-wise, or None."""
    if (data.get(honeypot_field) or "").strip():
        return HONEYPOT
    return stamp_verdict(data.get(stamp_field))


def rate_limited(key: str, *, limit: int, window: int = 3600) -> bool:
    """Count one submission for `key` in a fixed window; True once the count passes `limit`.

    The count lives in the cache (atomic INCR in Redis), so every process shares it. With the
    cache down the inquiry goes through: losing a customer's message is worse than letting a
    robot past the other checks (honeypot, fill time) for a while."""
    cache_key = f"inquiry-rate:{key}"
    try:
        cache.add(cache_key, 0, timeout=window)
        try:
            count = cache.incr(cache_key)
        except ValueError:  # the window ended between add and incr
            cache.add(cache_key, 1, timeout=window)
            count = 1
    except Exception:  # the cache is down (any client error): count nothing
        logger.warning("inquiry rate limit skipped: the cache is down", exc_info=True)
        return False
    return count > limit


def inquiries_per_hour() -> int:
    return _setting("WHOLESALE_INQUIRIES_PER_HOUR", 5)


def member_messages_per_hour() -> int:
    return _setting("WHOLESALE_MEMBER_MESSAGES_PER_HOUR", 30)
