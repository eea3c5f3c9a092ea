"""The Stripe gateway against a fake Stripe at the HTTP layer: Checkout Sessions under the
order's Idempotency-Key (RELIABILITY F5), PaymentIntent reads, refunds.

Run with -s to see the figures the F5 tests report.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from orders import lifecycle, stripe_gateway
from orders.models import OrderState, Payment, PaymentMethod, Refund
from tests.factories import ProductFactory, StaffFactory, place_order
from tests.stripe_fakes import fake_stripe
from wholesale.money import Money

pytestmark = pytest.mark.django_db

SUCCESS = "https://shop.test/payments/card/{number}/return/?session_id={{CHECKOUT_SESSION_ID}}"
CANCEL = "https://shop.test/account/orders/{number}/"


@pytest.fixture
def fake(settings):
    with fake_stripe(settings) as fake:
        yield fake


@pytest.fixture
def card_order(fake, buyer):
    product = ProductFactory()
    s, m = product.variants.order_by("position")
    return place_order(buyer, {s: 30, m: 30}, payment_method=PaymentMethod.CARD)


def session_url(order):
    return stripe_gateway.checkout_session_url(
        order=order,
        success_url=SUCCESS.format(number=order.number),
        cancel_url=CANCEL.format(number=order.number),
    )


def card_payment(order) -> Payment:
    return Payment.objects.get(order=order, method=PaymentMethod.CARD)


class TestMinorUnits:
    @pytest.mark.parametrize(
        ("amount", "currency", "units"),
        [
            ("198.00", "USD", 19800),
            ("0.01", "EUR", 1),
            ("1980", "JPY", 1980),
            ("12.345", "USD", 1235),  # rounded once, half up, to the cent
            ("1.234", "KWD", 1234),  # three decimals
        ],
    )
    def test_round_trip(self, amount, currency, units):
        assert stripe_gateway.to_minor_units(Money(Decimal(amount), currency)) == units
        back = stripe_gateway.from_minor_units(units, currency.lower())
        assert back.currency == currency
        assert back.amount == Money(Decimal(amount), currency).quantized().amount


class TestCheckoutSession:
    def test_creates_one_session_with_the_order_key_and_amount(self, fake, card_order):
        url = session_url(card_order)

        (create,) = fake.posts("/checkout/sessions")
        assert create.idempotency_key == f"order-{card_order.number}-card"
        data = create.data
        price = data["line_items"][0]["price_data"]
        assert price["currency"] == "usd"
        assert int(price["unit_amount"]) == int(card_order.grand_total * 100)
        assert data["line_items"][0]["quantity"] == "1"
        assert data["mode"] == "payment"
        metadata = {"order_number": card_order.number, "order_id": str(card_order.pk)}
        assert data["metadata"] == metadata
        assert data["payment_intent_data"]["metadata"] == metadata
        assert data["client_reference_id"] == card_order.number
        assert data["success_url"].endswith("?session_id={CHECKOUT_SESSION_ID}")
        assert create.headers["Authorization"] == "Bearer sk_test_x"
        assert not create.in_our_transaction
        (session,) = fake.sessions_for(card_order)
        assert url == session["url"]
        payment = card_payment(card_order)
        assert payment.provider_id == session["id"]
        assert payment.status == Payment.Status.PENDING

    def test_reuses_the_open_session(self, fake, card_order):
        first = session_url(card_order)
        second = session_url(card_order)
        assert first == second
        assert len(fake.posts("/checkout/sessions")) == 1
        assert len(fake.sessions_for(card_order)) == 1

    def test_replaces_an_expired_session_under_the_next_key(self, fake, card_order):
        session_url(card_order)
        (expired,) = fake.sessions_for(card_order)
        fake.expire(expired["id"])

        url = session_url(card_order)
        fake.expire(card_payment(card_order).provider_id)
        session_url(card_order)

        keys = [r.idempotency_key for r in fake.posts("/checkout/sessions")]
        base = f"order-{card_order.number}-card"
        assert keys == [base, f"{base}-g2", f"{base}-g3"]
        assert len(fake.sessions_for(card_order)) == 3
        assert url != expired["url"]
        assert card_payment(card_order).idempotency_key == f"{base}-g3"

    def test_a_paid_session_leads_back_to_the_return_page(self, fake, card_order):
        session_url(card_order)
        session_id = card_payment(card_order).provider_id
        fake.pay(session_id)

        url = session_url(card_order)

        assert url == SUCCESS.format(number=card_order.number).replace(
            "{CHECKOUT_SESSION_ID}", session_id
        )
        assert len(fake.posts("/checkout/sessions")) == 1

    def test_amount_in_minor_units_of_a_currency_without_decimals(self, fake, buyer):
        product = ProductFactory()
        s, m = product.variants.order_by("position")
        order = place_order(
            buyer,
            {s: 30, m: 30},
            payment_method=PaymentMethod.CARD,
            currency="JPY",
            rate=Decimal("150"),
        )
        session_url(order)
        (create,) = fake.posts("/checkout/sessions")
        price = create.data["line_items"][0]["price_data"]
        assert price["currency"] == "jpy"
        assert int(price["unit_amount"]) == int(order.grand_total)
        assert order.grand_total == order.grand_total.to_integral_value()

    def test_refused_for_an_order_not_awaiting_a_card_payment(self, fake, buyer, card_order):
        product = ProductFactory()
        s, _m = product.variants.order_by("position")
        transfer = place_order(buyer, {s: 60})
        lifecycle.order_cancel_by_buyer(member=buyer, number=card_order.number)
        card_order.refresh_from_db()

        for order in (transfer, card_order):
            with pytest.raises(stripe_gateway.PaymentProviderError):
                session_url(order)
        assert fake.requests == []

    def test_stripe_down_is_a_clear_error_and_stores_nothing(self, fake, card_order):
        fake.unreachable = True
        with pytest.raises(stripe_gateway.PaymentProviderError) as raised:
            session_url(card_order)
        assert "try again" in raised.value.messages[0]
        # the first try and the library's two retries, all under the same key
        attempts = fake.posts("/checkout/sessions")
        assert len(attempts) == 3
        assert {r.idempotency_key for r in attempts} == {f"order-{card_order.number}-card"}
        assert card_payment(card_order).provider_id == ""

    def test_without_a_secret_key_card_payment_is_unavailable(self, fake, card_order, settings):
        settings.STRIPE_SECRET_KEY = ""
        with pytest.raises(stripe_gateway.PaymentProviderError):
            session_url(card_order)
        assert fake.requests == []


class TestTimeoutAfterSuccess:
    """F5: Stripe makes the session, the answer never reaches us, and we ask again."""

    def test_the_library_retry_sends_the_same_key_and_params(self, fake, card_order):
        fake.time_out_after_success = 1

        url = session_url(card_order)

        attempts = fake.posts("/checkout/sessions")
        keys = [r.idempotency_key for r in attempts]
        sessions = fake.sessions_for(card_order)
        print(f"F5 (library retry): Idempotency-Key values sent={keys} sessions={len(sessions)}")
        assert len(attempts) == 2
        assert keys[0] == keys[1] == f"order-{card_order.number}-card"
        assert attempts[0].params == attempts[1].params
        assert len(sessions) == 1
        assert url == sessions[0]["url"]
        assert card_payment(card_order).provider_id == sessions[0]["id"]

    def test_the_buyer_retry_after_giving_up_finds_the_same_session(self, fake, card_order):
        fake.time_out_after_success = 3  # the first try and both library retries time out

        with pytest.raises(stripe_gateway.PaymentProviderError):
            session_url(card_order)
        assert card_payment(card_order).provider_id == ""

        url = session_url(card_order)

        attempts = fake.posts("/checkout/sessions")
        keys = {r.idempotency_key for r in attempts}
        params = {tuple(sorted(r.params)) for r in attempts}
        sessions = fake.sessions_for(card_order)
        print(
            f"F5 (buyer retry): requests={len(attempts)} Idempotency-Key values={sorted(keys)} "
            f"distinct params={len(params)} sessions={len(sessions)}"
        )
        assert len(attempts) == 4
        assert keys == {f"order-{card_order.number}-card"}
        assert len(params) == 1
        assert len(sessions) == 1
        assert url == sessions[0]["url"]
        assert card_payment(card_order).provider_id == sessions[0]["id"]


class TestReads:
    def test_payment_intent_with_its_charge(self, fake, card_order):
        session_url(card_order)
        intent = fake.pay(card_payment(card_order).provider_id)

        fetched = stripe_gateway.payment_intent_retrieve(intent["id"])

        assert fetched["status"] == "succeeded"
        assert fetched["metadata"]["order_id"] == str(card_order.pk)
        assert fetched["latest_charge"]["amount_refunded"] == 0
        assert isinstance(fetched, dict)

    def test_a_missing_object_is_a_clear_error(self, fake):
        with pytest.raises(stripe_gateway.PaymentProviderError):
            stripe_gateway.session_retrieve("cs_test_missing")
        with pytest.raises(stripe_gateway.PaymentProviderError):
            stripe_gateway.payment_intent_retrieve("pi_test_missing")


class TestRefunds:
    @pytest.fixture
    def paid_order(self, fake, card_order):
        session_url(card_order)
        session_id = card_payment(card_order).provider_id
        intent = fake.pay(session_id)
        lifecycle.payment_succeeded(
            order_id=card_order.pk,
            method=PaymentMethod.CARD,
            amount=card_order.money("grand_total"),
            provider_id=session_id,
            intent_id=intent["id"],
            actor_label="stripe",
        )
        card_order.refresh_from_db()
        return card_order

    def test_a_line_refund_goes_to_stripe_in_minor_units_under_its_key(self, fake, paid_order):
        finance = StaffFactory()
        line = paid_order.lines.first()

        refund = lifecycle.refund_create(
            order_id=paid_order.pk,
            by=finance,
            reason="damaged",
            lines={line.pk: 2},
            send=stripe_gateway.refund_send,
        )

        (sent,) = fake.posts("/refunds")
        assert sent.idempotency_key == refund.idempotency_key
        assert sent.data["payment_intent"] == card_payment(paid_order).intent_id
        assert int(sent.data["amount"]) == int(line.unit_price * 2 * 100)
        assert sent.data["metadata"]["refund_id"] == str(refund.pk)
        assert not sent.in_our_transaction
        refund.refresh_from_db()
        assert refund.status == Refund.Status.SUCCEEDED
        assert refund.provider_id in fake.refunds

    def test_a_whole_refund_marks_the_order_refunded(self, fake, paid_order):
        lifecycle.refund_create(
            order_id=paid_order.pk,
            by=StaffFactory(),
            reason="cancelled by phone",
            send=stripe_gateway.refund_send,
        )
        paid_order.refresh_from_db()
        assert paid_order.state == OrderState.REFUNDED
        (charge,) = fake.charges.values()
        assert charge["refunded"] is True

    def test_a_refund_stripe_refuses_is_undone(self, fake, paid_order):
        fake.refund_in_dashboard(card_payment(paid_order).intent_id)

        with pytest.raises(ValidationError) as raised:
            lifecycle.refund_create(
                order_id=paid_order.pk,
                by=StaffFactory(),
                reason="again",
                send=stripe_gateway.refund_send,
            )

        assert raised.value.messages == [
            "The refund failed at the payment provider: The card payment service refused the "
            "request: Refund amount is greater than unrefunded amount on charge."
        ]
        paid_order.refresh_from_db()
        assert paid_order.refunded_total == 0
        assert paid_order.state == OrderState.PAID
        assert Refund.objects.get(order=paid_order).status == Refund.Status.FAILED


class TestCancelledOrdersCloseTheirSession:
    def test_the_buyer_cancels_and_the_session_expires_after_commit(
        self, fake, card_order, buyer, django_capture_on_commit_callbacks
    ):
        session_url(card_order)
        session_id = card_payment(card_order).provider_id
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.order_cancel_by_buyer(member=buyer, number=card_order.number)
        assert fake.sessions[session_id]["status"] == "expired"
        [expire] = fake.posts(f"/checkout/sessions/{session_id}/expire")
        assert not expire.in_our_transaction
        assert card_payment(card_order).status == Payment.Status.CANCELLED

    def test_expiry_closes_it_too_and_a_paid_session_is_left_alone(
        self, fake, card_order, django_capture_on_commit_callbacks
    ):
        session_url(card_order)
        session_id = card_payment(card_order).provider_id
        fake.pay(session_id)  # paid at Stripe a moment before the expiry job ran
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.orders_expire_unpaid(now=card_order.pay_by + timedelta(minutes=1))
        assert fake.sessions[session_id]["status"] == "complete"
        assert len(fake.posts(f"/checkout/sessions/{session_id}/expire")) == 1
        card_order.refresh_from_db()
        assert card_order.state == OrderState.CANCELLED

    def test_an_order_without_a_session_calls_nobody(
        self, fake, card_order, buyer, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.order_cancel_by_buyer(member=buyer, number=card_order.number)
        assert fake.requests == []
