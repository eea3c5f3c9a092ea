"""The Stripe webhook through the HTTP client, with signatures really verified and Stripe faked
at the HTTP layer: replays (RELIABILITY F1, in a row), out-of-order events (F2) and bad
signatures (F3). The concurrent halves are in tests/concurrency/orders/test_webhook_races.py.

Run with -s to see the figures each test reports.
"""

import json
import time

import pytest
from django.urls import reverse
from stripe import WebhookSignature

from orders.models import Order, OrderEvent, OrderState, Payment, PaymentMethod, WebhookEvent
from tests.factories import ProductFactory, place_order
from tests.stripe_fakes import WEBHOOK_SECRET, deliver, fake_stripe, signed, start_checkout

pytestmark = pytest.mark.django_db

WEBHOOK = reverse("payments:stripe_webhook")


@pytest.fixture
def fake(settings):
    with fake_stripe(settings) as fake:
        yield fake


@pytest.fixture
def card_order(fake, buyer, mailoutbox):
    product = ProductFactory()
    s, m = product.variants.order_by("position")
    order = place_order(buyer, {s: 30, m: 30}, payment_method=PaymentMethod.CARD)
    mailoutbox.clear()
    return order


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """Deliver an event and run what the response's transaction queued (emails)."""

    def post(event, **signing):
        with django_capture_on_commit_callbacks(execute=True):
            return deliver(client, event, **signing)

    return post


def card_payment(order) -> Payment:
    return Payment.objects.get(order=order, method=PaymentMethod.CARD)


def paid_transitions(order) -> int:
    return OrderEvent.objects.filter(
        order=order, kind=OrderEvent.Kind.TRANSITION, to_state=OrderState.PAID
    ).count()


def state_of(order) -> str:
    return Order.objects.values_list("state", flat=True).get(pk=order.pk)


def intent_fetches(fake) -> int:
    return len([r for r in fake.requests if "/payment_intents/" in r.path])


def rows():
    """Everything a webhook could change, to compare before and after."""
    return (
        WebhookEvent.objects.count(),
        OrderEvent.objects.count(),
        sorted(Order.objects.values_list("pk", "state", "paid_at")),
        sorted(Payment.objects.values_list("pk", "status", "intent_id", "failure_reason")),
    )


class TestPaymentSucceeded:
    def test_marks_the_order_paid_once(self, fake, card_order, post, mailoutbox):
        intent = fake.pay(start_checkout(card_order))

        response = post(fake.event("payment_intent.succeeded", intent["id"]))

        assert response.status_code == 200
        assert response.json() == {"received": True, "result": "paid"}
        assert state_of(card_order) == OrderState.PAID
        payment = card_payment(card_order)
        assert payment.status == Payment.Status.SUCCEEDED
        assert payment.intent_id == intent["id"]
        assert payment.provider_id == fake.sessions_for(card_order)[0]["id"]
        history = OrderEvent.objects.filter(order=card_order, kind=OrderEvent.Kind.TRANSITION)
        assert history.get().actor_label == "stripe"
        assert len(mailoutbox) == 1
        assert mailoutbox[0].to == [card_order.email]
        record = WebhookEvent.objects.get()
        assert record.processed_at is not None
        assert record.result == "paid"

    def test_checkout_session_completed_also_pays(self, fake, card_order, post):
        session_id = start_checkout(card_order)
        fake.pay(session_id)

        response = post(fake.event("checkout.session.completed", session_id))

        assert response.status_code == 200
        assert state_of(card_order) == OrderState.PAID
        assert card_payment(card_order).provider_id == session_id

    def test_f1_the_same_event_five_times_in_a_row(self, fake, card_order, post, mailoutbox):
        intent = fake.pay(start_checkout(card_order))
        event = fake.event("payment_intent.succeeded", intent["id"])

        statuses = [post(event).status_code for _ in range(5)]

        payments = Payment.objects.filter(order=card_order, status=Payment.Status.SUCCEEDED).count()
        transitions = paid_transitions(card_order)
        emails = len(mailoutbox)
        print(
            f"F1 (5 in a row): statuses={statuses} payments={payments} "
            f"transitions={transitions} emails={emails} points credits=n/a (no points ledger yet)"
        )
        assert statuses == [200] * 5
        assert (payments, transitions, emails) == (1, 1, 1)
        assert WebhookEvent.objects.count() == 1
        # only the first delivery asked Stripe; the replays were answered from WebhookEvent
        assert intent_fetches(fake) == 1

    def test_a_paid_amount_that_does_not_match_is_not_applied(self, fake, card_order, post):
        session_id = start_checkout(card_order)
        intent = fake.pay(session_id, amount=100)

        response = post(fake.event("payment_intent.succeeded", intent["id"]))

        assert response.status_code == 200
        assert state_of(card_order) == OrderState.PENDING_PAYMENT
        assert card_payment(card_order).status == Payment.Status.PENDING
        note = OrderEvent.objects.filter(order=card_order, kind=OrderEvent.Kind.NOTE).get()
        assert "does not match" in note.reason


class TestOutOfOrder:
    """F2: the event is a hint; the PaymentIntent fetched from Stripe decides."""

    def test_f2_payment_failed_after_succeeded_never_unpays(self, fake, card_order, post):
        session_id = start_checkout(card_order)
        failed = fake.event("payment_intent.payment_failed", fake.decline(session_id)["id"])
        succeeded = fake.event("payment_intent.succeeded", fake.pay(session_id)["id"])

        statuses = [post(succeeded).status_code, post(failed).status_code]

        payment = card_payment(card_order)
        print(
            f"F2 (failed after succeeded): statuses={statuses} order={state_of(card_order)} "
            f"payment={payment.status} transitions={paid_transitions(card_order)}"
        )
        assert statuses == [200, 200]
        assert state_of(card_order) == OrderState.PAID
        assert payment.status == Payment.Status.SUCCEEDED
        assert payment.failure_reason == ""
        assert paid_transitions(card_order) == 1
        assert not OrderEvent.objects.filter(order=card_order, reason__icontains="failed").exists()

    def test_f2_charge_refunded_before_succeeded(self, fake, card_order, post):
        session_id = start_checkout(card_order)
        intent = fake.pay(session_id)
        succeeded = fake.event("payment_intent.succeeded", intent["id"])
        charge = fake.refund_in_dashboard(intent["id"])
        refunded = fake.event("charge.refunded", charge["id"])

        statuses = [post(refunded).status_code, post(succeeded).status_code]

        payment = card_payment(card_order)
        fetched = fake.intents[intent["id"]]["status"]
        print(
            f"F2 (refunded before succeeded): statuses={statuses} fetched intent={fetched} "
            f"order={state_of(card_order)} payment={payment.status} "
            f"transitions={paid_transitions(card_order)}"
        )
        assert statuses == [200, 200]
        # Stripe's PaymentIntent says succeeded: the order is paid, once, and finance is told
        # about the refund made outside the shop.
        assert state_of(card_order) == OrderState.PAID
        assert payment.status == Payment.Status.SUCCEEDED
        assert paid_transitions(card_order) == 1
        notes = OrderEvent.objects.filter(order=card_order, kind=OrderEvent.Kind.NOTE)
        assert [n.reason for n in notes if "Stripe reports" in n.reason]
        assert list(WebhookEvent.objects.values_list("result", flat=True).order_by("pk")) == [
            "paid",
            "already recorded",
        ]

    def test_a_failed_attempt_on_an_unpaid_order_is_noted(self, fake, card_order, post):
        intent = fake.decline(start_checkout(card_order), "Insufficient funds.")

        response = post(fake.event("payment_intent.payment_failed", intent["id"]))

        assert response.status_code == 200
        assert state_of(card_order) == OrderState.PENDING_PAYMENT
        payment = card_payment(card_order)
        assert payment.status == Payment.Status.PENDING
        assert "Insufficient funds." in payment.failure_reason

    def test_a_failed_event_for_an_intent_paid_since_pays_the_order(self, fake, card_order, post):
        session_id = start_checkout(card_order)
        failed = fake.event("payment_intent.payment_failed", fake.decline(session_id)["id"])
        fake.pay(session_id)

        response = post(failed)

        assert response.json()["result"] == "paid"
        assert state_of(card_order) == OrderState.PAID


class TestOtherEvents:
    def test_an_unknown_type_is_recorded_and_answered(self, fake, card_order, post):
        session_id = start_checkout(card_order)
        event = fake.event("checkout.session.expired", session_id)

        response = post(event)

        assert response.status_code == 200
        assert response.json()["result"] == "ignored"
        record = WebhookEvent.objects.get()
        assert (record.event_id, record.type) == (event["id"], "checkout.session.expired")
        assert state_of(card_order) == OrderState.PENDING_PAYMENT

    def test_an_intent_of_no_order_of_ours(self, fake, card_order, post):
        session_id = start_checkout(card_order)
        intent = fake.pay(session_id)
        fake.intents[intent["id"]]["metadata"] = {}
        Payment.objects.filter(order=card_order).update(provider_id="")
        event = fake.event("payment_intent.succeeded", intent["id"])
        event["data"]["object"]["metadata"] = {}

        response = post(event)

        assert response.status_code == 200
        assert response.json()["result"] == "no order"
        assert state_of(card_order) == OrderState.PENDING_PAYMENT

    def test_an_intent_stripe_does_not_know_is_recorded_once(self, fake, card_order, post):
        intent = fake.pay(start_checkout(card_order))
        event = fake.event("payment_intent.succeeded", intent["id"])
        event["data"]["object"]["id"] = "pi_test_other_account"

        statuses = [post(event).status_code for _ in range(2)]

        assert statuses == [200, 200]
        assert WebhookEvent.objects.get().result == "no payment intent"
        assert state_of(card_order) == OrderState.PENDING_PAYMENT
        assert intent_fetches(fake) == 1

    def test_stripe_unreachable_writes_nothing_and_asks_for_a_retry(self, fake, card_order, post):
        intent = fake.pay(start_checkout(card_order))
        event = fake.event("payment_intent.succeeded", intent["id"])
        fake.unreachable = True
        before = rows()

        response = post(event)

        assert response.status_code == 503
        assert rows() == before
        fake.unreachable = False
        assert post(event).status_code == 200
        assert state_of(card_order) == OrderState.PAID

    def test_only_post(self, client):
        assert client.get(WEBHOOK).status_code == 405

    def test_needs_no_csrf_token_only_a_signature(self, fake, card_order, settings):
        from django.test import Client

        intent = fake.pay(start_checkout(card_order))
        strict = Client(enforce_csrf_checks=True)

        response = deliver(strict, fake.event("payment_intent.succeeded", intent["id"]))

        assert response.status_code == 200


class TestSignatures:
    """F3: anything not signed by Stripe with our secret, recently, over these exact bytes."""

    def test_f3_bad_signatures_are_refused_and_change_nothing(
        self, fake, card_order, client, settings
    ):
        assert isinstance(settings.STRIPE_WEBHOOK_TOLERANCE, int)
        assert settings.STRIPE_WEBHOOK_TOLERANCE > 0
        intent = fake.pay(start_checkout(card_order))
        event = fake.event("payment_intent.succeeded", intent["id"])
        body, header = signed(event)
        tampered = body.replace(f'"amount": {intent["amount"]}', f'"amount": {intent["amount"]}1')
        assert tampered != body and len(tampered) == len(body) + 1
        one_byte = body.replace('"pending_webhooks": 1', '"pending_webhooks": 2', 1)
        assert len(one_byte) == len(body) and one_byte != body
        old_body, old_header = signed(event, timestamp=int(time.time()) - 301)
        wrong_body, wrong_header = signed(event, secret="whsec_someone_else")
        garbage = "not json"
        garbage_header = WebhookSignature.generate_signature_header(garbage, WEBHOOK_SECRET)

        def send(data, signature=None):
            extra = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
            return client.post(WEBHOOK, data=data, content_type="application/json", **extra)

        cases = {
            "missing header": lambda: send(body),
            "empty header": lambda: send(body, ""),
            "malformed header": lambda: send(body, "t=abc,v1=0"),
            "wrong secret": lambda: send(wrong_body, wrong_header),
            "one changed byte": lambda: send(one_byte, header),
            "amount changed": lambda: send(tampered, header),
            "older than 300 s": lambda: send(old_body, old_header),
            "re-serialised JSON": lambda: send(json.dumps(json.loads(body), indent=2), header),
            "other body, its signature": lambda: send(garbage, header),
            "signed, not JSON": lambda: send(garbage, garbage_header),
        }
        before, asked_before = rows(), intent_fetches(fake)
        statuses = {name: case().status_code for name, case in cases.items()}
        changed = rows() != before
        print(f"F3: statuses={statuses} rows changed={int(changed)}")
        assert set(statuses.values()) == {400}
        assert not changed
        assert intent_fetches(fake) == asked_before

        valid = send(body, header)
        print(f"F3: valid signature → {valid.status_code}")
        assert valid.status_code == 200
        assert state_of(card_order) == OrderState.PAID

    def test_a_signed_body_that_is_not_an_event(self, fake, client):
        body = json.dumps({"hello": "world"})
        header = WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
        response = client.post(
            WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
        assert response.status_code == 400
        assert WebhookEvent.objects.count() == 0

    def test_without_a_configured_secret_nothing_is_accepted(
        self, fake, card_order, settings, post
    ):
        intent = fake.pay(start_checkout(card_order))
        settings.STRIPE_WEBHOOK_SECRET = ""

        response = post(fake.event("payment_intent.succeeded", intent["id"]))

        assert response.status_code == 400
        assert state_of(card_order) == OrderState.PENDING_PAYMENT
