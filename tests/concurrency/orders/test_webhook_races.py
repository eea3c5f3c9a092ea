"""Card payments racing on PostgreSQL, Stripe faked at the HTTP layer: one webhook delivered
5 times at once (RELIABILITY F1), the return from Checkout against the webhook (F4), and
"Pay now" hit 10 times at once (the PaymentIntent half of L3). One connection per thread, all
released together by a Barrier.

Run with -s to see the figures each test reports.
"""

import threading
from collections import Counter
from functools import partial

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from orders.models import Order, OrderEvent, OrderState, Payment, PaymentMethod, WebhookEvent
from tests.factories import ProductFactory, place_order
from tests.stripe_fakes import deliver, fake_stripe, start_checkout

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def run_together(work: list) -> list:
    """Call each of `work` in its own thread, all released at once; their results (or errors)
    in the same order."""
    barrier = threading.Barrier(len(work))
    results: list = [None] * len(work)

    def thread(index):
        try:
            barrier.wait(timeout=30)
            results[index] = work[index]()
        except Exception as error:  # collected and asserted by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return results


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


def logged_in(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def figures(order, mailoutbox) -> dict:
    return {
        "orders": Order.objects.filter(member=order.member).count(),
        "payments": Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).count(),
        "transitions": OrderEvent.objects.filter(
            order=order, kind=OrderEvent.Kind.TRANSITION, to_state=OrderState.PAID
        ).count(),
        "emails": len([m for m in mailoutbox if m.to == [order.email]]),
    }


def test_f1_the_same_event_five_times_at_once(fake, card_order, mailoutbox):
    intent = fake.pay(start_checkout(card_order))
    event = fake.event("payment_intent.succeeded", intent["id"])

    results = run_together([partial(deliver, Client(), event) for _ in range(5)])

    statuses = [getattr(r, "status_code", repr(r)) for r in results]
    found = figures(card_order, mailoutbox)
    outcomes = Counter(r.json()["result"] for r in results if getattr(r, "status_code", 0) == 200)
    print(f"F1 (5 at once): statuses={statuses} results={dict(outcomes)} {found}")
    assert statuses == [200] * 5
    assert outcomes == {"paid": 1, "duplicate": 4}
    assert (found["payments"], found["transitions"], found["emails"]) == (1, 1, 1)
    assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1
    assert not [r for r in fake.requests if r.in_our_transaction]


@pytest.mark.parametrize("rounds", [5])
def test_f4_return_from_checkout_and_webhooks_at_once(fake, buyer, mailoutbox, rounds):
    """The buyer lands on the return page while both of Stripe's events arrive, each twice."""
    product = ProductFactory()
    s, m = product.variants.order_by("position")
    client = logged_in(buyer)
    for _round in range(rounds):
        order = place_order(buyer, {s: 15, m: 15}, payment_method=PaymentMethod.CARD)
        session_id = start_checkout(order)
        intent = fake.pay(session_id)
        completed = fake.event("checkout.session.completed", session_id)
        succeeded = fake.event("payment_intent.succeeded", intent["id"])
        back = reverse("payments:card_return", args=[order.number])
        mailoutbox.clear()

        results = run_together(
            [
                partial(client.get, back, {"session_id": session_id}),
                partial(logged_in(buyer).get, back, {"session_id": session_id}),
                partial(deliver, Client(), completed),
                partial(deliver, Client(), completed),
                partial(deliver, Client(), succeeded),
                partial(deliver, Client(), succeeded),
            ]
        )

        statuses = [getattr(r, "status_code", repr(r)) for r in results]
        found = figures(order, mailoutbox)
        captures = len(
            [
                i
                for i in fake.intents.values()
                if i["status"] == "succeeded" and i["metadata"]["order_id"] == str(order.pk)
            ]
        )
        orders_for_session = Payment.objects.filter(provider_id=session_id).count()
        print(
            f"F4 round {_round + 1}: statuses={statuses} orders per session={orders_for_session} "
            f"payments={found['payments']} captures={captures} "
            f"transitions={found['transitions']} emails={found['emails']}"
        )
        assert statuses == [302, 302, 200, 200, 200, 200]
        assert orders_for_session == 1
        assert (found["payments"], captures, found["transitions"], found["emails"]) == (1, 1, 1, 1)
        payment = Payment.objects.get(order=order, method=PaymentMethod.CARD)
        assert (payment.provider_id, payment.intent_id) == (session_id, intent["id"])
    assert not [r for r in fake.requests if r.in_our_transaction]


def test_l3_pay_now_ten_times_at_once_makes_at_most_one_session(fake, buyer, card_order):
    fake.latency = 0.05  # Stripe takes a moment: the requests overlap there too
    url = reverse("payments:card_start", args=[card_order.number])
    clients = [logged_in(buyer) for _ in range(10)]

    results = run_together([partial(c.get, url) for c in clients])

    statuses = Counter(getattr(r, "status_code", repr(r)) for r in results)
    locations = {r["Location"] for r in results if getattr(r, "status_code", 0) == 303}
    creates = fake.posts("/checkout/sessions")
    sessions = fake.sessions_for(card_order)
    answers = Counter(r.status for r in creates)
    print(
        f"L3 (payment): card_start requests=10 statuses={dict(statuses)} "
        f"session creates sent={len(creates)} Stripe answers={dict(answers)} "
        f"Idempotency-Key values={sorted({r.idempotency_key for r in creates})} "
        f"sessions (PaymentIntents) per order={len(sessions)}"
    )
    assert statuses == {303: 10}
    assert len(sessions) <= 1
    assert len(locations) == 1
    assert {r.idempotency_key for r in creates} == {f"order-{card_order.number}-card"}
    assert (
        Payment.objects.get(order=card_order, method=PaymentMethod.CARD).provider_id
        == (sessions[0]["id"])
    )
    assert not [r for r in fake.requests if r.in_our_transaction]
