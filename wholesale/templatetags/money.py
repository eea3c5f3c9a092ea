from django import template

from wholesale.money import Money, format_money

register = template.Library()


@register.filter
def money(value, currency=None):
    """{{ quote.unit_price|money }} for a Money, or {{ amount|money:"USD" }} for a Decimal."""
    if value is None or value == "":
        return ""
    if not isinstance(value, Money):
        value = Money(value, currency or Money.base(0).currency)
    return format_money(value)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
