from functools import cache

from . import selectors


def cart(request):
    """`cart_count` for the header: counted only when a template shows it (one query), and
    never for guests, so admin pages and cached guest pages pay nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"cart_count": 0}

    @cache
    def cart_count() -> int:
        return selectors.cart_line_count(member=user)

    return {"cart_count": cart_count}
