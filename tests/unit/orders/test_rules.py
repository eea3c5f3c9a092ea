"""The cart's rules as pure functions: quantities typed by buyers, MOQ and packs."""

from decimal import Decimal

import pytest

from orders.rules import (
    MAX_QUANTITY,
    QuantityError,
    check_quantity,
    minimum_order_problem,
    parse_quantity,
    product_problems,
    stock_refusal,
)
from wholesale.money import Money


class TestParsingAQuantity:
    @pytest.mark.parametrize(
        ("text", "expected"), [("1", 1), (" 24 ", 24), ("100000", 100_000), ("0" * 30 + "7", 7)]
    )
    def test_accepts_whole_numbers(self, text, expected):
        assert parse_quantity(text) == expected

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("-1", "cannot be negative"),
            ("0", "at least 1"),
            ("0.5", "whole number"),
            ("1e3", "whole number"),
            ("abc", "whole number"),
            ("", "whole number"),
            ("١٢", "whole number"),  # Arabic-Indic digits: int() would take them
            (str(10**12), "At most 100,000"),
            ("9" * 40, "At most 100,000"),
        ],
    )
    def test_refuses_anything_else_with_a_reason(self, text, reason):
        with pytest.raises(QuantityError, match=reason):
            parse_quantity(text)

    def test_zero_is_allowed_where_it_means_none(self):
        assert parse_quantity("0", allow_zero=True) == 0

    def test_a_checked_quantity_must_be_an_int(self):
        with pytest.raises(QuantityError):
            check_quantity(Decimal("2"))
        with pytest.raises(QuantityError):
            check_quantity(True)
        with pytest.raises(QuantityError):
            check_quantity(MAX_QUANTITY + 1)


class TestProductRules:
    def test_below_the_moq_says_how_many_more(self):
        [problem] = product_problems(name="Tee", quantity=30, moq=50, increment=1)
        assert "minimum order of Tee is 50" in problem and "add 20 more" in problem

    def test_not_a_whole_number_of_packs_suggests_one(self):
        [problem] = product_problems(name="Tee", quantity=13, moq=1, increment=6)
        assert "packs of 6" in problem and "such as 18" in problem

    def test_a_pack_suggestion_also_reaches_the_moq(self):
        problems = product_problems(name="Tee", quantity=7, moq=20, increment=6)
        assert len(problems) == 2
        assert "such as 24" in problems[1]

    def test_a_valid_quantity_has_no_problem(self):
        assert product_problems(name="Tee", quantity=24, moq=12, increment=6) == []


class TestStockAndMinimum:
    def test_stock(self):
        assert stock_refusal(sku="A", stock=10, in_cart=0, wanted=10) is None
        assert "out of stock" in stock_refusal(sku="A", stock=0, in_cart=0, wanted=1)
        assert "Only 10 of A" in stock_refusal(sku="A", stock=10, in_cart=0, wanted=11)
        assert "4 already in your cart" in stock_refusal(sku="A", stock=10, in_cart=4, wanted=12)

    def test_minimum_order_amount(self):
        usd = Money(Decimal("100"), "USD")
        assert minimum_order_problem(goods_total=usd, minimum=usd) is None
        problem = minimum_order_problem(goods_total=Money(Decimal("60.5"), "USD"), minimum=usd)
        assert "$100.00" in problem and "$39.50" in problem
