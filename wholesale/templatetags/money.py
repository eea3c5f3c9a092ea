from django import template

from wholesale.currencies import format_display
from wholesale.money import Money, format_money

register = template.Library()


@register.filter
def money(value, currency=None):
    """{{ quote.unit_price|money }} for a Money, or {{ amount|money:"USD" }} for a Decimal.

    A base-currency amount is shown in the visitor's display currency (wholesale.currencies);
    an amount given with its currency (an order's own: {{ order.grand_total|money:order.currency
    }}) or a Money in another currency is shown as it is."""
    if value is None or value == "":
        return ""
    if currency:
        if isinstance(value, Money):
            return format_money(value)
        return format_money(Money(value, currency))
    if not isinstance(value, Money):
        value = Money(value, Money.base(0).currency)
    return format_display(value)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
