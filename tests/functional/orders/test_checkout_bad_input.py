"""Bad input at checkout (RELIABILITY.md): B1 quantities, B2 tampered money, B3 foreign ids,
B8 script in an address. Each case reports its figure and leaves nothing changed."""

import re
import uuid
from decimal import Decimal

import pytest
from django.test import Client

from members.models import Address
from orders import selectors
from orders.checkout import checkout_quote
from orders.models import CartLine, Order
from tests.factories import AddressFactory, DistributorFactory, ProductFactory

from .test_checkout_pages import (
    DELIVERY,
    REVIEW,
    cart_state,
    choose_delivery,
    fill_cart,
    hidden_fields,
    messages_of,
    page_text,
    ready_to_review,
    review_form,
    shipping_to_europe,
)

pytestmark = pytest.mark.django_db


def server_quote(member, data):
    """What the server makes of the member's cart now, for the method and box posted."""
    address = Address.objects.get(pk=data["address_id"])
    return checkout_quote(
        cart=selectors.cart_view(member=member),
        country=address.country.code,
        method_code=data["shipping_method"],
        insured="insured" in data,
        dropship=data.get("dropship") == "1",
    )


class TestQuantities:
    """B1: a bad quantity in the cart is refused where it is typed; a cart that breaks a rule
    is sent back from checkout with the reason, and no order is placed."""

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            ("-1", "cannot be negative"),
            ("0", "at least 1"),
            ("0.5", "whole number"),
            ("1e3", "whole number"),
            (str(10**12), "At most 100,000"),
            ("abc", "whole number"),
            ("101", "Only 100 of"),
        ],
    )
    def test_a_line_changed_to_a_bad_quantity_is_refused(self, buyer_client, buyer, value, reason):
        ready_to_review(buyer_client, buyer)
        line = CartLine.objects.filter(cart__member=buyer).order_by("pk").first()
        response = buyer_client.post(
            f"/cart/lines/{line.pk}/", {"action": "update", "quantity": value}
        )
        print(f"B1: cart line set to {value!r}: {response.status_code}, {reason!r}")
        assert response.status_code == 400
        assert reason in page_text(response)
        assert sorted(cart_state(buyer).values()) == [30, 30]
        # The checkout goes on with the cart as it was.
        html = page_text(buyer_client.get(REVIEW))
        assert 'data-testid="total-goods">$198.00<' in html

    @pytest.mark.parametrize(
        ("product_options", "sizes", "reason"),
        [
            ({"moq": 100}, {"S": 40, "M": 40}, "add 20 more"),
            ({"order_increment": 12}, {"S": 30, "M": 31}, "packs of 12"),
            ({}, {"S": 5, "M": 5}, "add $62.00 more to check out"),
        ],
        ids=["below the MOQ", "not a whole pack", "below the minimum amount"],
    )
    def test_checkout_of_a_cart_breaking_a_rule_goes_back_to_the_cart(
        self, buyer_client, buyer, product_options, sizes, reason
    ):
        shipping_to_europe()
        fill_cart(buyer, ProductFactory(**product_options), **sizes)
        address = AddressFactory(member=buyer, is_default=True)
        place = {
            "action": "place",
            "address_id": address.pk,
            "checkout_key": str(uuid.uuid4()),
            "shipping_method": "express",
            "payment_method": "bank_transfer",
            "insured": "1",
        }
        for method, url, data in (
            ("get", DELIVERY, None),
            ("post", DELIVERY, {"address": address.pk}),
            ("get", REVIEW, None),
            ("post", REVIEW, place),
        ):
            response = getattr(buyer_client, method)(url, data, follow=True)
            print(f"B1: {method.upper()} {url} with a cart {reason!r}: back to the cart")
            assert response.redirect_chain[0] == ("/cart/", 302)
            assert reason in page_text(response)
        assert not Order.objects.exists()
        assert "checkout" not in buyer_client.session

    def test_a_cart_changed_to_below_the_moq_while_on_step_two_is_not_placed(
        self, buyer_client, buyer
    ):
        shipping_to_europe()
        product = ProductFactory(moq=50)
        fill_cart(buyer, product)
        choose_delivery(buyer_client, AddressFactory(member=buyer, is_default=True))
        data = review_form(buyer_client)
        line = CartLine.objects.filter(cart__member=buyer).order_by("pk").first()
        buyer_client.post(f"/cart/lines/{line.pk}/", {"action": "update", "quantity": "10"})
        response = buyer_client.post(REVIEW, data, follow=True)
        assert response.redirect_chain[0] == ("/cart/", 302)
        assert "add 10 more" in page_text(response)
        assert not Order.objects.exists()

    def test_quantities_posted_to_checkout_are_ignored(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        lines = CartLine.objects.filter(cart__member=buyer)
        extra = {f"qty_{line.variant_id}": "1" for line in lines}
        extra.update({"quantity": "1", f"quantity_{lines[0].pk}": "100000"})
        buyer_client.post(REVIEW, review_form(buyer_client, **extra))
        order = Order.objects.get()
        assert sorted(order.lines.values_list("quantity", flat=True)) == [30, 30]


class TestTamperedMoney:
    """B2: money fields posted by a browser are ignored; the order is priced by the server."""

    TAMPERED = {
        "price": "0.01",
        "unit_price": "0.01",
        "total": "0.01",
        "grand_total": "0.01",
        "goods_total": "0.01",
        "tier": "1000",
        "currency": "JPY",
        "shipping_fee": "0",
        "shipping_total": "0",
        "insurance": "0",
        "fee": "0",
        "discount": "500",
        "discount_total": "500",
        "rate": "0.0001",
        "exchange_rate": "0.0001",
    }

    def test_posted_prices_totals_tiers_currency_and_rate_change_nothing(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        data = review_form(buyer_client, **self.TAMPERED)
        for line in CartLine.objects.filter(cart__member=buyer):
            data[f"unit_price_{line.pk}"] = "0.01"
        expected = server_quote(buyer, data).totals
        response = buyer_client.post(REVIEW, data)
        order = Order.objects.get()
        print(f"B2: server={order.grand_total} posted={data['total']}")
        assert response.url == order.get_absolute_url()
        assert order.grand_total == expected.grand_total.amount == Decimal("254.97")
        assert order.goods_total == Decimal("198.00")
        assert order.discount_total == Decimal("0.00")
        assert order.shipping_total == Decimal("54.00")
        assert (order.currency, order.exchange_rate) == ("USD", Decimal(1))
        assert set(order.lines.values_list("unit_price", "tier_min_quantity")) == {
            (Decimal("3.30"), 50)
        }

    def test_a_stale_total_is_not_charged(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        stale = review_form(buyer_client, total="254.97", grand_total="254.97")
        line = CartLine.objects.filter(cart__member=buyer).order_by("pk").first()
        buyer_client.post(f"/cart/lines/{line.pk}/", {"action": "update", "quantity": "60"})
        response = buyer_client.post(REVIEW, stale)
        # The page shows the new total before anything is placed ...
        assert response.status_code == 200
        assert "Your cart changed since this page was shown" in messages_of(response)
        assert not Order.objects.exists()
        fresh = {**hidden_fields(page_text(response)), "total": "254.97"}
        fresh.update(shipping_method="economy", payment_method="bank_transfer", insured="1")
        fresh.update(action="place")
        fresh.pop("csrfmiddlewaretoken", None)
        expected = server_quote(buyer, fresh).totals.grand_total.amount
        buyer_client.post(REVIEW, fresh)
        # ... and the order is priced on the cart as it is: 90 × 3.30 = 297.00 of goods.
        order = Order.objects.get()
        print(f"B2: server={order.grand_total} posted={stale['total']} (stale cart total)")
        assert order.grand_total == expected
        assert order.goods_total == Decimal("297.00")
        assert order.grand_total != Decimal(stale["total"])

    def test_dropship_fee_is_the_servers(self, buyer_client, buyer):
        shipping_to_europe()
        fill_cart(buyer)
        customer = AddressFactory(member=buyer, is_end_customer=True)
        choose_delivery(buyer_client, customer, dropship=True)
        data = review_form(buyer_client, fee="0", dropship_fee="0", fee_total="0")
        buyer_client.post(REVIEW, data)
        order = Order.objects.get()
        print(f"B2: server fee={order.fee_total} posted={data['fee']}")
        assert order.is_dropship and order.fee_total == Decimal("3.00")

    def test_dropship_cannot_be_unticked_on_step_two_to_skip_the_fee(self, buyer_client, buyer):
        shipping_to_europe()
        fill_cart(buyer)
        own = AddressFactory(member=buyer, is_default=True)
        customer = AddressFactory(member=buyer, is_end_customer=True)
        choose_delivery(buyer_client, customer, dropship=True)
        for address, dropship in ((customer, "0"), (own, "1")):
            data = review_form(buyer_client, dropship=dropship, address_id=str(address.pk))
            response = buyer_client.post(REVIEW, data)
            assert response.status_code == 302 and response.url == DELIVERY
        assert not Order.objects.exists()
        assert sorted(cart_state(buyer).values()) == [30, 30]


class TestForeignIds:
    """B3: another member's address, or one that does not exist, is a 404 that changes
    nothing; an unknown shipping or payment method is a message on the page."""

    @pytest.fixture
    def theirs(self):
        return AddressFactory(member=DistributorFactory().user, name="Someone Else")

    def test_another_members_address_on_step_one(self, buyer_client, buyer, theirs):
        fill_cart(buyer)
        own = AddressFactory(member=buyer, is_default=True)
        choose_delivery(buyer_client, own)
        before = Address.objects.count()
        for dropship in ("", "1"):
            response = buyer_client.post(DELIVERY, {"address": theirs.pk, "dropship": dropship})
            print(f"B3: another member's address on step 1: {response.status_code}")
            assert response.status_code == 404
        assert Address.objects.count() == before
        assert buyer_client.session["checkout"]["address_id"] == own.pk

    @pytest.mark.parametrize("address_id", ["theirs", "999999999", str(10**20), "abc", "", "-1"])
    def test_another_members_or_no_address_on_step_two(
        self, buyer_client, buyer, theirs, address_id
    ):
        ready_to_review(buyer_client, buyer)
        data = review_form(buyer_client)
        data["address_id"] = str(theirs.pk) if address_id == "theirs" else address_id
        response = buyer_client.post(REVIEW, data)
        print(f"B3: address_id={address_id!r} on step 2: {response.status_code}")
        assert response.status_code == 404
        assert not Order.objects.exists()
        assert sorted(cart_state(buyer).values()) == [30, 30]
        assert "Someone Else" not in page_text(response)

    def test_a_malformed_address_on_step_one_is_a_form_error(self, buyer_client, buyer):
        fill_cart(buyer)
        for value in ("abc", "1; DROP TABLE", "9" * 40):
            response = buyer_client.post(DELIVERY, {"address": value})
            assert response.status_code == 400
            assert "Choose one of your addresses, or a new one." in page_text(response)
            # The new address form was not chosen: its empty fields are not flagged.
            assert "This field is required." not in page_text(response)

    @pytest.mark.parametrize("action", ["place", "refresh"])
    def test_a_shipping_method_that_does_not_exist(self, buyer_client, buyer, action):
        ready_to_review(buyer_client, buyer)
        data = review_form(buyer_client, shipping_method="teleport", action=action)
        data["quoted_method"] = "teleport"
        response = buyer_client.post(REVIEW, data)
        print(f"B3: shipping_method='teleport' ({action}): {response.status_code}")
        assert response.status_code == 400
        assert "Choose one of the shipping methods offered." in page_text(response)
        assert not Order.objects.exists()
        # The page prices the cheapest method again rather than nothing.
        assert 'data-testid="grand-total">$254.97<' in page_text(response)

    def test_a_method_that_does_not_serve_the_country(self, buyer_client, buyer):
        from tests.factories import ShippingMethodFactory, ShippingRateFactory, ShippingZoneFactory

        ready_to_review(buyer_client, buyer)
        ShippingRateFactory(
            zone=ShippingZoneFactory(countries=["JP"]),
            method=ShippingMethodFactory(name="Sea freight", code="sea"),
        )
        data = review_form(buyer_client, shipping_method="sea", quoted_method="sea")
        response = buyer_client.post(REVIEW, data)
        assert response.status_code == 400
        assert "Choose one of the shipping methods offered." in page_text(response)
        assert not Order.objects.exists()

    @pytest.mark.parametrize("method", ["card", "bitcoin", ""])
    def test_a_payment_method_not_offered(self, buyer_client, buyer, settings, method):
        settings.STRIPE_SECRET_KEY = ""
        ready_to_review(buyer_client, buyer)
        response = buyer_client.post(REVIEW, review_form(buyer_client, payment_method=method))
        print(f"B3: payment_method={method!r}: {response.status_code}")
        assert response.status_code == 400
        assert not Order.objects.exists()
        assert re.search(
            r"Choose one of the payment methods offered|This field is required", page_text(response)
        )

    def test_a_checkout_key_tampered_with(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        for key in ("", "not-a-uuid", "' OR 1=1 --"):
            response = buyer_client.post(REVIEW, review_form(buyer_client, checkout_key=key))
            assert response.status_code == 400
            assert "This page is out of date" in page_text(response)
        assert not Order.objects.exists()

    def test_another_members_checkout_key_places_a_new_order(self, buyer_client, buyer):
        other = DistributorFactory().user
        other_client = Client()
        other_client.force_login(other)
        ready_to_review(other_client, other)
        their_data = review_form(other_client)
        other_client.post(REVIEW, their_data)
        theirs = Order.objects.get(member=other)
        fill_cart(buyer)
        choose_delivery(buyer_client, AddressFactory(member=buyer, is_default=True))
        data = review_form(buyer_client, checkout_key=their_data["checkout_key"])
        response = buyer_client.post(REVIEW, data)
        mine = Order.objects.get(member=buyer)
        assert response.url == mine.get_absolute_url() != theirs.get_absolute_url()


class TestScriptsInAddresses:
    """B8: an address typed with markup is shown as text on both steps."""

    def test_are_escaped(self, buyer_client, buyer):
        payload = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
        ready_to_review(buyer_client, buyer, name=payload, line2=payload)
        for url in (DELIVERY, REVIEW):
            html = page_text(buyer_client.get(url))
            assert "<script>alert(1)" not in html
            assert "<img src=x" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
