"""Reorder: put the lines of a past order back into the cart, at today's prices and stock.

Nothing of the old order is trusted but what was bought: the variants and quantities go
through the cart's own quick-order service (one transaction under the cart lock, each line
checked as if typed by the buyer), and the cart is then priced as it always is. The report
says, per line, what differs from the order: a price now higher or lower than paid, fewer
units available than ordered (what is available is added), or a variant no longer sold
(skipped).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from wholesale.money import Money

from . import rules, selectors, services
from .models import CartLine, OrderLine
from .order_selectors import order_for
from .quick_order import QuickOrderEntry

_VARIANT_HEAVY = ("variant__product__search_document", "variant__product__description")


@dataclass(frozen=True)
class ReorderLine:
    sku: str
    label: str
    product_name: str
    ordered: int
    added: int
    paid_unit_price: Money  # in the base currency
    unit_price: Money | None  # today's, in the base currency; None when nothing was added
    sold: bool
    in_cart_before: int = 0
    refusal: str = ""  # why the cart refused the line, when it did

    @property
    def price_change(self) -> str | None:
        """ "higher", "lower" or None: today's unit price against the one paid."""
        if self.unit_price is None or self.unit_price.currency != self.paid_unit_price.currency:
            return None
        if self.unit_price.amount == self.paid_unit_price.amount:
            return None
        return "higher" if self.unit_price.amount > self.paid_unit_price.amount else "lower"

    @property
    def short(self) -> bool:
        return self.sold and self.added < self.ordered

    @property
    def notes(self) -> list[str]:
        """What the buyer should know about this line, one sentence each."""
        name = f"{self.product_name} {self.label}".strip()
        notes = []
        if not self.sold:
            notes.append(
                _("%(sku)s (%(name)s) is no longer sold: it was left out.")
                % {"sku": self.sku, "name": name}
            )
            return notes
        if self.refusal:
            notes.append(self.refusal)
        elif self.short and self.in_cart_before:
            notes.append(
                _(
                    "%(sku)s: %(added)s of the %(ordered)s units added; your cart already held "
                    "%(in_cart)s and there is no stock for more."
                )
                % {
                    "sku": self.sku,
                    "added": self.added,
                    "ordered": self.ordered,
                    "in_cart": self.in_cart_before,
                }
            )
        elif self.short and self.added == 0:
            notes.append(
                _("%(sku)s is out of stock: none of the %(ordered)s units could be added.")
                % {"sku": self.sku, "ordered": self.ordered}
            )
        elif self.short:
            notes.append(
                _(
                    "Only %(added)s of the %(ordered)s units of %(sku)s are in stock: "
                    "%(added)s added."
                )
                % {"sku": self.sku, "ordered": self.ordered, "added": self.added}
            )
        change = self.price_change
        if change == "higher":
            notes.append(
                _("%(sku)s now costs %(now)s each, more than the %(paid)s you paid.")
                % {"sku": self.sku, "now": self.unit_price, "paid": self.paid_unit_price}
            )
        elif change == "lower":
            notes.append(
                _("%(sku)s now costs %(now)s each, less than the %(paid)s you paid.")
                % {"sku": self.sku, "now": self.unit_price, "paid": self.paid_unit_price}
            )
        return notes


@dataclass(frozen=True)
class ReorderReport:
    number: str
    lines: list[ReorderLine]

    @property
    def lines_added(self) -> int:
        return sum(1 for line in self.lines if line.added)

    @property
    def units_added(self) -> int:
        return sum(line.added for line in self.lines)

    @property
    def notes(self) -> list[str]:
        return [note for line in self.lines for note in line.notes]


def _addable(line: OrderLine, in_cart: int) -> int:
    """How many of the line's units the cart can still take now (stock, line maximum)."""
    variant = line.variant
    room = rules.MAX_QUANTITY - in_cart
    if not variant.product.made_to_order:
        room = min(room, variant.stock - in_cart)
    return max(0, min(line.quantity, room))


def order_reorder(*, member, number: str) -> ReorderReport:
    """Add the lines of the member's order `number` to their cart, as far as possible now.

    Http404 for an order that is not theirs; ValidationError when the member may not order
    (a pending or rejected trade account). Lines already in the cart are added to.
    """
    order = order_for(member=member, number=number)
    lines = list(
        OrderLine.objects.filter(order=order)
        .select_related("variant__product")
        .defer(*_VARIANT_HEAVY)
        .order_by("position", "pk")
    )
    # Read outside the cart's lock: should the cart or the stock change meanwhile, the cart
    # service refuses the line under its lock and the report gives its reason.
    in_cart = dict(
        CartLine.objects.filter(
            cart__member=member, variant_id__in=[line.variant_id for line in lines]
        ).values_list("variant_id", "quantity")
    )
    sold = {line.pk: selectors.variant_available(line.variant) for line in lines}
    wanted = {
        line.pk: _addable(line, in_cart.get(line.variant_id, 0)) if sold[line.pk] else 0
        for line in lines
    }
    entries = [
        QuickOrderEntry(line_no=line.pk, sku=line.variant.sku, quantity=wanted[line.pk])
        for line in lines
        if wanted[line.pk]
    ]
    results = services.cart_quick_order(member=member, entries=entries) if entries else []
    outcomes = {outcome.line_no: outcome for outcome in results}
    priced = {}
    if any(outcome.accepted for outcome in outcomes.values()):
        for product in selectors.cart_view(member=member).products:
            for cart_line in product.lines:
                priced[cart_line.variant_id] = cart_line.unit_price
    report = []
    for line in lines:
        outcome = outcomes.get(line.pk)
        added = wanted[line.pk] if outcome is not None and outcome.accepted else 0
        report.append(
            ReorderLine(
                sku=line.variant.sku,
                label=line.variant_label,
                product_name=line.product_name,
                ordered=line.quantity,
                added=added,
                paid_unit_price=Money(line.unit_price_base, order.base_currency),
                unit_price=priced.get(line.variant_id) if added else None,
                sold=sold[line.pk],
                in_cart_before=in_cart.get(line.variant_id, 0),
                refusal=outcome.reason if outcome is not None and not outcome.accepted else "",
            )
        )
    return ReorderReport(number=order.number, lines=report)
