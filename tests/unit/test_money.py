from decimal import Decimal

import pytest
from django.utils import translation

from wholesale.money import Money, format_money, quantize, to_decimal


class TestMoney:
    def test_refuses_floats(self):
        with pytest.raises(TypeError):
            Money(1.5, "USD")
        with pytest.raises(TypeError):
            Money(Decimal("1.5"), "USD") * 1.5

    def test_refuses_mixing_currencies(self):
        with pytest.raises(ValueError):
            Money(Decimal(1), "USD") + Money(Decimal(1), "EUR")

    def test_adds_and_multiplies(self):
        total = Money(Decimal("3.80"), "USD") * 12 + Money(Decimal("0.10"), "USD")
        assert total == Money(Decimal("45.70"), "USD")

    @pytest.mark.parametrize(
        ("amount", "currency", "expected"),
        [("4.205", "USD", "4.21"), ("4.204", "USD", "4.20"), ("412.5", "JPY", "413")],
    )
    def test_quantizes_half_up_to_the_minor_unit(self, amount, currency, expected):
        assert quantize(Decimal(amount), currency) == Decimal(expected)

    def test_formats_for_the_visitor_locale(self):
        assert format_money(Money(Decimal("1234.5"), "USD"), locale="en") == "$1,234.50"
        assert format_money(Money(Decimal("1234.5"), "EUR"), locale="de") == "1.234,50\xa0€"
        with translation.override("en"):
            assert str(Money(Decimal("3.3"), "USD")) == "$3.30"

    @pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", ""])
    def test_to_decimal_refuses_non_amounts(self, bad):
        with pytest.raises(ValueError):
            to_decimal(bad)
