"""Tiered wholesale prices: pure arithmetic, no queries, no writes.

A product has quantity breaks (1–9 at 4.20, 10–49 at 3.80, 50+ at 3.30). The tier is chosen
by the quantity of *all* variants of the product in the order, so a buyer may mix sizes and
colours. A variant may have its own price: that is its price at the first tier, and each
higher tier takes the same amount off it as off the product's price (an XXL at 4.70 costs
4.30 from 10 and 3.80 from 50 in the example). Orders snapshot the returned quote.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from wholesale.money import Money, quantize


@dataclass(frozen=True, slots=True)
class Tier:
    min_quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class TierRow:
    """One line of the tier table a buyer sees: "10–49: $3.80"."""

    min_quantity: int
    max_quantity: int | None
    unit_price: Money


@dataclass(frozen=True, slots=True)
class PriceQuote:
    unit_price: Money
    tier_min_quantity: int
    tier_max_quantity: int | None


def sorted_tiers(tiers: Iterable[Tier]) -> list[Tier]:
    return sorted(tiers, key=lambda t: t.min_quantity)


def _variant_price(tiers: Sequence[Tier], tier: Tier, variant_price: Decimal | None) -> Decimal:
    if variant_price is None:
        return tier.unit_price
    return variant_price - (tiers[0].unit_price - tier.unit_price)


def tier_table(
    tiers: Iterable[Tier], currency: str, *, variant_price: Decimal | None = None
) -> list[TierRow]:
    ordered = sorted_tiers(tiers)
    rows = []
    for index, tier in enumerate(ordered):
        upper = ordered[index + 1].min_quantity - 1 if index + 1 < len(ordered) else None
        price = _variant_price(ordered, tier, variant_price)
        rows.append(TierRow(tier.min_quantity, upper, Money(quantize(price, currency), currency)))
    return rows


def quote(
    tiers: Iterable[Tier],
    quantity: int,
    currency: str,
    *,
    variant_price: Decimal | None = None,
) -> PriceQuote:
    """The unit price for one variant when the product's summed quantity is `quantity`.

    Below the first break (possible when the first tier starts above 1) the first tier
    applies: the MOQ rule, not pricing, decides whether such a quantity may be ordered.
    """
    ordered = sorted_tiers(tiers)
    if not ordered:
        raise ValueError("A product without price tiers cannot be priced.")
    if quantity < 0:
        raise ValueError("Quantity cannot be negative.")
    chosen_index = 0
    for index, tier in enumerate(ordered):
        if quantity >= tier.min_quantity:
            chosen_index = index
    chosen = ordered[chosen_index]
    upper = ordered[chosen_index + 1].min_quantity - 1 if chosen_index + 1 < len(ordered) else None
    price = max(_variant_price(ordered, chosen, variant_price), Decimal("0.01"))
    return PriceQuote(Money(quantize(price, currency), currency), chosen.min_quantity, upper)


def price_from(tiers: Iterable[Tier], variant_prices: Iterable[Decimal | None]) -> Decimal | None:
    """The lowest unit price a product reaches: its last tier, for its cheapest variant.

    `variant_prices` has one entry per active variant, None where the variant has no own price.
    """
    ordered = sorted_tiers(tiers)
    if not ordered:
        return None
    offsets = [
        Decimal(0) if price is None else price - ordered[0].unit_price for price in variant_prices
    ]
    return max(ordered[-1].unit_price + min(offsets, default=Decimal(0)), Decimal("0.01"))
