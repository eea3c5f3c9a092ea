"""Payment methods per country and currency: the super admin's rules, what checkout offers and
accepts, and the Stripe Checkout Session opened with the methods of the order's country and in
its currency (Stripe faked at the HTTP layer, tests/stripe_fakes.py)."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from orders import lifecycle, stripe_gateway
from orders.checkout import order_place, payment_methods_offered
from orders.models import CountryPaymentMethods, Order, OrderState, Payment, PaymentSettings
from orders.payment_options import stripe_exponent
from orders.payment_settings import payment_methods_for
from tests.factories import (
    AddressFactory,
    ProductFactory,
    ShippingRateFactory,
    ShippingZoneFactory,
    StaffFactory,
    place_order,
)
from tests.stripe_fakes import deliver, fake_stripe, start_checkout
from wholesale.money import Money

pytestmark = pytest.mark.django_db

MARKETS = ["NL", "BE", "PL", "AT", "ES", "FR", "DE", "US", "GB", "JP", "IS"]


@pytest.fixture
def stripe_keys(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_for_the_offer_only"


@pytest.fixture
def fake(settings):
    with fake_stripe(settings) as fake:
        yield fake


@pytest.fixture
def shipping():
    """Express to every market the tests use."""
    return ShippingRateFactory(zone=ShippingZoneFactory(countries=MARKETS))


def rule(country: str, *methods: str) -> CountryPaymentMethods:
    return CountryPaymentMethods.objects.create(country=country, methods=list(methods))


def order_in(buyer, country: str, currency: str, rate: str, **options) -> Order:
    product = ProductFactory()
    s, m = product.variants.order_by("position")
    return place_order(
        buyer,
        {s: 30, m: 30},
        address=AddressFactory(member=buyer, country=country),
        currency=currency,
        rate=Decimal(rate),
        **options,
    )


class TestTheMethodsOfferedToACountry:
    @pytest.mark.usefixtures("stripe_keys")
    def test_without_any_rule_every_country_gets_the_shop_wide_methods(self):
        assert payment_methods_for(country="NL", currency="EUR") == ["card", "bank_transfer"]
        assert payment_methods_offered(country="NL", currency="EUR") == payment_methods_offered()

    @pytest.mark.usefixtures("stripe_keys")
    def test_the_netherlands_in_euros_include_ideal(self):
        rule("NL", "card", "ideal", "bank_transfer")
        assert payment_methods_for(country="NL", currency="EUR") == [
            "card",
            "ideal",
            "bank_transfer",
        ]
        assert payment_methods_offered(country="NL", currency="EUR") == ["card", "bank_transfer"]

    @pytest.mark.usefixtures("stripe_keys")
    def test_ideal_is_not_offered_in_another_currency(self):
        rule("NL", "card", "ideal", "bank_transfer")
        assert payment_methods_for(country="NL", currency="USD") == ["card", "bank_transfer"]

    @pytest.mark.usefixtures("stripe_keys")
    def test_poland_in_zloty_includes_przelewy24_and_blik(self):
        rule("PL", "card", "p24", "blik", "bank_transfer")
        assert payment_methods_for(country="PL", currency="PLN") == [
            "card",
            "p24",
            "blik",
            "bank_transfer",
        ]
        # Przelewy24 also takes euros, BLIK only złoty.
        assert payment_methods_for(country="PL", currency="EUR") == [
            "card",
            "p24",
            "bank_transfer",
        ]

    @pytest.mark.usefixtures("stripe_keys")
    def test_a_rule_may_keep_a_method_to_some_currencies(self):
        CountryPaymentMethods.objects.create(
            country="PL",
            methods=["card", "p24", "bank_transfer"],
            currencies={"bank_transfer": ["USD", "EUR"]},
        )
        assert payment_methods_for(country="PL", currency="EUR") == [
            "card",
            "p24",
            "bank_transfer",
        ]
        assert payment_methods_for(country="PL", currency="PLN") == ["card", "p24"]

    @pytest.mark.usefixtures("stripe_keys")
    def test_a_country_without_a_rule_gets_the_default_rule(self):
        rule("NL", "ideal", "card")
        rule("", "bank_transfer")
        assert payment_methods_for(country="ES", currency="EUR") == ["bank_transfer"]
        assert payment_methods_for(country="NL", currency="EUR") == ["ideal", "card"]

    @pytest.mark.usefixtures("stripe_keys")
    def test_a_country_without_a_rule_and_no_default_gets_the_shop_wide_methods(self):
        rule("NL", "ideal")
        assert payment_methods_for(country="ES", currency="EUR") == ["card", "bank_transfer"]

    def test_online_methods_need_the_stripe_keys(self, settings):
        settings.STRIPE_SECRET_KEY = ""
        rule("NL", "card", "ideal", "bank_transfer")
        assert payment_methods_for(country="NL", currency="EUR") == ["bank_transfer"]

    @pytest.mark.usefixtures("stripe_keys")
    def test_the_shop_wide_switches_still_apply(self):
        rule("NL", "card", "ideal", "bank_transfer")
        PaymentSettings.objects.create(
            card_enabled=False, bank_transfer_enabled=True, bank_details="IBAN"
        )
        assert payment_methods_for(country="NL", currency="EUR") == ["bank_transfer"]

    @pytest.mark.usefixtures("stripe_keys")
    def test_no_online_payment_in_a_three_decimal_currency(self):
        # Stripe wants the last of KWD's three digits to be 0: a total to the fils cannot be
        # charged as it is.
        assert payment_methods_for(country="NL", currency="KWD") == ["bank_transfer"]

    @pytest.mark.usefixtures("stripe_keys")
    def test_the_rules_are_read_once_then_from_the_cache(self, django_assert_num_queries):
        rule("NL", "ideal", "card")
        payment_methods_for(country="NL", currency="EUR")
        with django_assert_num_queries(0):
            assert payment_methods_for(country="NL", currency="EUR") == ["ideal", "card"]

    @pytest.mark.usefixtures("stripe_keys")
    def test_a_changed_or_deleted_rule_is_seen_at_once(self):
        nl = rule("NL", "ideal", "card")
        assert payment_methods_for(country="NL", currency="EUR") == ["ideal", "card"]  # cached
        nl.methods = ["bank_transfer"]
        nl.save()
        assert payment_methods_for(country="NL", currency="EUR") == ["bank_transfer"]
        nl.delete()
        assert payment_methods_for(country="NL", currency="EUR") == ["card", "bank_transfer"]

    def test_a_rule_refuses_unknown_or_no_methods(self):
        for methods in ([], ["paypal"], "card"):
            with pytest.raises(ValidationError):
                CountryPaymentMethods(country="NL", methods=methods).full_clean()
        CountryPaymentMethods(country="NL", methods=["blik"]).full_clean()

    def test_a_rule_refuses_malformed_currency_limits(self):
        for limits in (["EUR"], {"paypal": ["EUR"]}, {"card": "EUR"}, {"card": ["eur"]}):
            with pytest.raises(ValidationError):
                CountryPaymentMethods(
                    country="NL", methods=["card"], currencies=limits
                ).full_clean()
        CountryPaymentMethods(
            country="NL", methods=["card"], currencies={"card": ["EUR", "USD"]}
        ).full_clean()


@pytest.mark.usefixtures("shipping", "stripe_keys")
class TestPlacingAnOrder:
    def test_a_method_not_offered_in_the_country_is_refused(self, buyer):
        rule("NL", "card", "ideal")
        with pytest.raises(ValidationError) as refused:
            order_in(buyer, "NL", "EUR", "0.9", payment_method="bank_transfer")
        assert refused.value.error_list[0].code == "payment"
        assert not Order.objects.exists()
        assert not Payment.objects.exists()

    def test_a_method_not_offered_in_the_currency_is_refused(self, buyer):
        rule("NL", "ideal", "bank_transfer")
        with pytest.raises(ValidationError) as refused:
            order_in(buyer, "NL", "USD", "1", payment_method="card")
        assert refused.value.error_list[0].code == "payment"
        assert not Order.objects.exists()

    def test_the_cart_is_left_as_it_was_when_refused(self, buyer):
        rule("", "card")
        product = ProductFactory()
        s, _m = product.variants.order_by("position")
        with pytest.raises(ValidationError):
            place_order(buyer, {s: 60}, address=AddressFactory(member=buyer, country="ES"))
        # Placing by card from the same cart still works.
        order = order_place(
            member=buyer,
            checkout_key=uuid.uuid4(),
            address_id=AddressFactory(member=buyer, country="ES").pk,
            method_code="express",
            payment_method="card",
        )
        assert order.lines.get().quantity == 60

    def test_the_order_a_checkout_placed_is_returned_though_the_rule_changed(self, buyer):
        """Posting the same checkout again (a retry, a second tab) finds its order."""
        rule("NL", "bank_transfer")
        key, address = uuid.uuid4(), AddressFactory(member=buyer, country="NL")
        product = ProductFactory()
        placed = place_order(
            buyer,
            {product.variants.first(): 60},
            address=address,
            checkout_key=key,
            currency="EUR",
            rate=Decimal("0.9"),
        )
        CountryPaymentMethods.objects.filter(country="NL").delete()
        rule("NL", "card")
        PaymentSettings.objects.update_or_create(
            pk=1, defaults={"card_enabled": True, "bank_transfer_enabled": False}
        )
        again = order_place(
            member=buyer,
            checkout_key=key,
            address_id=address.pk,
            method_code="express",
            payment_method="bank_transfer",
            currency="EUR",
            rate=Decimal("0.9"),
        )
        assert again.pk == placed.pk
        assert Order.objects.count() == 1

    def test_an_offered_method_is_placed(self, buyer):
        rule("NL", "card", "ideal")
        order = order_in(buyer, "NL", "EUR", "0.9", payment_method="card")
        assert (order.payment_method, order.currency, order.ship_country.code) == (
            "card",
            "EUR",
            "NL",
        )
        payment = order.payments.get()
        assert (payment.amount, payment.currency) == (order.grand_total, "EUR")


class TestStripeMinorUnits:
    @pytest.mark.parametrize(
        ("amount", "currency", "units"),
        [
            ("198.00", "EUR", 19800),
            ("1980", "JPY", 1980),  # zero-decimal: not × 100
            ("52000", "KRW", 52000),
            ("500", "ISK", 50000),  # Babel: no minor unit; Stripe: hundredths
            ("1980", "RSD", 198000),
            ("1.230", "KWD", 1230),
            ("99.99", "PLN", 9999),
        ],
    )
    def test_stripe_counts_the_minor_units_its_own_way(self, amount, currency, units):
        assert stripe_gateway.to_minor_units(Money(Decimal(amount), currency)) == units
        assert stripe_gateway.from_minor_units(units, currency.lower()) == Money(
            Decimal(amount), currency
        )

    def test_an_amount_finer_than_stripe_counts_is_refused_not_rounded(self):
        # Babel counts Libyan dinars to the dirham (three decimals), Stripe in hundredths.
        assert stripe_gateway.to_minor_units(Money(Decimal("1.230"), "LYD")) == 123
        with pytest.raises(stripe_gateway.PaymentProviderError) as refused:
            stripe_gateway.to_minor_units(Money(Decimal("1.234"), "LYD"))
        assert refused.value.code == "amount"

    def test_the_exponents(self):
        assert [stripe_exponent(c) for c in ("jpy", "EUR", "ISK", "KWD", "VND")] == [0, 2, 2, 3, 0]


@pytest.mark.usefixtures("shipping")
class TestTheStripeCheckoutSession:
    def test_netherlands_in_euros_opens_with_ideal(self, fake, buyer):
        rule("NL", "ideal", "card", "bank_transfer")
        order = order_in(buyer, "NL", "EUR", "0.9", payment_method="card")

        start_checkout(order)

        (create,) = fake.posts("/checkout/sessions")
        assert create.data["payment_method_types"] == ["ideal", "card"]
        price = create.data["line_items"][0]["price_data"]
        assert price["currency"] == "eur"
        assert int(price["unit_amount"]) == int(order.grand_total * 100)

    def test_poland_in_zloty_opens_with_przelewy24_and_blik(self, fake, buyer):
        rule("PL", "card", "p24", "blik")
        order = order_in(buyer, "PL", "PLN", "4.0", payment_method="card")

        start_checkout(order)

        (create,) = fake.posts("/checkout/sessions")
        assert create.data["payment_method_types"] == ["card", "p24", "blik"]
        assert create.data["line_items"][0]["price_data"]["currency"] == "pln"

    def test_without_a_rule_a_card_as_before(self, fake, buyer):
        order = order_in(buyer, "ES", "EUR", "0.9", payment_method="card")
        start_checkout(order)
        (create,) = fake.posts("/checkout/sessions")
        assert create.data["payment_method_types"] == ["card"]

    def test_a_yen_amount_goes_without_multiplying_by_100(self, fake, buyer):
        order = order_in(buyer, "JP", "JPY", "150", payment_method="card")
        assert order.grand_total == order.grand_total.to_integral_value()

        start_checkout(order)

        (create,) = fake.posts("/checkout/sessions")
        price = create.data["line_items"][0]["price_data"]
        assert price["currency"] == "jpy"
        assert int(price["unit_amount"]) == int(order.grand_total)
        assert create.data["payment_method_types"] == ["card"]

    def test_a_kronur_amount_goes_in_hundredths(self, fake, buyer):
        order = order_in(buyer, "IS", "ISK", "140", payment_method="card")
        start_checkout(order)
        (create,) = fake.posts("/checkout/sessions")
        unit_amount = int(create.data["line_items"][0]["price_data"]["unit_amount"])
        assert unit_amount == int(order.grand_total * 100)
        assert unit_amount % 100 == 0


@pytest.mark.usefixtures("shipping")
class TestAnOrderInAnotherCurrency:
    """Payment, webhook and refund all in the order's currency, never the base currency."""

    @pytest.fixture
    def paid_euro_order(self, fake, buyer, client, django_capture_on_commit_callbacks):
        rule("NL", "ideal", "card")
        order = order_in(buyer, "NL", "EUR", "0.9", payment_method="card")
        session_id = start_checkout(order)
        fake.pay(session_id)
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(client, fake.event("checkout.session.completed", session_id))
        assert response.status_code == 200
        order.refresh_from_db()
        return order

    def test_the_webhook_pays_it_in_its_currency(self, paid_euro_order):
        assert paid_euro_order.state == OrderState.PAID
        payment = Payment.objects.get(order=paid_euro_order, status=Payment.Status.SUCCEEDED)
        assert (payment.amount, payment.currency) == (paid_euro_order.grand_total, "EUR")

    def test_a_payment_in_the_base_currency_does_not_pay_it(self, fake, buyer, client):
        order = order_in(buyer, "NL", "EUR", "0.9", payment_method="card")
        session_id = start_checkout(order)
        intent = fake.pay(session_id)
        fake.intents[intent["id"]]["currency"] = "usd"  # the same figure, another currency

        deliver(client, fake.event("payment_intent.succeeded", intent["id"]))

        order.refresh_from_db()
        assert order.state == OrderState.PENDING_PAYMENT
        assert "does not match" in order.events.last().reason

    def test_a_refund_goes_to_stripe_in_its_currency(self, fake, paid_euro_order):
        line = paid_euro_order.lines.first()
        refund = lifecycle.refund_create(
            order_id=paid_euro_order.pk,
            by=StaffFactory(),
            reason="damaged",
            lines={line.pk: 2},
            send=stripe_gateway.refund_send,
        )
        (sent,) = fake.posts("/refunds")
        assert int(sent.data["amount"]) == int(line.unit_price * 2 * 100)
        assert refund.currency == "EUR"
        assert fake.refunds[refund.provider_id]["currency"] == "eur"
