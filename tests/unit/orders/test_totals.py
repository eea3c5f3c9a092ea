"""An order's amounts in the currency it is charged in: exact to the minor unit, whatever
the rate. Pure arithmetic, no database."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.totals import LineAmount, convert, order_totals
from wholesale.money import Money


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


LINES = [LineAmount(30, usd("3.30")), LineAmount(25, usd("3.30")), LineAmount(7, usd("12.99"))]


def test_base_currency_is_the_plain_sum():
    totals = order_totals(
        lines=LINES,
        shipping=usd("25.00"),
        insurance=usd("4.55"),
        fee=usd("3.00"),
        currency="USD",
    )
    assert totals.goods == usd("272.43")  # 99.00 + 82.50 + 90.93
    assert totals.grand_total == usd("304.98")
    assert totals.grand_total_base == usd("304.98")
    assert [line.total for line in totals.lines] == [usd("99.00"), usd("82.50"), usd("90.93")]


def test_euro_converts_each_unit_price_once_then_adds_up():
    totals = order_totals(
        lines=LINES,
        shipping=usd("25.00"),
        insurance=usd("4.55"),
        fee=usd("3.00"),
        currency="EUR",
        rate=Decimal("0.9234"),
    )
    # 3.30 × 0.9234 = 3.04722 → 3.05 a unit; 12.99 × 0.9234 = 11.994966 → 11.99.
    assert [line.unit_price for line in totals.lines] == [
        Money(Decimal("3.05"), "EUR"),
        Money(Decimal("3.05"), "EUR"),
        Money(Decimal("11.99"), "EUR"),
    ]
    assert totals.goods == Money(Decimal("251.68"), "EUR")  # 91.50 + 76.25 + 83.93
    assert totals.shipping == Money(Decimal("23.09"), "EUR")
    assert totals.insurance == Money(Decimal("4.20"), "EUR")
    assert totals.fee == Money(Decimal("2.77"), "EUR")
    assert totals.grand_total == Money(Decimal("281.74"), "EUR")
    assert totals.grand_total_base == usd("304.98")


def test_yen_has_no_minor_unit():
    totals = order_totals(
        lines=[LineAmount(3, usd("3.30"))],
        shipping=usd("20.00"),
        insurance=usd("2.00"),
        fee=usd("0"),
        currency="JPY",
        rate=Decimal("151.37"),
    )
    assert totals.lines[0].unit_price == Money(Decimal("500"), "JPY")  # 499.521 → 500
    assert totals.goods == Money(Decimal("1500"), "JPY")
    assert totals.grand_total == Money(Decimal("4830"), "JPY")  # 1500 + 3027 + 303 + 0
    assert totals.grand_total.amount.as_tuple().exponent == 0


def test_a_currency_into_itself_takes_rate_one():
    with pytest.raises(ValueError):
        convert(usd("1.00"), rate=Decimal("1.1"), currency="USD")


@pytest.mark.parametrize("rate", [Decimal(0), Decimal(-1)])
def test_rates_are_positive(rate):
    with pytest.raises(ValueError):
        convert(usd("1.00"), rate=rate, currency="EUR")


def test_a_float_rate_is_refused():
    with pytest.raises(TypeError):
        convert(usd("1.00"), rate=0.92, currency="EUR")


def test_a_discount_larger_than_the_order_is_refused():
    with pytest.raises(ValueError):
        order_totals(
            lines=[LineAmount(1, usd("1.00"))],
            shipping=usd("0"),
            insurance=usd("0"),
            fee=usd("0"),
            discount=usd("5.00"),
            currency="USD",
        )


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)
currencies = st.sampled_from(["EUR", "GBP", "JPY", "PLN", "KWD"])
rates = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("400"), places=4)


@given(
    lines=st.lists(
        st.tuples(st.integers(min_value=1, max_value=10_000), amounts), min_size=1, max_size=30
    ),
    shipping=amounts,
    insurance=amounts,
    currency=currencies,
    rate=rates,
)
def test_every_currency_path_adds_up_exactly(lines, shipping, insurance, currency, rate):
    totals = order_totals(
        lines=[LineAmount(quantity, usd(str(price))) for quantity, price in lines],
        shipping=usd(str(shipping)),
        insurance=usd(str(insurance)),
        fee=usd("0"),
        currency=currency,
        rate=rate,
    )
    exponent = totals.grand_total.amount.as_tuple().exponent
    for line in totals.lines:
        # Each line is its rounded unit price times its quantity, with nothing lost.
        assert line.total.amount == line.unit_price.amount * line.quantity
        assert line.total.amount.as_tuple().exponent == exponent
    assert totals.goods.amount == sum(line.total.amount for line in totals.lines)
    assert totals.grand_total.amount == (
        totals.goods.amount
        - totals.discount.amount
        + totals.shipping.amount
        + totals.insurance.amount
        + totals.fee.amount
    )
    base_goods = sum(Decimal(str(p)) * q for q, p in lines)
    assert totals.grand_total_base.amount == base_goods + shipping + insurance
