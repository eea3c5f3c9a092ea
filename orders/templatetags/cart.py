from django import template
from django.utils.html import format_html

from orders.presenters import cart_product_html

register = template.Library()


@register.simple_tag(takes_context=True)
def cart_product(context, group):
    """One product of the cart (orders.presenters), with this visitor's CSRF token in its
    forms and the page's errors under its lines."""
    csrf = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', context.get("csrf_token")
    )
    return cart_product_html(group, csrf=csrf, errors=context.get("line_errors") or {})
