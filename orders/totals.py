"""An order's amounts in the currency it is charged in: pure arithmetic, no queries.

Prices live in the base currency. An order charged in another currency converts each unit
price once (rounded to that currency's minor unit), multiplies, and adds up: every line, and
the invoice as a whole, then adds up exactly in the currency the buyer pays, whatever the rate.
The same total is kept in the base currency, computed from the base amounts, for reporting.

A member level's discount is a percentage of the goods, taken in each currency from that
currency's goods total (so it adds up exactly in both), and is part of the discounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from wholesale.money import Money, quantize


@dataclass(frozen=True, slots=True)
class LineAmount:
    quantity: int
    unit_price_base: Money


@dataclass(frozen=True, slots=True)
class ChargedLine:
    quantity: int
    unit_price_base: Money
    unit_price: Money
    total: Money


@dataclass(frozen=True, slots=True)
class OrderTotals:
    currency: str
    rate: Decimal
    lines: tuple[ChargedLine, ...]
    goods: Money
    discount: Money  # every discount, the level's included
    level_percent: Decimal
    level_discount: Money
    level_discount_base: Money
    shipping: Money
    insurance: Money
    fee: Money
    grand_total: Money
    grand_total_base: Money

    @property
    def other_discount(self) -> Money:
        """The discounts besides the level's."""
        return self.discount - self.level_discount


def convert(amount: Money, *, rate: Decimal, currency: str) -> Money:
    """`amount` (base currency) in `currency` at `rate`, rounded to its minor unit."""
    if isinstance(rate, float):
        raise TypeError("A rate is a Decimal, never a float.")
    if rate <= 0:
        raise ValueError("A rate is positive.")
    if amount.currency == currency:
        if rate != 1:
            raise ValueError("Converting a currency into itself takes a rate of 1.")
        return amount.quantized()
    return Money(quantize(amount.amount * rate, currency), currency)


def order_totals(
    *,
    lines: Sequence[LineAmount],
    shipping: Money,
    insurance: Money,
    fee: Money,
    discount: Money | None = None,
    level_percent: Decimal = Decimal(0),
    currency: str,
    rate: Decimal = Decimal(1),
) -> OrderTotals:
    """The order's amounts in `currency`; every input amount is in the base currency.

    `level_percent` (0 to 100) comes off the goods on top of `discount`.
    """
    if isinstance(level_percent, float):
        raise TypeError("A percentage is a Decimal, never a float.")
    if not 0 <= level_percent <= 100:
        raise ValueError("A level discount is between 0 and 100 percent.")
    base = shipping.currency
    zero_base = Money(Decimal(0), base)
    discount = discount or zero_base
    charged = []
    for line in lines:
        if line.quantity <= 0:
            raise ValueError("A line holds at least one unit.")
        unit = convert(line.unit_price_base, rate=rate, currency=currency)
        total = Money(quantize(unit.amount * line.quantity, currency), currency)
        charged.append(ChargedLine(line.quantity, line.unit_price_base, unit, total))
    zero = Money(Decimal(0), currency)
    goods = sum((line.total for line in charged), zero).quantized()
    level_charged = Money(quantize(goods.amount * level_percent / 100, currency), currency)
    discount_charged = convert(discount, rate=rate, currency=currency) + level_charged
    shipping_charged = convert(shipping, rate=rate, currency=currency)
    insurance_charged = convert(insurance, rate=rate, currency=currency)
    fee_charged = convert(fee, rate=rate, currency=currency)
    grand = goods - discount_charged + shipping_charged + insurance_charged + fee_charged
    goods_base = sum(
        (
            Money(quantize(line.unit_price_base.amount * line.quantity, base), base)
            for line in lines
        ),
        zero_base,
    )
    level_base = Money(quantize(goods_base.amount * level_percent / 100, base), base)
    grand_base = goods_base - discount - level_base + shipping + insurance + fee
    if grand.amount < 0:
        raise ValueError("A discount larger than the order.")
    return OrderTotals(
        currency=currency,
        rate=rate,
        lines=tuple(charged),
        goods=goods,
        discount=discount_charged,
        level_percent=level_percent,
        level_discount=level_charged,
        level_discount_base=level_base,
        shipping=shipping_charged,
        insurance=insurance_charged,
        fee=fee_charged,
        grand_total=grand.quantized(),
        grand_total_base=grand_base.quantized(),
    )
