"""Shipping templates against PostgreSQL: which methods serve a country, at what price."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from orders.models import ShippingMethod, ShippingRate, ShippingZone
from orders.selectors import shipping_options
from wholesale.money import Money

pytestmark = pytest.mark.django_db


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def method(code: str, position: int = 0, **fields) -> ShippingMethod:
    return ShippingMethod.objects.create(
        name=code.replace("-", " ").capitalize(), code=code, position=position, **fields
    )


def rate(zone, shipping_method, first: str, additional: str = "1.00", **fields) -> ShippingRate:
    values = {
        "first_weight_grams": 500,
        "additional_weight_grams": 500,
        "min_days": 5,
        "max_days": 10,
        **fields,
    }
    return ShippingRate.objects.create(
        zone=zone,
        method=shipping_method,
        first_price=Decimal(first),
        additional_price=Decimal(additional),
        **values,
    )


@pytest.fixture
def europe():
    return ShippingZone.objects.create(name="Europe", countries=["FR", "DE", "IT"], position=1)


@pytest.fixture
def methods():
    return {
        "economy": method("economy-post", 1),
        "express": method("express-courier", 2),
        "sea": method("sea-freight", 3),
    }


class TestShippingOptions:
    def test_country_in_a_zone_gets_its_methods_cheapest_first(self, europe, methods):
        rate(europe, methods["express"], "30.00", "8.00", min_days=2, max_days=4)
        rate(europe, methods["economy"], "12.00", "3.00", min_days=8, max_days=20)
        rate(europe, methods["sea"], "20.00", "0.50", min_days=30, max_days=45)

        options = shipping_options(country="DE", weight_grams=1200, goods=usd("400"))

        # 1200 g: first 500 g, then two started 500 g steps.
        assert [(o.method_code, o.price, o.min_days, o.max_days, o.is_free) for o in options] == [
            ("economy-post", usd("18.00"), 8, 20, False),
            ("sea-freight", usd("21.00"), 30, 45, False),
            ("express-courier", usd("46.00"), 2, 4, False),
        ]
        assert options[0].method_name == "Economy post"

    def test_the_ordering_follows_the_parcel(self, europe, methods):
        rate(europe, methods["economy"], "12.00", "3.00")
        rate(europe, methods["sea"], "20.00", "0.50")
        light = shipping_options(country="FR", weight_grams=400, goods=usd("100"))
        heavy = shipping_options(country="FR", weight_grams=10_000, goods=usd("100"))
        assert [o.method_code for o in light] == ["economy-post", "sea-freight"]
        assert [o.method_code for o in heavy] == ["sea-freight", "economy-post"]

    def test_free_above_the_threshold(self, europe, methods):
        rate(europe, methods["economy"], "12.00", free_above=Decimal("500.00"))
        rate(europe, methods["express"], "30.00")
        below = shipping_options(country="IT", weight_grams=800, goods=usd("499.99"))
        above = shipping_options(country="IT", weight_grams=800, goods=usd("500.00"))
        assert [(o.method_code, o.price, o.is_free) for o in below] == [
            ("economy-post", usd("13.00"), False),
            ("express-courier", usd("31.00"), False),
        ]
        assert [(o.method_code, o.price, o.is_free) for o in above] == [
            ("economy-post", usd("0.00"), True),
            ("express-courier", usd("31.00"), False),
        ]

    def test_equal_prices_put_the_faster_method_first(self, europe, methods):
        rate(europe, methods["economy"], "12.00", min_days=8, max_days=20)
        rate(europe, methods["express"], "12.00", min_days=2, max_days=4)
        options = shipping_options(country="FR", weight_grams=100, goods=usd("100"))
        assert [o.method_code for o in options] == ["express-courier", "economy-post"]

    def test_country_not_served(self, europe, methods):
        rate(europe, methods["economy"], "12.00")
        assert shipping_options(country="JP", weight_grams=100, goods=usd("100")) == []

    def test_nonsense_country_codes_match_nothing(self, europe, methods):
        rate(europe, methods["economy"], "12.00")
        for country in ["", "F", "R,", ",D", "E,D", "%", "FRA", "R, "]:
            assert shipping_options(country=country, weight_grams=1, goods=usd("1")) == []

    def test_lowercase_country_code(self, europe, methods):
        rate(europe, methods["economy"], "12.00")
        assert len(shipping_options(country="fr", weight_grams=1, goods=usd("1"))) == 1

    def test_inactive_rates_methods_and_zones_are_skipped(self, europe, methods):
        rate(europe, methods["economy"], "12.00", is_active=False)
        rate(europe, methods["express"], "30.00")
        rate(europe, methods["sea"], "20.00")
        methods["sea"].is_active = False
        methods["sea"].save()
        options = shipping_options(country="FR", weight_grams=100, goods=usd("100"))
        assert [o.method_code for o in options] == ["express-courier"]

        europe.is_active = False
        europe.save()
        assert shipping_options(country="FR", weight_grams=100, goods=usd("100")) == []

    def test_the_first_active_zone_by_position_serves_the_country(self, europe, methods):
        rate(europe, methods["economy"], "12.00")
        france = ShippingZone.objects.create(name="France", countries=["FR"], position=0)
        rate(france, methods["express"], "9.00")
        assert [
            o.method_code for o in shipping_options(country="FR", weight_grams=1, goods=usd("1"))
        ] == ["express-courier"]
        assert [
            o.method_code for o in shipping_options(country="DE", weight_grams=1, goods=usd("1"))
        ] == ["economy-post"]

        france.is_active = False
        france.save()
        assert [
            o.method_code for o in shipping_options(country="FR", weight_grams=1, goods=usd("1"))
        ] == ["economy-post"]

    def test_the_first_zone_without_active_rates_serves_nothing(self, europe, methods):
        # The zone that lists the country decides; a wider zone behind it is no fallback.
        rate(europe, methods["economy"], "12.00")
        france = ShippingZone.objects.create(name="France", countries=["FR"], position=0)
        rate(france, methods["express"], "9.00", is_active=False)
        assert shipping_options(country="FR", weight_grams=1, goods=usd("1")) == []

    def test_one_query(self, europe, methods, django_assert_num_queries):
        for key in methods:
            rate(europe, methods[key], "12.00")
        with django_assert_num_queries(1):
            options = shipping_options(country="FR", weight_grams=2000, goods=usd("100"))
        assert len(options) == 3


class TestShippingRateConstraints:
    @pytest.mark.parametrize(
        "fields",
        [
            {"first_weight_grams": 0},
            {"additional_weight_grams": 0},
            {"first": "-0.01"},
            {"additional": "-1.00"},
            {"free_above": Decimal("-1.00")},
            {"min_days": 11, "max_days": 10},
        ],
    )
    def test_the_database_refuses_invalid_rates(self, europe, methods, fields):
        prices = {key: fields.pop(key) for key in ("first", "additional") if key in fields}
        with pytest.raises(IntegrityError), transaction.atomic():
            rate(
                europe,
                methods["economy"],
                prices.get("first", "12.00"),
                prices.get("additional", "1.00"),
                **fields,
            )

    def test_one_rate_per_zone_and_method(self, europe, methods):
        rate(europe, methods["economy"], "12.00")
        with pytest.raises(IntegrityError), transaction.atomic():
            rate(europe, methods["economy"], "14.00")

    def test_validation_explains_the_days(self, europe, methods):
        invalid = ShippingRate(
            zone=europe,
            method=methods["economy"],
            first_weight_grams=500,
            first_price=Decimal("12.00"),
            additional_weight_grams=500,
            additional_price=Decimal("1.00"),
            min_days=12,
            max_days=10,
        )
        with pytest.raises(ValidationError) as raised:
            invalid.full_clean()
        assert "The minimum days must not exceed the maximum days." in str(raised.value)

    def test_terms_mirror_the_row(self, europe, methods):
        row = rate(europe, methods["economy"], "12.00", "3.50", free_above=Decimal("900"))
        terms = row.terms()
        assert (terms.first_weight_grams, terms.additional_weight_grams) == (500, 500)
        assert (terms.first_price, terms.additional_price) == (usd("12.00"), usd("3.50"))
        assert terms.free_above == usd("900")
        assert (terms.min_days, terms.max_days) == (5, 10)
