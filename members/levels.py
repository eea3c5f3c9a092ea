"""Membership levels: which level trailing figures reach (pure), and changing a distributor's
level (recorded, told by email).

members does not read orders: the ordering side (orders.membership) works out a member's
trailing 12-month spend and paid orders and passes them here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from catalog.audience import member_discount_forget, member_discounts_reset
from wholesale.outbox import enqueue_on_commit

from .models import Distributor, Level, LevelChange

logger = logging.getLogger(__name__)

LEVELS_CACHE_KEY = "members:levels:active"
LEVELS_CACHE_SECONDS = 3600


def _has_threshold(level) -> bool:
    return level.min_spend is not None or level.min_orders is not None


def _rank(level) -> tuple[int, int]:
    return (level.position, level.pk or 0)


def level_reached(level, spend: Decimal, order_count: int) -> bool:
    """Whether `spend` and `order_count` meet the level's thresholds (an empty one is no
    condition); a level without any threshold is reached by nobody's figures."""
    met = []
    if level.min_spend is not None:
        met.append(spend >= level.min_spend)
    if level.min_orders is not None:
        met.append(order_count >= level.min_orders)
    if not met:
        return False
    return all(met) if level.rule == Level.Rule.ALL else any(met)


def level_default(levels: Iterable) -> Level | None:
    """The level every member holds before reaching any other: the lowest-ranked active level
    without thresholds, or None when the shop has none."""
    free = [level for level in levels if level.is_active and not _has_threshold(level)]
    return min(free, key=_rank, default=None)


def level_for(levels: Iterable, spend: Decimal, order_count: int) -> Level | None:
    """The best (highest-ranked) active level whose thresholds `spend` and `order_count`
    meet, else the default level (see level_default). Pure: no queries."""
    levels = list(levels)
    reached = [
        level
        for level in levels
        if level.is_active and _has_threshold(level) and level_reached(level, spend, order_count)
    ]
    default = level_default(levels)
    if default is not None:
        reached.append(default)
    return max(reached, key=_rank, default=None)


@dataclass(frozen=True)
class NextLevel:
    """What a member still lacks for the next level up: `spend` more (None when spend is not
    a condition) and/or `orders` more (None likewise); `both` when both are needed."""

    level: Level
    spend: Decimal | None
    orders: int | None
    both: bool


def level_next(
    levels: Iterable, current: Level | None, spend: Decimal, order_count: int
) -> NextLevel | None:
    """The next active level above `current` that has thresholds, and what is missing to
    reach it; None at the top. Pure."""
    above = sorted(
        (
            level
            for level in levels
            if level.is_active
            and _has_threshold(level)
            and (current is None or _rank(level) > _rank(current))
            and not level_reached(level, spend, order_count)
        ),
        key=_rank,
    )
    if not above:
        return None
    target = above[0]
    more_spend = more_orders = None
    if target.min_spend is not None and spend < target.min_spend:
        more_spend = target.min_spend - spend
    if target.min_orders is not None and order_count < target.min_orders:
        more_orders = target.min_orders - order_count
    both = target.rule == Level.Rule.ALL and more_spend is not None and more_orders is not None
    return NextLevel(level=target, spend=more_spend, orders=more_orders, both=both)


def levels_active() -> Sequence[Level]:
    """The active levels, lowest rank first, from the cache (dropped whenever a level is saved
    or deleted): pages that show a member's discount read them without a query."""
    try:
        levels = cache.get(LEVELS_CACHE_KEY)
    except Exception:
        logger.warning("levels cache unavailable", exc_info=True)
        levels = None
    if levels is None:
        levels = tuple(Level.objects.filter(is_active=True).order_by("position", "pk"))
        try:
            cache.set(LEVELS_CACHE_KEY, levels, timeout=LEVELS_CACHE_SECONDS)
        except Exception:
            logger.warning("could not cache the levels", exc_info=True)
    return levels


def level_of(distributor: Distributor | None) -> Level | None:
    """The distributor's level while it is active, read through the levels cache."""
    if distributor is None or distributor.level_id is None:
        return None
    return next((level for level in levels_active() if level.pk == distributor.level_id), None)


@receiver([post_save, post_delete], sender=Level)
def _levels_changed(sender, **kwargs):
    def forget():
        try:
            cache.delete(LEVELS_CACHE_KEY)
        except Exception:
            logger.warning("could not drop the cached levels", exc_info=True)

    transaction.on_commit(forget)
    # Catalog pages show members their level's price, keyed by it: read it again.
    member_discounts_reset()


def level_set(
    distributor: Distributor,
    level: Level | None,
    *,
    spend: Decimal,
    order_count: int,
    reason: str,
) -> LevelChange | None:
    """Give the distributor `level`, recording the change with the figures that decided it,
    and email the member once the change commits. Nothing happens (None) when the
    distributor already holds that level: two recomputes of one payment record one change.
    """
    with transaction.atomic():
        locked = Distributor.objects.select_for_update().get(pk=distributor.pk)
        to_id = level.pk if level is not None else None
        if locked.level_id == to_id:
            return None
        now = timezone.now()
        change = LevelChange.objects.create(
            distributor=locked,
            from_level_id=locked.level_id,
            to_level=level,
            spend=spend,
            order_count=order_count,
            reason=reason[:200],
            created_at=now,
        )
        Distributor.objects.filter(pk=locked.pk).update(
            level=level, level_since=now, updated_at=now
        )
        distributor.level = level
        distributor.level_since = now
        member_discount_forget(locked.user_id)
        # Moving from no level into the default one is a member's start, not news to send.
        if change.from_level_id is not None or (level is not None and _has_threshold(level)):
            change_id = change.pk
            from .tasks import level_change_email_task  # tasks import this module

            enqueue_on_commit(level_change_email_task, change_id=change_id)
    return change


def level_change_email_send(*, change_id: int) -> None:
    """Tell the member their level changed: up (with the new discount) or down."""
    change = LevelChange.objects.select_related("distributor__user", "from_level", "to_level").get(
        pk=change_id
    )
    before, after = change.from_level, change.to_level
    if after is None:
        return
    site_url = settings.WHOLESALE_SITE_URL.rstrip("/")
    context = {
        "distributor": change.distributor,
        "level": after,
        "previous": before,
        "upgrade": before is None or _rank(after) > _rank(before),
        "shop_name": settings.WHOLESALE_SHOP_NAME,
        "account_url": f"{site_url}{reverse('members:account')}" if site_url else "",
        "catalog_url": f"{site_url}{reverse('catalog:list')}" if site_url else "",
    }
    # No language is kept per distributor yet: write in the shop's language.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("members/email/level_changed_subject.txt", context)
        text = render_to_string("members/email/level_changed.txt", context)
        html = render_to_string("members/email/level_changed.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=text, to=[change.distributor.user.email]
    )
    message.attach_alternative(html, "text/html")
    message.send()
    logger.info("level change %s emailed", change_id)
