"""A buyer pays an order by card in Chromium: checkout, off to Stripe's hosted page, back to the
order, which Stripe's signed webhook has marked paid.

Stripe is the fake of tests/stripe_fakes.py, at the HTTP layer of the live server. Its hosted
page (https://checkout.stripe.test/...) is answered inside the browser by a Playwright route:
"Pay" there makes the PaymentIntent succeed at the fake, delivers the signed
payment_intent.succeeded event to the live server's webhook, and sends the browser to the
session's success URL, as Stripe does.
"""

import html
import json
import os
import re
import urllib.request

import pytest
from django.urls import reverse

from orders.models import Order, OrderEvent, OrderState, Payment, PaymentMethod, WebhookEvent
from orders.services import cart_add_lines
from tests.factories import (
    PASSWORD,
    AddressFactory,
    DistributorFactory,
    ProductFactory,
    ShippingRateFactory,
)
from tests.stripe_fakes import fake_stripe, signed

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STRIPE_PAGE = re.compile(r"https://checkout\.stripe\.test/c/pay/(?P<session>cs_\w+)(?P<pay>/pay)?")


def hosted_page(session: dict) -> str:
    amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
    return (
        "<!doctype html><html><head><meta name='viewport' content='width=device-width'>"
        "<title>Stripe Checkout (fake)</title></head><body>"
        f"<h1>Pay {html.escape(amount)}</h1>"
        f"<form method='post' action='/c/pay/{session['id']}/pay'>"
        "<button type='submit'>Pay</button></form>"
        f"<a href='{html.escape(session['cancel_url'])}'>Back</a></body></html>"
    )


def post_webhook(url: str, event: dict) -> dict:
    body, header = signed(event)
    request = urllib.request.Request(  # noqa: S310 (the live server, http)
        url,
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
        return {"status": response.status, **json.loads(response.read())}


def test_a_buyer_pays_by_card_and_sees_the_order_paid(live_server, phone, settings):
    ShippingRateFactory()
    product = ProductFactory(name="Organic Cotton Tee", slug="tee", variants=["S", "M"])
    s, m = product.variants.order_by("position")
    buyer = DistributorFactory(user__email="buyer1@demo.test").user
    AddressFactory(member=buyer, is_default=True)
    cart_add_lines(member=buyer, product_slug="tee", quantities={s.pk: 30, m.pk: 30})
    webhook_url = live_server.url + reverse("payments:stripe_webhook")
    deliveries = []

    with fake_stripe(settings) as fake:

        def stripe_page(route):
            match = STRIPE_PAGE.fullmatch(route.request.url)
            if match is None:
                route.fulfill(status=404, body="Not found")
                return
            session = fake.sessions[match["session"]]
            if not match["pay"]:
                route.fulfill(status=200, content_type="text/html", body=hosted_page(session))
                return
            intent = fake.pay(session["id"])
            deliveries.append(
                post_webhook(webhook_url, fake.event("payment_intent.succeeded", intent["id"]))
            )
            back = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
            route.fulfill(status=303, headers={"Location": back}, body="")

        phone.route("https://checkout.stripe.test/**", stripe_page)

        phone.goto(live_server.url + "/accounts/login/?next=/checkout/")
        phone.get_by_label("Email").fill(buyer.email)
        phone.get_by_label("Password").fill(PASSWORD)
        phone.get_by_role("button", name="Log in", exact=True).click()
        phone.wait_for_url("**/checkout/")
        phone.get_by_role("button", name="Continue to shipping and payment").click()
        phone.wait_for_url("**/checkout/review/")
        phone.get_by_role("radio", name="Card (Stripe)").check()
        phone.get_by_test_id("place-order").click()

        phone.wait_for_url(STRIPE_PAGE)
        order = Order.objects.get(member=buyer)
        assert order.payment_method == PaymentMethod.CARD
        assert order.state == OrderState.PENDING_PAYMENT
        (session,) = fake.sessions_for(order)
        assert session["amount_total"] == int(order.grand_total * 100)
        assert phone.get_by_role("heading", name=re.compile(r"Pay \d+\.\d\d USD")).is_visible()

        phone.get_by_role("button", name="Pay").click()
        phone.wait_for_url(f"**{order.get_absolute_url()}")

        assert deliveries == [{"status": 200, "received": True, "result": "paid"}]
        assert phone.get_by_text("Thank you: your card payment was received.").is_visible()
        assert phone.get_by_test_id("order-state").inner_text() == "Paid"
        assert phone.get_by_test_id("payment-state").inner_text() == "Paid"
        assert phone.get_by_test_id("pay-now").count() == 0
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375
        if os.environ.get("WHOLESALE_E2E_SCREENSHOTS"):
            phone.screenshot(path=os.environ["WHOLESALE_E2E_SCREENSHOTS"], full_page=True)

    order.refresh_from_db()
    assert order.state == OrderState.PAID
    payment = Payment.objects.get(order=order, method=PaymentMethod.CARD)
    assert (payment.status, payment.provider_id) == (Payment.Status.SUCCEEDED, session["id"])
    assert WebhookEvent.objects.get().result == "paid"
    assert (
        OrderEvent.objects.filter(
            order=order, kind=OrderEvent.Kind.TRANSITION, to_state=OrderState.PAID
        ).count()
        == 1
    )
