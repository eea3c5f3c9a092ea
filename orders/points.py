"""An order's points: earned when it is paid, given back in the share that is refunded, and
the points spent on it returned when it is cancelled or refunded. Called by orders.lifecycle
inside the transaction that changes the order (members.points does the ledger)."""

from __future__ import annotations

from decimal import Decimal

from members.models import Distributor
from members.points import points_earn, points_reverse_order

from .models import Order, OrderState


def _multiplier(member_id: int) -> Decimal:
    distributor = (
        Distributor.objects.filter(user_id=member_id)
        .select_related("level")
        .only("level__points_multiplier")
    ).first()
    level = distributor.level if distributor else None
    return level.points_multiplier if level is not None else Decimal(1)


def order_points_earn(order: Order) -> None:
    """Points for what the buyer paid, in the base currency, at their level's multiplier."""
    points_earn(
        member=order.member,
        amount=order.grand_total_base,
        multiplier=_multiplier(order.member_id),
        order_id=order.pk,
        order_number=order.number,
    )


def order_points_give_back(order: Order) -> None:
    """After a cancellation or a refund: the refunded share of the earned points is taken back
    and the same share of the points spent on the order is returned (all of both when the
    order is cancelled or wholly refunded)."""
    if order.state in (OrderState.CANCELLED, OrderState.REFUNDED) or not order.grand_total:
        share = Decimal(1)
    else:
        share = min(order.refunded_total / order.grand_total, Decimal(1))
    if share <= 0:
        return
    points_reverse_order(
        member=order.member, order_id=order.pk, order_number=order.number, share=share
    )
