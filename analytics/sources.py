"""The rows the sales reports start from, narrowed by a query's period and filters.

A sale is an order paid in the period (paid_at) and not refunded as a whole; its amount is its
total in the base currency net of partial refunds (orders.membership.NET_BASE, the figure the
membership levels use). Product figures come from the order lines: units net of refunded units,
at the line's unit price in the base currency (before order-level discounts and shipping).

The buyer's country, level and salesperson are their distributor record's today (orders
follow their customer when a salesperson hands them over).
"""

from __future__ import annotations

from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet

from orders.membership import LEVEL_STATES
from orders.models import Order, OrderLine

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
