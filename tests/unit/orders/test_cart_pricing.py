"""Pricing a cart: pure arithmetic, no database."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from catalog.pricing import Tier
from orders.pricing import LineToPrice, amount_missing, product_price, sum_money
from wholesale.money import Money

TIERS = [Tier(1, Decimal("4.20")), Tier(10, Decimal("3.80")), Tier(50, Decimal("3.30"))]


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


class TestPricingOneProduct:
    def test_mixing_variants_reaches_the_tier(self):
        # 6 S and 6 M: neither reaches 10 alone, together they do.
        price = product_price(TIERS, [LineToPrice(1, 6), LineToPrice(2, 6)], "USD")
        assert price.quantity == 12
        assert (price.tier_min_quantity, price.tier_max_quantity) == (10, 49)
        assert price.unit_price == usd("3.80")
        assert [line.unit_price for line in price.lines] == [usd("3.80"), usd("3.80")]
        assert [line.total for line in price.lines] == [usd("22.80"), usd("22.80")]
        assert price.subtotal == usd("45.60")

    def test_a_variant_with_its_own_price_keeps_the_tier_discount(self):
        price = product_price(TIERS, [LineToPrice(1, 8), LineToPrice(2, 4, Decimal("4.70"))], "USD")
        unit = {line.key: line.unit_price for line in price.lines}
        assert unit == {1: usd("3.80"), 2: usd("4.30")}
        assert price.subtotal == usd("47.60")  # 8 × 3.80 + 4 × 4.30

    def test_says_how_many_more_reach_the_next_tier(self):
        price = product_price(TIERS, [LineToPrice(1, 4)], "USD")
        assert price.next_tier.more == 6
        assert price.next_tier.min_quantity == 10
        assert price.next_tier.unit_price == usd("3.80")

    def test_points_to_the_next_break_from_inside_a_tier(self):
        price = product_price(TIERS, [LineToPrice(1, 30), LineToPrice(2, 5)], "USD")
        assert (price.next_tier.more, price.next_tier.unit_price) == (15, usd("3.30"))

    def test_has_no_hint_at_the_last_tier(self):
        assert product_price(TIERS, [LineToPrice(1, 50)], "USD").next_tier is None

    def test_no_hint_below_a_first_tier_that_starts_above_one(self):
        # Below the first break the first tier's price applies (the MOQ rule says the rest),
        # so "add 5 more to pay the same price" would be noise; the next real break is named.
        tiers = [Tier(12, Decimal("5.00")), Tier(48, Decimal("4.50"))]
        price = product_price(tiers, [LineToPrice(1, 7)], "USD")
        assert price.unit_price == usd("5.00")
        assert (price.next_tier.min_quantity, price.next_tier.more) == (48, 41)

    def test_rounds_each_line_once_to_the_cent(self):
        tiers = [Tier(1, Decimal("0.333"))]
        price = product_price(tiers, [LineToPrice(1, 3), LineToPrice(2, 1)], "USD")
        assert [line.unit_price for line in price.lines] == [usd("0.33"), usd("0.33")]
        assert price.subtotal == usd("1.32")

    def test_a_currency_without_cents(self):
        tiers = [Tier(1, Decimal("420")), Tier(10, Decimal("380"))]
        price = product_price(tiers, [LineToPrice(1, 10)], "JPY")
        assert price.subtotal == Money(Decimal("3800"), "JPY")

    @given(st.lists(st.integers(min_value=1, max_value=100_000), min_size=1, max_size=8))
    def test_the_subtotal_is_the_exact_sum_of_the_lines(self, quantities):
        lines = [LineToPrice(key, quantity) for key, quantity in enumerate(quantities)]
        price = product_price(TIERS, lines, "USD")
        assert price.quantity == sum(quantities)
        assert price.subtotal.amount == sum(line.total.amount for line in price.lines)
        assert all(
            line.total.amount == line.unit_price.amount * line.quantity for line in price.lines
        )
        assert all(isinstance(line.total.amount, Decimal) for line in price.lines)


class TestTotals:
    def test_sums_money_exactly(self):
        assert sum_money([usd("0.10")] * 3, "USD") == usd("0.30")
        assert sum_money([], "USD") == usd("0.00")

    def test_the_amount_missing_for_the_minimum_order(self):
        assert amount_missing(total=usd("72.40"), minimum=usd("100")) == usd("27.60")
        assert amount_missing(total=usd("100.00"), minimum=usd("100")) is None
        assert amount_missing(total=usd("150"), minimum=usd("100")) is None
