from django import template

from analytics.results import formatted

register = template.Library()


@register.filter
def cell(row, column):
    """The row's value for `column`, formatted by the column's kind."""
    return formatted(row.get(column.key), column.kind)


@register.filter
def shown(value, kind):
    return formatted(value, kind)


@register.filter
def signed_percent(value):
    if value is None:
        return ""
    return f"{value:+.1f} %"
