"""The buyer's card payment pages: off to Stripe Checkout (card_start) and back (card_return),
through the HTTP client with Stripe faked at the HTTP layer."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from orders import lifecycle
from orders.models import Order, OrderEvent, OrderState, Payment, PaymentMethod
from tests.factories import DistributorFactory, ProductFactory, StaffFactory, place_order
from tests.stripe_fakes import fake_stripe, start_checkout

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings):
    with fake_stripe(settings) as fake:
        yield fake


def a_card_order(member):
    product = ProductFactory()
    s, m = product.variants.order_by("position")
    return place_order(member, {s: 30, m: 30}, payment_method=PaymentMethod.CARD)


@pytest.fixture
def card_order(fake, buyer):
    return a_card_order(buyer)


def start_url(order) -> str:
    return reverse("payments:card_start", args=[order.number])


def return_url(order, session_id=None) -> str:
    url = reverse("payments:card_return", args=[order.number])
    return f"{url}?session_id={session_id}" if session_id else url


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def state_of(order) -> str:
    return Order.objects.values_list("state", flat=True).get(pk=order.pk)


def card_payment(order) -> Payment:
    return Payment.objects.get(order=order, method=PaymentMethod.CARD)


class TestStart:
    def test_sends_the_buyer_to_the_session(self, fake, card_order, buyer_client):
        response = buyer_client.get(start_url(card_order))

        (session,) = fake.sessions_for(card_order)
        assert response.status_code == 303
        assert response["Location"] == session["url"]
        assert "no-store" in response["Cache-Control"]
        assert session["success_url"] == (
            f"http://testserver{return_url(card_order)}?session_id={{CHECKOUT_SESSION_ID}}"
        )
        assert session["cancel_url"] == f"http://testserver{card_order.get_absolute_url()}"

    def test_again_is_the_same_session(self, fake, card_order, buyer_client):
        locations = {buyer_client.get(start_url(card_order))["Location"] for _ in range(3)}
        assert len(locations) == 1
        assert len(fake.posts("/checkout/sessions")) == 1

    def test_queries_do_not_depend_on_the_order(
        self, fake, card_order, buyer_client, django_assert_max_num_queries
    ):
        buyer_client.get(start_url(card_order))
        with django_assert_max_num_queries(6):
            assert buyer_client.get(start_url(card_order)).status_code == 303

    def test_a_paid_order_goes_to_its_page(self, fake, card_order, buyer_client):
        session_id = start_checkout(card_order)
        intent = fake.pay(session_id)
        lifecycle.payment_succeeded(
            order_id=card_order.pk,
            method=PaymentMethod.CARD,
            amount=card_order.money("grand_total"),
            intent_id=intent["id"],
            actor_label="stripe",
        )
        requests_before = len(fake.requests)

        response = buyer_client.get(start_url(card_order))

        assert response.status_code == 302
        assert response["Location"] == card_order.get_absolute_url()
        assert texts(response) == ["This order is already paid."]
        assert len(fake.requests) == requests_before

    def test_a_cancelled_order_cannot_be_paid(self, fake, card_order, buyer, buyer_client):
        lifecycle.order_cancel_by_buyer(member=buyer, number=card_order.number)

        response = buyer_client.get(start_url(card_order))

        assert response.status_code == 302
        assert response["Location"] == card_order.get_absolute_url()
        assert "can no longer be paid" in texts(response)[0]
        assert fake.requests == []

    def test_stripe_down_shows_a_message_on_the_order(self, fake, card_order, buyer_client):
        fake.unreachable = True

        response = buyer_client.get(start_url(card_order))

        assert response.status_code == 302
        assert response["Location"] == card_order.get_absolute_url()
        assert "could not reach the card payment service" in texts(response)[0]
        assert card_payment(card_order).provider_id == ""

    def test_only_get(self, fake, card_order, buyer_client):
        assert buyer_client.post(start_url(card_order)).status_code == 405


class TestReturn:
    def test_a_paid_session_marks_the_order_paid(
        self, fake, card_order, buyer_client, django_capture_on_commit_callbacks, mailoutbox
    ):
        session_id = start_checkout(card_order)
        fake.pay(session_id)
        mailoutbox.clear()

        with django_capture_on_commit_callbacks(execute=True):
            response = buyer_client.get(return_url(card_order, session_id))

        assert response.status_code == 302
        assert response["Location"] == card_order.get_absolute_url()
        assert texts(response) == ["Thank you: your card payment was received."]
        assert state_of(card_order) == OrderState.PAID
        payment = card_payment(card_order)
        assert payment.status == Payment.Status.SUCCEEDED
        assert payment.provider_id == session_id
        assert len(mailoutbox) == 1

    def test_coming_back_twice_records_one_payment(self, fake, card_order, buyer_client):
        session_id = start_checkout(card_order)
        fake.pay(session_id)

        for _ in range(2):
            buyer_client.get(return_url(card_order, session_id))

        transitions = OrderEvent.objects.filter(
            order=card_order, kind=OrderEvent.Kind.TRANSITION, to_state=OrderState.PAID
        )
        assert transitions.count() == 1
        assert (
            OrderEvent.objects.filter(order=card_order, kind=OrderEvent.Kind.PAYMENT).count() == 1
        )

    def test_a_session_not_paid_yet_says_so(self, fake, card_order, buyer_client):
        session_id = start_checkout(card_order)

        response = buyer_client.get(return_url(card_order, session_id))

        assert response.status_code == 302
        assert "not confirmed yet" in texts(response)[0]
        assert state_of(card_order) == OrderState.PENDING_PAYMENT

    def test_a_declined_session_leaves_the_order_unpaid(self, fake, card_order, buyer_client):
        session_id = start_checkout(card_order)
        fake.decline(session_id)

        response = buyer_client.get(return_url(card_order, session_id))

        assert "not confirmed yet" in texts(response)[0]
        assert state_of(card_order) == OrderState.PENDING_PAYMENT
        assert "declined" in card_payment(card_order).failure_reason

    def test_another_orders_session_is_404_and_changes_nothing(
        self, fake, card_order, buyer, buyer_client
    ):
        other = a_card_order(buyer)
        other_session = start_checkout(other)
        fake.pay(other_session)

        response = buyer_client.get(return_url(card_order, other_session))

        assert response.status_code == 404
        assert state_of(card_order) == OrderState.PENDING_PAYMENT
        assert state_of(other) == OrderState.PENDING_PAYMENT

    @pytest.mark.parametrize("session_id", ["", "pi_123", "cs_<script>", "cs_" + "a" * 300])
    def test_a_missing_or_malformed_session_id(self, fake, card_order, buyer_client, session_id):
        url = reverse("payments:card_return", args=[card_order.number])

        response = buyer_client.get(url, {"session_id": session_id} if session_id else {})

        assert response.status_code == 302
        assert "incomplete" in texts(response)[0]
        assert fake.requests == []

    def test_an_unknown_session_or_stripe_down_shows_a_message(
        self, fake, card_order, buyer_client
    ):
        start_checkout(card_order)
        unknown = buyer_client.get(return_url(card_order, "cs_test_nonexistent"))
        fake.unreachable = True
        down = buyer_client.get(return_url(card_order, card_payment(card_order).provider_id))

        for response in (unknown, down):
            assert response.status_code == 302
            assert "could not confirm your payment" in texts(response)[0]
        assert state_of(card_order) == OrderState.PENDING_PAYMENT


class TestAccess:
    def test_anonymous_is_sent_to_log_in(self, fake, card_order, client):
        for url in (start_url(card_order), return_url(card_order, "cs_test_1")):
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("account_login"))
        assert fake.requests == []

    def test_another_members_order_is_404(self, fake, card_order, client):
        session_id = start_checkout(card_order)
        fake.pay(session_id)
        requests_before = len(fake.requests)
        client.force_login(DistributorFactory().user)

        statuses = [
            client.get(start_url(card_order)).status_code,
            client.get(return_url(card_order, session_id)).status_code,
        ]

        assert statuses == [404, 404]
        assert state_of(card_order) == OrderState.PENDING_PAYMENT
        assert len(fake.requests) == requests_before

    def test_staff_get_no_buyer_page_either(self, fake, card_order, client):
        client.force_login(StaffFactory())
        assert client.get(start_url(card_order)).status_code == 404

    def test_a_bank_transfer_order_or_unknown_number_is_404(self, fake, buyer, buyer_client):
        product = ProductFactory()
        s, _m = product.variants.order_by("position")
        transfer = place_order(buyer, {s: 60})

        assert buyer_client.get(start_url(transfer)).status_code == 404
        assert buyer_client.get("/payments/card/W999999/").status_code == 404
        assert buyer_client.get("/payments/card/W999999/return/?session_id=cs_1").status_code == 404
