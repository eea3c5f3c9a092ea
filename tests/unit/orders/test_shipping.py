"""Freight and insurance: pure arithmetic, no database."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.shipping import RateTerms, additional_steps, freight, insurance, ships_free
from wholesale.money import Money


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def jpy(amount: str) -> Money:
    return Money(Decimal(amount), "JPY")


# 12.00 for the first 500 g, then 3.50 for each started 250 g.
RATE = RateTerms(
    first_weight_grams=500,
    first_price=usd("12.00"),
    additional_weight_grams=250,
    additional_price=usd("3.50"),
    free_above=usd("1000.00"),
    min_days=5,
    max_days=10,
)


class TestFreight:
    @pytest.mark.parametrize(
        ("weight", "expected"),
        [
            (1, "12.00"),
            (499, "12.00"),
            (500, "12.00"),
            (501, "15.50"),
            (750, "15.50"),
            (751, "19.00"),
            (1000, "19.00"),
            (1001, "22.50"),
            (10_500, "152.00"),
        ],
    )
    def test_each_started_step_costs_a_whole_step(self, weight, expected):
        assert freight(weight_grams=weight, goods=usd("100"), rate=RATE) == usd(expected)

    def test_weight_zero_costs_the_first_weight(self):
        assert freight(weight_grams=0, goods=usd("100"), rate=RATE) == usd("12.00")

    def test_free_from_the_threshold_exactly(self):
        assert freight(weight_grams=5000, goods=usd("999.99"), rate=RATE) == usd("75.00")
        assert freight(weight_grams=5000, goods=usd("1000.00"), rate=RATE) == usd("0.00")
        assert freight(weight_grams=5000, goods=usd("1000.01"), rate=RATE) == usd("0.00")
        assert ships_free(goods=usd("1000.00"), rate=RATE)
        assert not ships_free(goods=usd("999.99"), rate=RATE)

    def test_without_a_threshold_never_free(self):
        rate = RateTerms(500, usd("12"), 250, usd("3.50"))
        assert freight(weight_grams=100, goods=usd("1000000"), rate=rate) == usd("12.00")
        assert not ships_free(goods=usd("1000000"), rate=rate)

    def test_a_free_rate_of_zero_prices(self):
        rate = RateTerms(1000, usd("0"), 1000, usd("0"))
        assert freight(weight_grams=123_456, goods=usd("1"), rate=rate) == usd("0.00")

    def test_rounded_to_the_currency_minor_unit(self):
        result = freight(weight_grams=500, goods=usd("1"), rate=RATE)
        assert result.amount.as_tuple().exponent == -2
        yen = RateTerms(2000, jpy("1500"), 500, jpy("400"))
        result = freight(weight_grams=2600, goods=jpy("10000"), rate=yen)
        assert result == jpy("2300")
        assert result.amount.as_tuple().exponent == 0

    def test_negative_weight_refused(self):
        with pytest.raises(ValueError):
            freight(weight_grams=-1, goods=usd("1"), rate=RATE)

    def test_goods_in_another_currency_refused(self):
        with pytest.raises(ValueError):
            freight(weight_grams=100, goods=jpy("1"), rate=RATE)

    @pytest.mark.parametrize(
        "terms",
        [
            {"first_weight_grams": 0},
            {"additional_weight_grams": 0},
            {"first_price": usd("-0.01")},
            {"additional_price": usd("-1")},
            {"additional_price": jpy("1")},
            {"free_above": jpy("1")},
            {"min_days": 11},
        ],
    )
    def test_invalid_terms_refused(self, terms):
        base = {
            "first_weight_grams": 500,
            "first_price": usd("12"),
            "additional_weight_grams": 250,
            "additional_price": usd("3.50"),
            "min_days": 5,
            "max_days": 10,
        }
        with pytest.raises(ValueError):
            RateTerms(**{**base, **terms})

    @given(st.integers(min_value=0, max_value=10_000_000))
    def test_one_more_gram_never_costs_less(self, weight):
        lighter = freight(weight_grams=weight, goods=usd("1"), rate=RATE)
        heavier = freight(weight_grams=weight + 1, goods=usd("1"), rate=RATE)
        assert lighter <= heavier

    @given(st.integers(min_value=0, max_value=10_000_000))
    def test_steps_cover_the_weight(self, weight):
        steps = additional_steps(weight_grams=weight, rate=RATE)
        covered = RATE.first_weight_grams + steps * RATE.additional_weight_grams
        assert covered >= weight
        assert steps == 0 or covered - weight < RATE.additional_weight_grams


class TestInsurance:
    def test_percentage_of_the_goods(self):
        assert insurance(goods=usd("1000"), percent=Decimal("1.5"), minimum=usd("2.00")) == usd(
            "15.00"
        )

    def test_never_below_the_minimum(self):
        assert insurance(goods=usd("100"), percent=Decimal("1.5"), minimum=usd("2")) == usd("2.00")
        assert insurance(goods=usd("0"), percent=Decimal("1.5"), minimum=usd("2")) == usd("2.00")

    def test_the_minimum_exactly(self):
        # 1.5 % of 133.33 is 1.99995, which rounds to 2.00: the percentage, equal to the floor.
        assert insurance(goods=usd("133.33"), percent=Decimal("1.5"), minimum=usd("2")) == usd(
            "2.00"
        )
        assert insurance(goods=usd("133.40"), percent=Decimal("1.5"), minimum=usd("2")) == usd(
            "2.00"
        )
        assert insurance(goods=usd("133.70"), percent=Decimal("1.5"), minimum=usd("2")) == usd(
            "2.01"
        )

    def test_rounded_half_up_to_the_cent(self):
        # 1.5 % of 123.45 = 1.85175; of 456.70 = 6.8505.
        assert insurance(goods=usd("123.45"), percent=Decimal("1.5"), minimum=usd("0")) == usd(
            "1.85"
        )
        result = insurance(goods=usd("456.70"), percent=Decimal("1.5"), minimum=usd("0"))
        assert result == usd("6.85")
        assert result.amount.as_tuple().exponent == -2
        assert insurance(goods=usd("457.00"), percent=Decimal("1.5"), minimum=usd("0")) == usd(
            "6.86"
        )

    def test_yen_has_no_minor_unit(self):
        # 1.5 % of 12 345 yen = 185.175 yen.
        result = insurance(goods=jpy("12345"), percent=Decimal("1.5"), minimum=jpy("300"))
        assert result == jpy("300")
        result = insurance(goods=jpy("123450"), percent=Decimal("1.5"), minimum=jpy("300"))
        assert result == jpy("1852")
        assert result.amount.as_tuple().exponent == 0

    def test_float_percent_refused(self):
        with pytest.raises(TypeError):
            insurance(goods=usd("100"), percent=1.5, minimum=usd("2"))

    def test_currencies_must_match(self):
        with pytest.raises(ValueError):
            insurance(goods=usd("100"), percent=Decimal("1.5"), minimum=jpy("300"))

    def test_negative_terms_refused(self):
        with pytest.raises(ValueError):
            insurance(goods=usd("100"), percent=Decimal("-1"), minimum=usd("2"))
