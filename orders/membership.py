"""Membership levels from the ordering side: a member's trailing 12-month figures, the level
they reach, and the level discount as checkout applies it.

A level is recomputed after an order is paid and after a refund settles (orders.lifecycle
calls member_level_recompute_on_commit), and nightly for everyone, so levels whose orders
have aged past 12 months lapse (members_level_recompute_all).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from members.levels import level_for, level_next, level_of, level_set, levels_active
from members.models import Distributor, Level, LevelChange
from members.selectors import distributor_for
from wholesale.money import Money, quantize
from wholesale.outbox import enqueue_on_commit

from . import states
from .models import Order, OrderState

logger = logging.getLogger(__name__)

# "Paid" for a level: paid and not given back as a whole.
LEVEL_STATES = frozenset(states.PAID_STATES - {OrderState.REFUNDED})
# An order's amount net of refunds, in the base currency (refunds are in the order's currency).
NET_BASE = ExpressionWrapper(
    F("grand_total_base") - F("refunded_total") / F("exchange_rate"),
    output_field=DecimalField(max_digits=14, decimal_places=2),
)


def window_start(now: datetime | None = None) -> datetime:
    """Twelve months before `now` (29 February falls back to the 28th)."""
    now = now or timezone.now()
    try:
        return now.replace(year=now.year - 1)
    except ValueError:
        return now.replace(year=now.year - 1, day=28)


@dataclass(frozen=True)
class MemberFigures:
    spend: Money  # base currency
    order_count: int


def _paid_orders(now: datetime | None):
    return Order.objects.filter(state__in=LEVEL_STATES, paid_at__gte=window_start(now)).order_by()


def member_figures(*, member, now: datetime | None = None) -> MemberFigures:
    """The member's paid orders of the last 12 months: their total net of refunds in the base
    currency, and how many. One query."""
    row = _paid_orders(now).filter(member=member).aggregate(spend=Sum(NET_BASE), count=Count("pk"))
    base = settings.WHOLESALE_BASE_CURRENCY
    spend = quantize(max(row["spend"] or Decimal(0), Decimal(0)), base)
    return MemberFigures(Money(spend, base), row["count"] or 0)


def member_level_recompute(
    *, member, reason: str | None = None, now: datetime | None = None
) -> LevelChange | None:
    """Give the member the level their figures reach now; the change, or None when the level
    stays. The figures are read with the distributor's row locked, so two recomputes (a
    payment and the nightly job) apply one after the other on fresh figures."""
    with transaction.atomic():
        distributor = Distributor.objects.select_for_update().filter(user=member).first()
        if distributor is None:
            return None
        figures = member_figures(member=member, now=now)
        level = level_for(
            Level.objects.filter(is_active=True), figures.spend.amount, figures.order_count
        )
        return level_set(
            distributor,
            level,
            spend=figures.spend.amount,
            order_count=figures.order_count,
            reason=reason or _("Paid orders of the last 12 months."),
        )


def member_level_recompute_on_commit(*, order: Order, event: str) -> None:
    """Recompute the level of the order's member from a task once the current transaction
    commits (`event`: "paid" or "refunded"). A broker that is down is logged, and the nightly
    job catches up."""
    from .tasks import member_level_recompute_task  # tasks import lifecycle, which imports this

    reasons = {
        "paid": _("Order %(number)s paid."),
        "refunded": _("Refund on order %(number)s."),
    }
    member_id, reason = order.member_id, reasons[event] % {"number": order.number}
    enqueue_on_commit(member_level_recompute_task, member_id=member_id, reason=reason)


def members_level_recompute_all(*, now: datetime | None = None, batch: int = 500) -> int:
    """Nightly: every distributor's level from their figures now, so levels lapse as orders
    age past 12 months. Figures are read per batch in one query; only a distributor whose
    level would change is recomputed under its lock. Returns how many changed."""
    levels = list(Level.objects.filter(is_active=True))
    changed = 0
    last_pk = 0
    while True:
        rows = list(
            Distributor.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "user_id", "level_id")[:batch]
        )
        if not rows:
            break
        last_pk = rows[-1][0]
        figures = {
            row["member"]: (row["spend"] or Decimal(0), row["count"])
            for row in _paid_orders(now)
            .filter(member__in=[user_id for _pk, user_id, _level in rows])
            .values("member")
            .annotate(spend=Sum(NET_BASE), count=Count("pk"))
        }
        for _pk, user_id, level_id in rows:
            spend, count = figures.get(user_id, (Decimal(0), 0))
            level = level_for(levels, spend, count)
            if (level.pk if level else None) == level_id:
                continue
            try:
                change = member_level_recompute(
                    member=user_id,
                    now=now,
                    reason=_("Nightly review of the paid orders of the last 12 months."),
                )
            except Exception:
                logger.exception("level of member %s not recomputed", user_id)
                continue
            changed += change is not None
    return changed


# --- The level discount at checkout -----------------------------------------------------------


@dataclass(frozen=True)
class LevelDiscount:
    name: str
    percent: Decimal


def level_discount_for(member) -> LevelDiscount | None:
    """The price discount the member's level gives, or None: the member's distributor (read
    once per request) and its level from the levels cache, so the cart, both checkout steps
    and placing apply the same discount without a query of their own."""
    level = level_of(distributor_for(member))
    if level is None or level.discount_percent <= 0:
        return None
    return LevelDiscount(level.name, level.discount_percent)


@dataclass(frozen=True)
class LevelLine:
    """The level discount as a cart shows it: "Gold member discount (5%) −$12.34"."""

    name: str
    percent: Decimal
    amount: Money
    goods_after: Money


def level_line(goods: Money, level: LevelDiscount | None) -> LevelLine | None:
    """The level discount on `goods`, reckoned as orders.totals does it."""
    if level is None or not goods.amount:
        return None
    amount = Money(quantize(goods.amount * level.percent / 100, goods.currency), goods.currency)
    return LevelLine(level.name, level.percent, amount, goods - amount)


# --- The account hub --------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelStanding:
    level: Level | None
    figures: MemberFigures
    next: object  # members.levels.NextLevel or None


def member_level_standing(member) -> LevelStanding | None:
    """The member's level, their 12-month figures and what they lack for the next level."""
    distributor = distributor_for(member)
    if distributor is None:
        return None
    levels = levels_active()
    current = level_of(distributor)
    figures = member_figures(member=member)
    return LevelStanding(
        level=current,
        figures=figures,
        next=level_next(levels, current, figures.spend.amount, figures.order_count),
    )
