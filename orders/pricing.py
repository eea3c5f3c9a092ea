"""Pricing a cart: pure arithmetic over catalog.pricing, no queries, no writes.

The tier of a product is reached by the summed quantity of all its variants in the cart, so a
buyer may mix sizes and colours; each line is then priced at that tier with its variant's own
price (catalog.pricing.quote). Every unit price and line total is quantized to the currency's
minor unit once; subtotals and the goods total are exact sums of those.
Member level discounts will apply on top of these amounts once levels exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from catalog.pricing import Tier, quote, sorted_tiers
from wholesale.money import Money, quantize


@dataclass(frozen=True, slots=True)
class LineToPrice:
    key: int
    quantity: int
    variant_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PricedLine:
    key: int
    quantity: int
    unit_price: Money
    total: Money


@dataclass(frozen=True, slots=True)
class NextTier:
    """The next quantity break: "add `more` to pay `unit_price` each"."""

    min_quantity: int
    more: int
    unit_price: Money


@dataclass(frozen=True, slots=True)
class ProductPrice:
    quantity: int
    tier_min_quantity: int
    tier_max_quantity: int | None
    unit_price: Money  # the product's price at the tier reached (variants may differ)
    lines: tuple[PricedLine, ...]
    subtotal: Money
    next_tier: NextTier | None


def line_total(unit_price: Money, quantity: int) -> Money:
    return Money(quantize(unit_price.amount * quantity, unit_price.currency), unit_price.currency)


def product_price(
    tiers: Iterable[Tier], lines: Sequence[LineToPrice], currency: str
) -> ProductPrice:
    """Price one product's lines together. Raises ValueError for a product without tiers."""
    ordered = sorted_tiers(tiers)
    quantity = sum(line.quantity for line in lines)
    reached = quote(ordered, quantity, currency)
    priced = []
    for line in lines:
        unit = quote(ordered, quantity, currency, variant_price=line.variant_price).unit_price
        priced.append(PricedLine(line.key, line.quantity, unit, line_total(unit, line.quantity)))
    next_tier = None
    for tier in ordered:
        if tier.min_quantity > max(quantity, reached.tier_min_quantity):
            price = quote(ordered, tier.min_quantity, currency).unit_price
            next_tier = NextTier(tier.min_quantity, tier.min_quantity - quantity, price)
            break
    return ProductPrice(
        quantity=quantity,
        tier_min_quantity=reached.tier_min_quantity,
        tier_max_quantity=reached.tier_max_quantity,
        unit_price=reached.unit_price,
        lines=tuple(priced),
        subtotal=sum_money((line.total for line in priced), currency),
        next_tier=next_tier,
    )


def sum_money(amounts: Iterable[Money], currency: str) -> Money:
    total = Money(Decimal(0), currency)
    for amount in amounts:
        total = total + amount
    return total.quantized()


def amount_missing(*, total: Money, minimum: Money) -> Money | None:
    """What a cart lacks to reach the minimum order amount, or None when it reaches it."""
    if total.amount >= minimum.amount:
        return None
    return (minimum - total).quantized()
