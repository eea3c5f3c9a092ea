from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.pricing import Tier, price_from, quote, tier_table
from wholesale.money import Money

TIERS = [Tier(10, Decimal("3.80")), Tier(1, Decimal("4.20")), Tier(50, Decimal("3.30"))]


class TestQuotingAUnitPrice:
    @pytest.mark.parametrize(
        ("quantity", "price", "tier_min", "tier_max"),
        [
            (1, "4.20", 1, 9),
            (9, "4.20", 1, 9),
            (10, "3.80", 10, 49),
            (49, "3.80", 10, 49),
            (50, "3.30", 50, None),
            (5000, "3.30", 50, None),
        ],
    )
    def test_picks_the_tier_reached_by_the_quantity(self, quantity, price, tier_min, tier_max):
        result = quote(TIERS, quantity, "USD")
        assert result.unit_price == Money(Decimal(price), "USD")
        assert (result.tier_min_quantity, result.tier_max_quantity) == (tier_min, tier_max)

    def test_a_variant_own_price_keeps_the_quantity_discount(self):
        assert quote(TIERS, 1, "USD", variant_price=Decimal("4.70")).unit_price.amount == Decimal(
            "4.70"
        )
        assert quote(TIERS, 10, "USD", variant_price=Decimal("4.70")).unit_price.amount == Decimal(
            "4.30"
        )
        assert quote(TIERS, 50, "USD", variant_price=Decimal("4.70")).unit_price.amount == Decimal(
            "3.80"
        )

    def test_a_cheap_variant_never_goes_to_zero(self):
        result = quote(TIERS, 50, "USD", variant_price=Decimal("0.50"))
        assert result.unit_price.amount == Decimal("0.01")

    def test_below_the_first_break_uses_the_first_tier(self):
        tiers = [Tier(6, Decimal("2.00")), Tier(24, Decimal("1.50"))]
        assert quote(tiers, 2, "USD").unit_price.amount == Decimal("2.00")

    def test_refuses_a_product_without_tiers_and_negative_quantities(self):
        with pytest.raises(ValueError):
            quote([], 1, "USD")
        with pytest.raises(ValueError):
            quote(TIERS, -1, "USD")

    def test_rounds_to_the_currency_minor_unit(self):
        assert quote([Tier(1, Decimal("412.5"))], 1, "JPY").unit_price.amount == Decimal("413")

    @given(st.integers(min_value=0, max_value=10**9))
    def test_more_never_costs_more_per_unit(self, quantity):
        assert (
            quote(TIERS, quantity + 1, "USD").unit_price <= quote(TIERS, quantity, "USD").unit_price
        )


class TestTheTierTable:
    def test_lists_each_break_with_its_range(self):
        rows = tier_table(TIERS, "USD")
        assert [(r.min_quantity, r.max_quantity, str(r.unit_price.amount)) for r in rows] == [
            (1, 9, "4.20"),
            (10, 49, "3.80"),
            (50, None, "3.30"),
        ]


class TestPriceFrom:
    def test_is_the_last_tier_of_the_cheapest_variant(self):
        assert price_from(TIERS, [None, None]) == Decimal("3.30")
        assert price_from(TIERS, [Decimal("4.00"), None]) == Decimal("3.10")
        assert price_from(TIERS, [Decimal("4.70"), Decimal("4.50")]) == Decimal("3.60")

    def test_is_none_without_tiers(self):
        assert price_from([], [None]) is None
