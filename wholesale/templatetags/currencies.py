from babel.numbers import get_currency_symbol
from django import template

from wholesale import currencies
from wholesale.money import current_locale

register = template.Library()


@register.simple_tag
def currency_choices():
    """[(code, label)] of the currencies buyers may choose, e.g. ("EUR", "EUR €")."""
    locale = current_locale()
    choices = []
    for code in currencies.active_currencies():
        symbol = get_currency_symbol(code, locale=locale)
        choices.append((code, code if symbol == code else f"{code} {symbol}"))
    return choices


@register.simple_tag
def display_currency():
    return currencies.get_display()
