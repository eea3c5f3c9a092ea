"""Currencies (wholesale.currencies): rates, conversion and rounding to each currency's minor
unit, the visitor's currency, orders charged in another currency, and the rates feed."""

import io
import json
import logging
import urllib.error
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from orders.models import Order
from tests.factories import DistributorFactory, ProductFactory, place_order
from wholesale import currencies
from wholesale.currencies import (
    activate,
    active_currencies,
    currency_for_request,
    default_for_country,
    display,
    get_display,
    rate_for,
    rates_refresh,
)
from wholesale.models import Currency
from wholesale.money import Money, minor_unit_exponent

pytestmark = pytest.mark.django_db

USD = "USD"


def usd(amount: str) -> Money:
    return Money(Decimal(amount), USD)


def set_rate(code: str, rate: str, **fields) -> Currency:
    currency = Currency.objects.get(code=code)
    currency.rate = Decimal(rate)
    for name, value in fields.items():
        setattr(currency, name, value)
    currency.save()
    return currency


class TestRatesAndConversion:
    def test_the_seeded_markets_are_active_and_the_base_is_there_at_1(self):
        codes = active_currencies()
        for code in ("USD", "EUR", "GBP", "RUB", "PLN", "BRL", "AUD", "CAD", "CZK", "ILS", "JPY"):
            assert code in codes
        assert rate_for(USD) == Decimal(1)
        assert not Currency.objects.filter(code=USD).exists()  # no row needed for the base

    def test_euros_round_to_the_cent_and_yen_to_the_whole_yen(self):
        set_rate("EUR", "0.86")
        set_rate("JPY", "155.37")
        activate("EUR")
        assert display(usd("4.205")) == Money(Decimal("3.62"), "EUR")  # 3.6163
        assert display(usd("3.30")) == Money(Decimal("2.84"), "EUR")  # 2.838
        activate("JPY")
        assert display(usd("3.30")) == Money(Decimal("513"), "JPY")  # 512.72
        assert display(usd("4.20")) == Money(Decimal("653"), "JPY")  # 652.554
        activate(USD)
        assert display(usd("4.20")) == usd("4.20")

    def test_an_inactive_or_unknown_currency_is_refused(self):
        set_rate("GBP", "0.76", is_active=False)
        assert "GBP" not in active_currencies()
        assert rate_for("GBP") is None
        assert activate("GBP") == USD
        assert activate("XYZ") == USD
        assert display(usd("1")) == usd("1")

    def test_the_cached_table_follows_a_change_of_rate(self):
        assert rate_for("EUR") == Decimal("0.86")  # cached now
        set_rate("EUR", "0.9")
        assert rate_for("EUR") == Decimal("0.9")
        Currency.objects.get(code="EUR").delete()
        assert rate_for("EUR") is None

    def test_a_zero_or_negative_rate_is_refused_by_the_model(self):
        from django.core.exceptions import ValidationError

        currency = Currency(code="CHF", rate=Decimal(0))
        with pytest.raises(ValidationError):
            currency.full_clean()
        with pytest.raises(ValidationError):
            Currency(code="usd", rate=Decimal(1)).full_clean()  # not an ISO code as written

    def test_the_display_currency_converts_base_amounts_only(self):
        try:
            assert activate("EUR") == "EUR"
            assert get_display() == "EUR"
            assert display(usd("10.00")) == Money(Decimal("8.60"), "EUR")
            own = Money(Decimal("5.00"), "GBP")
            assert display(own) is own  # an amount already in its own currency stays
            set_rate("PLN", "3.65", is_active=False)
            assert activate("PLN") == USD  # inactive: the base currency
            assert display(usd("10.00")) == usd("10.00")
        finally:
            currencies.deactivate()
        assert get_display() == USD


class TestTheVisitorsCurrency:
    def request(self, *, session=None, country=None, user=None):
        request = RequestFactory().get("/catalog/")
        request.session = SessionStore()
        request.session.update(session or {})
        request.user = user or AnonymousUser()
        if country is not None:
            request.country = country
        return request

    def test_the_country_gives_the_default(self):
        assert currency_for_request(self.request(country="ES")) == "EUR"
        assert currency_for_request(self.request(country="JP")) == "JPY"
        assert currency_for_request(self.request(country="KE")) == USD  # not in the table
        assert default_for_country("es") == "EUR"

    def test_without_a_country_the_configured_default_country_counts(self, settings):
        settings.WHOLESALE_DEFAULT_COUNTRY = "GB"
        assert currency_for_request(self.request()) == "GBP"

    def test_a_country_whose_currency_is_inactive_gets_the_base(self):
        set_rate("EUR", "0.86", is_active=False)
        assert currency_for_request(self.request(country="ES")) == USD

    def test_the_explicit_choice_beats_the_profile_and_the_country(self):
        member = DistributorFactory().user
        member.preferred_currency = "GBP"
        assert currency_for_request(self.request(country="ES", user=member)) == "GBP"
        chosen = self.request(session={"currency": "JPY"}, country="ES", user=member)
        assert currency_for_request(chosen) == "JPY"

    def test_a_choice_no_longer_active_is_passed_over(self):
        set_rate("JPY", "155", is_active=False)
        stale = self.request(session={"currency": "JPY"}, country="ES")
        assert currency_for_request(stale) == "EUR"


class TestOrdersInAnotherCurrency:
    def place(self, currency):
        member = DistributorFactory().user
        size_s, size_m = ProductFactory().variants.order_by("position")
        rate = rate_for(currency)
        return place_order(member, {size_s: 30, size_m: 30}, currency=currency, rate=rate)

    def assert_adds_up(self, order: Order):
        unit = minor_unit_exponent(order.currency)
        lines = list(order.lines.all())
        for line in lines:
            assert line.unit_price == line.unit_price.quantize(unit)
            assert line.line_total == line.unit_price * line.quantity
        assert order.goods_total == sum(line.line_total for line in lines)
        assert order.grand_total == (
            order.goods_total
            - order.discount_total
            + order.shipping_total
            + order.insurance_total
            + order.fee_total
        )
        for field in ("goods_total", "shipping_total", "insurance_total", "grand_total"):
            assert getattr(order, field) == getattr(order, field).quantize(unit), field

    def test_an_order_in_euros_adds_up_to_the_cent_and_keeps_its_rate(self):
        set_rate("EUR", "0.9137")
        order = self.place("EUR")
        assert (order.currency, order.base_currency) == ("EUR", USD)
        assert order.exchange_rate == Decimal("0.9137")
        self.assert_adds_up(order)
        # 60 units at the 50+ tier, 3.30 → 3.02 €; express 135.00 → 123.35; 1.5 % of 198.00.
        assert order.goods_total == Decimal("181.20")
        assert order.shipping_total == Decimal("123.35")
        assert order.insurance_total == Decimal("2.71")
        assert order.grand_total == Decimal("307.26")
        assert order.grand_total_base == Decimal("335.97")  # 198.00 + 135.00 + 2.97
        assert order.payments.get().currency == "EUR"
        assert order.payments.get().amount == order.grand_total
        set_rate("EUR", "0.5")  # a later rate changes nothing placed
        order.refresh_from_db()
        assert order.exchange_rate == Decimal("0.9137")
        assert order.grand_total == Decimal("307.26")

    def test_an_order_in_yen_has_no_minor_unit(self):
        set_rate("JPY", "155.37")
        order = self.place("JPY")
        self.assert_adds_up(order)
        assert order.goods_total == Decimal(513 * 60)  # 3.30 × 155.37 = 512.72 → 513
        assert order.shipping_total == Decimal("20975")  # 135 × 155.37 = 20974.95
        assert order.grand_total_base == Decimal("335.97")
        assert order.grand_total % 1 == 0


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def feed(payload) -> FakeResponse:
    return FakeResponse(json.dumps(payload).encode())


RATES_URL = "https://rates.example.test/latest.json"


class TestTheRatesFeed:
    @pytest.fixture(autouse=True)
    def _feed(self, settings):
        settings.WHOLESALE_RATES_URL = RATES_URL
        Currency.objects.filter(code__in=["EUR", "JPY", "RUB"]).update(auto_update=True)

    def held(self) -> dict[str, Decimal]:
        return dict(Currency.objects.values_list("code", "rate"))

    def test_the_marked_currencies_take_the_feeds_rates(self):
        before = self.held()
        reply = feed({"base": "USD", "rates": {"EUR": "0.9123", "JPY": 151.5, "GBP": "0.7"}})
        with mock.patch("urllib.request.urlopen", return_value=reply) as urlopen:
            updated = rates_refresh()
        [(request,), kwargs] = urlopen.call_args
        assert request.full_url == RATES_URL
        assert kwargs == {"timeout": 10}
        assert updated == {"EUR": Decimal("0.9123"), "JPY": Decimal("151.5")}
        held = self.held()
        assert held["EUR"] == Decimal("0.9123")
        assert held["JPY"] == Decimal("151.5")
        assert held["GBP"] == before["GBP"]  # set by hand: never taken from the feed
        assert held["RUB"] == before["RUB"]  # not in the feed: stays
        assert rate_for("EUR") == Decimal("0.9123")  # the cached table follows

    def test_a_feed_in_another_base_is_converted_to_ours(self):
        reply = feed({"base": "EUR", "rates": {"USD": "1.25", "JPY": "200"}})
        with mock.patch("urllib.request.urlopen", return_value=reply):
            rates_refresh()
        held = self.held()
        assert held["EUR"] == Decimal("0.8")  # 1 / 1.25
        assert held["JPY"] == Decimal("160")  # 200 / 1.25

    def test_absurd_or_non_positive_rates_are_refused(self, caplog):
        before = self.held()
        reply = feed({"base": "USD", "rates": {"EUR": "86", "JPY": "-1", "RUB": "0"}})
        with (
            caplog.at_level(logging.WARNING),
            mock.patch("urllib.request.urlopen", return_value=reply),
        ):
            assert rates_refresh() == {}
        assert self.held() == before
        assert "EUR" in caplog.text

    def test_a_rate_too_large_to_hold_is_refused_and_the_others_still_taken(self, caplog):
        before = self.held()
        reply = feed({"base": "USD", "rates": {"EUR": "1e30", "JPY": "151.5"}})
        with (
            caplog.at_level(logging.WARNING),
            mock.patch("urllib.request.urlopen", return_value=reply),
        ):
            assert rates_refresh() == {"JPY": Decimal("151.5")}
        assert self.held()["EUR"] == before["EUR"]
        assert "EUR" in caplog.text

    def test_a_feed_quoting_our_base_at_next_to_nothing_changes_nothing(self):
        before = self.held()
        reply = feed({"base": "EUR", "rates": {"USD": "1e-25", "JPY": "160"}})
        with mock.patch("urllib.request.urlopen", return_value=reply):
            assert rates_refresh() == {}
        assert self.held() == before

    @pytest.mark.parametrize(
        "fault",
        [
            urllib.error.HTTPError(RATES_URL, 503, "Unavailable", {}, io.BytesIO(b"")),
            urllib.error.URLError("no route"),
            TimeoutError("timed out"),
        ],
    )
    def test_a_network_error_keeps_every_rate(self, fault, caplog):
        before = self.held()
        with (
            caplog.at_level(logging.WARNING),
            mock.patch("urllib.request.urlopen", side_effect=fault),
        ):
            assert rates_refresh() == {}
        assert self.held() == before
        assert "not refreshed" in caplog.text

    @pytest.mark.parametrize(
        "body",
        [
            b"<html>bad gateway</html>",
            b'{"rates": {"EUR": "0.9"}}',  # no base
            b'{"base": "GBP", "rates": {"EUR": "1.1"}}',  # does not quote our base
            b'["EUR", 0.9]',
        ],
    )
    def test_a_bad_feed_keeps_every_rate(self, body):
        before = self.held()
        with mock.patch("urllib.request.urlopen", return_value=FakeResponse(body)):
            assert rates_refresh() == {}
        assert self.held() == before

    def test_without_an_address_nothing_is_asked(self, settings):
        settings.WHOLESALE_RATES_URL = ""
        with mock.patch("urllib.request.urlopen") as urlopen:
            assert rates_refresh() == {}
        urlopen.assert_not_called()

    def test_the_beat_task_runs_it(self):
        from wholesale.tasks import rates_refresh_task

        reply = feed({"base": "USD", "rates": {"EUR": "0.95"}})
        with mock.patch("urllib.request.urlopen", return_value=reply):
            assert rates_refresh_task.delay().get() == 1
        assert self.held()["EUR"] == Decimal("0.95")
