"""A member's level discount as the catalog shows it ("Your Gold price"), read through the
user object (catalog imports no other app) and kept in the cache per member: looked up when
the member logs in, so catalog pages cost no query for it.

An entry is dropped when the member's level changes (member_discount_forget), and all of
them go stale at once when staff edit a level (member_discounts_reset), both called by
members.levels.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db import transaction
from django.dispatch import receiver

from wholesale.money import Money, quantize

logger = logging.getLogger(__name__)

VERSION_KEY = "catalog:member-discounts:version"
MEMBER_DISCOUNT_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class MemberDiscount:
    percent: Decimal
    level_name: str

    @property
    def key(self) -> str:
        return f"{self.percent}:{self.level_name}"


def _key(user_id: int) -> str:
    return f"catalog:member-discount:{user_id}"


def _read_level(user) -> tuple[str, str]:
    """(percent, level name) of the user's active level with a discount, else ("0", "")."""
    # One query through the user model, leaving the user object untouched: reading
    # `user.distributor` here would cache "no distributor" on it, which a profile completed
    # later in the same request (or test) could not undo.
    row = (
        get_user_model()
        ._default_manager.filter(pk=user.pk)
        .values_list(
            "distributor__level__discount_percent",
            "distributor__level__name",
            "distributor__level__is_active",
        )
        .first()
    )
    if row is None or row[0] is None or not row[2] or row[0] <= 0:
        return ("0", "")
    return (str(row[0]), row[1])


def _version(found: dict) -> str:
    version = found.get(VERSION_KEY)
    if version is None:
        # add(), not set(): two processes starting together agree on one version.
        cache.add(VERSION_KEY, uuid.uuid4().hex[:12], timeout=None)
        version = cache.get(VERSION_KEY) or ""
    return version


def member_discount(user) -> MemberDiscount | None:
    """The discount the user's level gives on list prices, or None (guests, staff, members
    without a discount). One cache round trip when warm; the cache down, a query or two."""
    if not user.is_authenticated:
        return None
    key = _key(user.pk)
    try:
        found = cache.get_many([VERSION_KEY, key])
        version = _version(found)
    except Exception:
        logger.warning("member discount cache unavailable", exc_info=True)
        found, version = {}, ""
    entry = found.get(key)
    if not version or entry is None or entry[0] != version:
        entry = (version, *_read_level(user))
        if version:
            try:
                cache.set(key, entry, timeout=MEMBER_DISCOUNT_SECONDS)
            except Exception:
                logger.warning("could not cache a member discount", exc_info=True)
    _version_read, percent, name = entry
    if not name:
        return None
    return MemberDiscount(Decimal(percent), name)


@receiver(user_logged_in)
def _look_up_at_login(sender, request, user, **kwargs):
    member_discount(user)


def _after_commit(action) -> None:
    def run():
        try:
            action()
        except Exception:
            logger.warning("could not drop member discounts", exc_info=True)

    transaction.on_commit(run)


def member_discount_forget(user_id: int) -> None:
    """Drop the member's cached discount once the current transaction commits."""
    _after_commit(lambda: cache.delete(_key(user_id)))


def member_discounts_reset() -> None:
    """Make every member's cached discount stale once the current transaction commits."""
    _after_commit(lambda: cache.set(VERSION_KEY, uuid.uuid4().hex[:12], timeout=None))


def member_price(unit_price: Money, percent: Decimal) -> Money:
    """A list price with the member's level discount taken off, to the minor unit."""
    off = quantize(unit_price.amount * percent / Decimal(100), unit_price.currency)
    return Money(unit_price.amount - off, unit_price.currency)
