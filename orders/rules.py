"""The cart's rules as pure functions: no queries, no writes.

Two kinds of rule. Those that *refuse a change* (a quantity that is not a whole number from 1
to MAX_QUANTITY, more than the stock, an unavailable variant) are checked by the services
before anything is written. Those a buyer fixes *before checkout* (below the MOQ, not a whole
number of packs, below the minimum order amount) are only reported: a buyer builds a mixed
order up step by step, and refusing each step below the MOQ would make that impossible.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from wholesale.currencies import format_display
from wholesale.money import Money

from .pricing import amount_missing

# Far above any real wholesale line, far below the 32-bit column; a typo such as an EAN
# pasted into the quantity column stops here.
MAX_QUANTITY = 100_000

_WHOLE_NUMBER = re.compile(r"[0-9]+")


class QuantityError(ValueError):
    """A quantity typed or posted by a buyer that cannot be used; str() is the reason."""


def parse_quantity(value, *, allow_zero: bool = False) -> int:
    """A quantity from a form or a file: digits only ("1e3", "0.5", "-1", "abc" are refused)."""
    text = "" if value is None else str(value).strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        if text.startswith("-") and text[1:].isdigit():
            raise QuantityError(_("The quantity cannot be negative."))
        raise QuantityError(_("Enter the quantity as a whole number, such as 12."))
    # Past MAX_QUANTITY's digits the value only matters as "too large": no int() of a megabyte.
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(MAX_QUANTITY)):
        return check_quantity(MAX_QUANTITY + 1)
    return check_quantity(int(digits), allow_zero=allow_zero)


def check_quantity(quantity: int, *, allow_zero: bool = False) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise QuantityError(_("Enter the quantity as a whole number, such as 12."))
    if quantity < 0:
        raise QuantityError(_("The quantity cannot be negative."))
    if quantity == 0 and not allow_zero:
        raise QuantityError(_("Enter a quantity of at least 1, or remove the line."))
    if quantity > MAX_QUANTITY:
        raise QuantityError(
            _("At most %(max)s units per line; write to us for larger orders.")
            % {"max": f"{MAX_QUANTITY:,}"}
        )
    return quantity


def stock_refusal(*, sku: str, stock: int, in_cart: int, wanted: int) -> str | None:
    """Why `wanted` units of a stocked variant cannot be in the cart, or None if they can.

    `in_cart` is what the cart already holds, to explain the refusal of an addition.
    """
    if wanted <= stock:
        return None
    if stock <= 0:
        return _("%(sku)s is out of stock.") % {"sku": sku}
    if in_cart:
        return _("Only %(stock)s of %(sku)s in stock, and %(in_cart)s already in your cart.") % {
            "stock": stock,
            "sku": sku,
            "in_cart": in_cart,
        }
    return _("Only %(stock)s of %(sku)s in stock.") % {"stock": stock, "sku": sku}


def product_problems(*, name: str, quantity: int, moq: int, increment: int) -> list[str]:
    """What keeps a product's summed quantity (all its variants) from checking out."""
    problems = []
    if quantity < moq:
        problems.append(
            _("The minimum order of %(name)s is %(moq)s units in total: add %(more)s more.")
            % {"name": name, "moq": moq, "more": moq - quantity}
        )
    if increment > 1 and quantity % increment:
        suggestion = -(-max(quantity, moq) // increment) * increment
        problems.append(
            _(
                "%(name)s is sold in packs of %(n)s: make the total a multiple of %(n)s, "
                "such as %(suggestion)s."
            )
            % {"name": name, "n": increment, "suggestion": suggestion}
        )
    return problems


def minimum_order_problem(*, goods_total: Money, minimum: Money) -> str | None:
    missing = amount_missing(total=goods_total, minimum=minimum)
    if missing is None:
        return None
    return _("The minimum order is %(minimum)s: add %(missing)s more to check out.") % {
        "minimum": format_display(minimum),
        "missing": format_display(missing),
    }
