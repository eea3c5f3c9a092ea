"""The rows the sales reports start from, narrowed by a query's period and filters.

A sale is an order paid in the period (paid_at) and not refunded as a whole; its amount is its
total in the base currency net of partial refunds (orders.membership.NET_BASE, the figure the
membership levels use). Product figures come from the order lines: units net of refunded units,
at the line's unit price in the base currency (before order-level discounts and shipping).

The buyer's country, level and salesperson are their distributor record's today (orders
follow their customer when a salesperson hands them over).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import (
    DateTimeField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)

from orders.membership import LEVEL_STATES
from orders.models import Order, OrderLine, Payment

from .periods import Period
from .query import ReportQuery

SALE_STATES = LEVEL_STATES
# orders.membership.NET_BASE, stored on the order by the database (Order.net_base).
ORDER_NET = F("net_base")
LINE_UNITS = ExpressionWrapper(
    F("quantity") - F("refunded_quantity"),
    output_field=DecimalField(max_digits=14, decimal_places=0),
)
LINE_NET = ExpressionWrapper(
    (F("quantity") - F("refunded_quantity")) * F("unit_price_base"),
    output_field=DecimalField(max_digits=16, decimal_places=2),
)

SALE = Q(state__in=SALE_STATES)

# A search "leads to an order" when the member who searched places, within this window after
# it, an order that became a sale: the placing time is the buyer's decision, while a bank
# transfer may be paid days later.
SEARCH_ORDER_WINDOW = timedelta(days=7)

# A payment's outcome. A declined payment is noted, not closed: orders.lifecycle.payment_failed
# writes the reason on the pending payment, cancelling the order then marks it cancelled, and a
# later success clears the reason. So a payment failed when it carries a reason and did not
# succeed; the "failed" status is counted too, for payments written with it directly.
SUCCEEDED = Q(status=Payment.Status.SUCCEEDED)
FAILED = ~SUCCEEDED & (Q(status=Payment.Status.FAILED) | ~Q(failure_reason=""))


def led_to_order():
    """True for a search (a SearchLog row) by a member who placed, within the window after
    it, an order that became a sale."""
    return Exists(
        Order.objects.filter(
            SALE,
            member_id=OuterRef("member_id"),
            placed_at__gte=OuterRef("searched_at"),
            placed_at__lt=ExpressionWrapper(
                OuterRef("searched_at") + SEARCH_ORDER_WINDOW, output_field=DateTimeField()
            ),
        )
    )


def buyer_narrowed(queryset: QuerySet, query: ReportQuery, *, distributor: str) -> QuerySet:
    """`queryset` limited to the buyers the query's filters (and the viewer) allow; the
    distributor is reached through the `distributor` lookup path."""
    if query.country:
        queryset = queryset.filter(**{f"{distributor}__country": query.country})
    if query.salesperson_id:
        queryset = queryset.filter(**{f"{distributor}__owner_id": query.salesperson_id})
    if query.level_id:
        queryset = queryset.filter(**{f"{distributor}__level_id": query.level_id})
    return queryset


def sales_orders(query: ReportQuery, period: Period | None = None) -> QuerySet[Order]:
    """Orders paid in the period (the query's, or `period`), not refunded as a whole."""
    start, end = (period or query.period).bounds()
    orders = Order.objects.filter(
        state__in=SALE_STATES, paid_at__gte=start, paid_at__lt=end
    ).order_by()
    return buyer_narrowed(orders, query, distributor="member__distributor")


def sales_lines(query: ReportQuery, period: Period | None = None) -> QuerySet[OrderLine]:
    """The lines of those orders, of the query's category (and those below it) if one is set."""
    start, end = (period or query.period).bounds()
    lines = OrderLine.objects.filter(
        order__state__in=SALE_STATES, order__paid_at__gte=start, order__paid_at__lt=end
    ).order_by()
    if query.category_ids:
        lines = lines.filter(variant__product__category_id__in=query.category_ids)
    return buyer_narrowed(lines, query, distributor="order__member__distributor")
