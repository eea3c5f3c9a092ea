"""Figures an order's totals show that its fields hold only as parts of a sum."""

from django import template

register = template.Library()


@register.filter
def other_discounts(order):
    """The order's discounts besides its member level discount (a Decimal)."""
    return order.discount_total - order.level_discount_total
