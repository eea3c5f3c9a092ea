from django import template
from django.utils.html import format_html

from orders.presenters import cart_products_html

register = template.Library()


@register.simple_tag(takes_context=True)
def cart_products(context, products):
    """The products of the cart (orders.presenters), with this visitor's CSRF token in their
    forms and the page's errors under their lines."""
    csrf = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', context.get("csrf_token")
    )
    return cart_products_html(products, csrf=csrf, errors=context.get("line_errors") or {})
