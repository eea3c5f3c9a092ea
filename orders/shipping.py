"""Freight and insurance: pure arithmetic, no queries, no writes.

A shipping rate prices a parcel by its first weight, then by each started additional weight
step: 1 g over a step boundary costs a whole step, as carriers bill it. A rate may ship free
once the goods reach a threshold. Insurance is a percentage of the goods value with a floor.
Every amount returned is quantized once, to the currency's minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from wholesale.money import Money


@dataclass(frozen=True, slots=True)
class RateTerms:
    """The price terms of one shipping rate (orders.models.ShippingRate), without the database."""

    first_weight_grams: int
    first_price: Money
    additional_weight_grams: int
    additional_price: Money
    free_above: Money | None = None
    min_days: int = 0
    max_days: int = 0

    def __post_init__(self):
        if self.first_weight_grams <= 0 or self.additional_weight_grams <= 0:
            raise ValueError("Rate weights must be positive.")
        if self.first_price.amount < 0 or self.additional_price.amount < 0:
            raise ValueError("Rate prices must not be negative.")
        if self.additional_price.currency != self.first_price.currency:
            raise ValueError("A rate is priced in one currency.")
        if self.free_above is not None and self.free_above.currency != self.first_price.currency:
            raise ValueError("A rate is priced in one currency.")
        if self.min_days > self.max_days:
            raise ValueError("min_days must not exceed max_days.")


def ships_free(*, goods: Money, rate: RateTerms) -> bool:
    """Whether the goods value reaches the rate's free-shipping threshold."""
    return rate.free_above is not None and rate.free_above <= goods


def additional_steps(*, weight_grams: int, rate: RateTerms) -> int:
    """How many additional weight steps a parcel starts beyond the first weight."""
    if weight_grams < 0:
        raise ValueError("A weight is never negative.")
    over = max(0, weight_grams - rate.first_weight_grams)
    return -(-over // rate.additional_weight_grams)


def freight(*, weight_grams: int, goods: Money, rate: RateTerms) -> Money:
    """The freight for a parcel of `weight_grams` holding `goods`, under `rate`.

    A parcel of weight 0 (a cart of weightless items) still costs the first weight.
    """
    steps = additional_steps(weight_grams=weight_grams, rate=rate)
    currency = rate.first_price.currency
    if goods.currency != currency:
        raise ValueError(f"Goods in {goods.currency}, rate in {currency}.")
    if ships_free(goods=goods, rate=rate):
        return Money(Decimal(0), currency).quantized()
    return (rate.first_price + rate.additional_price * steps).quantized()


def insurance(*, goods: Money, percent: Decimal, minimum: Money) -> Money:
    """Insurance for `goods`: `percent` of their value, at least `minimum`."""
    if isinstance(percent, float):
        raise TypeError("A percentage is a Decimal, never a float.")
    if percent < 0 or minimum.amount < 0:
        raise ValueError("Insurance terms must not be negative.")
    if goods.currency != minimum.currency:
        raise ValueError(f"Cannot combine {goods.currency} with {minimum.currency}.")
    premium = Money(goods.amount * percent / 100, goods.currency).quantized()
    floor = minimum.quantized()
    return floor if premium < floor else premium
