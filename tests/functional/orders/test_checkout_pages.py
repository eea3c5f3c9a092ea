"""The checkout pages over HTTP: delivery (step 1), shipping and payment (step 2), placing.

Figures used below (tests/factories.py): 30 + 30 units of one product reach the 50+ tier at
3.30, goods 198.00; 60 × 200 g = 12 kg by express, 20.00 + 23 × 5.00 = 135.00; insurance
1.5 % of the goods, 2.97; the dropship fee 3.00.
"""

import re
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from members.models import Address, Distributor
from orders import selectors, services
from orders.checkout import checkout_quote
from orders.models import CartLine, Order, OrderState
from tests.factories import (
    AddressFactory,
    DistributorFactory,
    ProductFactory,
    ShippingMethodFactory,
    ShippingRateFactory,
    ShippingZoneFactory,
)

pytestmark = pytest.mark.django_db

DELIVERY = "/checkout/"
REVIEW = "/checkout/review/"


# --- helpers shared with test_checkout_bad_input.py -------------------------------------------


def shipping_to_europe():
    """Express (20.00 + 5.00 per 500 g, 5–9 days) and economy (8.00 + 2.00, 15–30 days)."""
    zone = ShippingZoneFactory()
    express = ShippingRateFactory(zone=zone)
    economy = ShippingRateFactory(
        zone=zone,
        method=ShippingMethodFactory(name="Economy post", code="economy"),
        first_price=Decimal("8.00"),
        additional_price=Decimal("2.00"),
        min_days=15,
        max_days=30,
    )
    return express, economy


def fill_cart(member, product=None, **sizes):
    """Put units of `product` (a new one by default) in the member's cart: S=30, M=30."""
    product = product or ProductFactory()
    by_size = {v.option1: v for v in product.variants.all()}
    wanted = {by_size[size].pk: units for size, units in (sizes or {"S": 30, "M": 30}).items()}
    services.cart_add_lines(member=member, product_slug=product.slug, quantities=wanted)
    return product


def choose_delivery(client, address, *, dropship=False):
    data = {"address": str(address.pk)}
    if dropship:
        data["dropship"] = "1"
    response = client.post(DELIVERY, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response.url == REVIEW
    return response


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def checked(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)" checked', html)


def review_form(client, **choices) -> dict[str, str]:
    """What a browser posts from the review page as shown, with the defaults it shows ticked."""
    response = client.get(REVIEW)
    assert response.status_code == 200, response.content.decode()[:2000]
    html = response.content.decode()
    data = hidden_fields(html)
    data.pop("csrfmiddlewaretoken", None)
    data["shipping_method"] = checked(html, "shipping_method")[0]
    data["payment_method"] = checked(html, "payment_method")[0]
    if checked(html, "insured"):
        data["insured"] = "1"
    data.update({"action": "place", **choices})
    return data


def ready_to_review(client, member, **address_fields):
    """Shipping, a cart of 30 + 30 and a chosen own address: the buyer is on step 2."""
    shipping_to_europe()
    fill_cart(member)
    address = AddressFactory(member=member, is_default=True, **address_fields)
    choose_delivery(client, address)
    return address


def page_text(response) -> str:
    return response.content.decode()


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def cart_state(member) -> dict[str, int]:
    return dict(
        CartLine.objects.filter(cart__member=member).values_list("variant__sku", "quantity")
    )


# --- step 1 -----------------------------------------------------------------------------------


class TestWhoMayCheckOut:
    def test_a_guest_is_sent_to_log_in(self, client):
        for url in (DELIVERY, REVIEW):
            response = client.get(url)
            assert response.status_code == 302
            assert response.url.startswith("/accounts/login/")

    def test_a_member_waiting_for_approval_goes_back_to_the_cart(self, client):
        member = DistributorFactory(status=Distributor.Status.PENDING).user
        client.force_login(member)
        for url in (DELIVERY, REVIEW):
            response = client.get(url, follow=True)
            assert response.redirect_chain[-1][0] == "/cart/"
            assert "Checkout is open to approved trade accounts only." in page_text(response)
            assert "waiting for approval" in page_text(response)

    def test_a_login_without_a_trade_account_cannot_check_out(self, client):
        from tests.factories import UserFactory

        client.force_login(UserFactory())
        response = client.post(REVIEW, {"action": "place"})
        assert response.status_code == 302 and response.url == "/cart/"
        assert not Order.objects.exists()

    def test_an_empty_cart_goes_back_to_the_cart(self, buyer_client):
        response = buyer_client.get(DELIVERY, follow=True)
        assert response.redirect_chain[-1][0] == "/cart/"
        assert "Your cart is empty: add some products first." in page_text(response)

    def test_a_cart_below_the_minimum_goes_back_with_the_reason(self, buyer_client, buyer):
        shipping_to_europe()
        fill_cart(buyer, S=10)  # 10 × 3.80 = 38.00
        for url in (DELIVERY, REVIEW):
            response = buyer_client.get(url, follow=True)
            assert response.redirect_chain[-1][0] == "/cart/"
            text = page_text(response)
            assert "Your cart is not ready for checkout yet" in text
            assert "add $62.00 more to check out" in text

    def test_a_cart_below_the_moq_goes_back_with_the_reason(self, buyer_client, buyer):
        product = ProductFactory(moq=100)
        fill_cart(buyer, product, S=40, M=40)
        response = buyer_client.get(DELIVERY, follow=True)
        assert response.redirect_chain[-1][0] == "/cart/"
        assert "add 20 more" in page_text(response)


class TestChoosingWhereToDeliver:
    def test_offers_the_address_book_with_the_default_ticked(self, buyer_client, buyer):
        fill_cart(buyer)
        default = AddressFactory(member=buyer, is_default=True, city="Madrid")
        other = AddressFactory(member=buyer, city="Sevilla")
        customer = AddressFactory(member=buyer, city="Lyon", country="FR", is_end_customer=True)
        html = page_text(buyer_client.get(DELIVERY))
        assert checked(html, "address") == [str(default.pk)]
        for address in (default, other, customer):
            assert f'value="{address.pk}"' in html
        assert "Dropship fee: $3.00." in html
        assert "no prices and no shop name or logo inside" in html

    def test_the_previous_choice_is_ticked_again(self, buyer_client, buyer):
        fill_cart(buyer)
        AddressFactory(member=buyer, is_default=True)
        other = AddressFactory(member=buyer, city="Sevilla")
        choose_delivery(buyer_client, other)
        assert checked(page_text(buyer_client.get(DELIVERY)), "address") == [str(other.pk)]

    def test_without_an_address_the_new_address_form_is_ticked(self, buyer_client, buyer):
        fill_cart(buyer)
        html = page_text(buyer_client.get(DELIVERY))
        assert checked(html, "address") == ["new"]
        assert 'name="new-line1"' in html
        # The new address starts in the buyer's own country.
        assert '<option value="ES" selected>' in html

    def test_a_saved_address_is_kept_for_step_two(self, buyer_client, buyer):
        address = ready_to_review(buyer_client, buyer)
        assert buyer_client.session["checkout"] == {"address_id": address.pk, "dropship": False}
        html = page_text(buyer_client.get(REVIEW))
        assert "Calle Mayor 1" in html
        assert hidden_fields(html)["address_id"] == str(address.pk)

    def test_a_new_address_is_saved_to_the_book(self, buyer_client, buyer):
        fill_cart(buyer)
        data = {
            "address": "new",
            "new-name": "Marta Ruiz",
            "new-line1": "Gran Via 2",
            "new-city": "Bilbao",
            "new-postal_code": "48001",
            "new-country": "ES",
        }
        response = buyer_client.post(DELIVERY, data)
        assert response.status_code == 302 and response.url == REVIEW
        address = Address.objects.get(member=buyer)
        assert (address.name, address.city, address.is_end_customer) == (
            "Marta Ruiz",
            "Bilbao",
            False,
        )
        assert address.is_default  # the first own address of the book
        assert buyer_client.session["checkout"]["address_id"] == address.pk

    def test_a_new_dropship_address_is_saved_as_an_end_customer(self, buyer_client, buyer):
        fill_cart(buyer)
        AddressFactory(member=buyer, is_default=True)
        data = {
            "address": "new",
            "dropship": "1",
            "new-name": "Jean Client",
            "new-line1": "1 rue de la Paix",
            "new-city": "Paris",
            "new-country": "FR",
        }
        assert buyer_client.post(DELIVERY, data).status_code == 302
        customer = Address.objects.get(member=buyer, name="Jean Client")
        assert customer.is_end_customer and not customer.is_default
        assert buyer_client.session["checkout"] == {"address_id": customer.pk, "dropship": True}

    def test_an_incomplete_new_address_is_shown_again_with_its_errors(self, buyer_client, buyer):
        fill_cart(buyer)
        response = buyer_client.post(DELIVERY, {"address": "new", "new-name": "Marta"})
        assert response.status_code == 400
        assert "This field is required." in page_text(response)
        assert 'value="Marta"' in page_text(response)
        assert not Address.objects.exists()
        assert "checkout" not in buyer_client.session

    def test_a_dropship_order_goes_to_an_end_customer(self, buyer_client, buyer):
        fill_cart(buyer)
        own = AddressFactory(member=buyer, is_default=True)
        response = buyer_client.post(DELIVERY, {"address": own.pk, "dropship": "1"})
        assert response.status_code == 400
        assert "choose one of your end customers" in page_text(response)
        assert "checkout" not in buyer_client.session

    def test_an_end_customer_gets_no_parcel_with_prices(self, buyer_client, buyer):
        fill_cart(buyer)
        customer = AddressFactory(member=buyer, is_end_customer=True)
        response = buyer_client.post(DELIVERY, {"address": customer.pk})
        assert response.status_code == 400
        assert "tick “Dropship order”" in page_text(response)
        assert "checkout" not in buyer_client.session

    def test_step_two_without_a_choice_goes_to_step_one(self, buyer_client, buyer):
        fill_cart(buyer)
        response = buyer_client.get(REVIEW)
        assert response.status_code == 302 and response.url == DELIVERY

    def test_step_two_after_the_address_was_deleted_goes_to_step_one(self, buyer_client, buyer):
        address = ready_to_review(buyer_client, buyer)
        address.delete()
        response = buyer_client.get(REVIEW)
        assert response.status_code == 302 and response.url == DELIVERY


# --- step 2 -----------------------------------------------------------------------------------


class TestTheReviewPage:
    def test_offers_the_methods_for_the_country_cheapest_ticked(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        html = page_text(buyer_client.get(REVIEW))
        # Economy: 8.00 + 23 × 2.00 = 54.00, 15–30 days; express 135.00, 5–9 days.
        assert re.search(
            r"Economy post</span>\s*<span[^>]*>\$54\.00</span>\s*<span[^>]*>15–30 days", html
        )
        assert re.search(
            r"Express courier</span>\s*<span[^>]*>\$135\.00</span>\s*<span[^>]*>5–9 days", html
        )
        assert checked(html, "shipping_method") == ["economy"]

    def test_insurance_is_ticked_with_its_price(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        html = page_text(buyer_client.get(REVIEW))
        assert checked(html, "insured") == ["1"]
        assert "Insure the parcel against loss and damage: $2.97" in html

    def test_offers_the_payment_methods_of_the_settings(self, buyer_client, buyer, settings):
        settings.STRIPE_SECRET_KEY = ""
        ready_to_review(buyer_client, buyer)
        html = page_text(buyer_client.get(REVIEW))
        assert re.findall(r'name="payment_method" value="(\w+)"', html) == ["bank_transfer"]
        settings.STRIPE_SECRET_KEY = "sk_test_x"
        html = page_text(buyer_client.get(REVIEW))
        assert re.findall(r'name="payment_method" value="(\w+)"', html) == ["card", "bank_transfer"]
        assert checked(html, "payment_method") == ["card"]

    def test_shows_the_lines_with_their_tier_and_the_totals(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        html = page_text(buyer_client.get(REVIEW))
        assert "60 units: the 50+ price, $3.30 each." in html
        assert html.count('data-testid="checkout-line"') == 2
        assert "30 × $3.30" in html and "$99.00" in html
        totals = dict(re.findall(r'data-testid="total-(\w+)">([^<]+)<', html))
        assert totals == {
            "goods": "$198.00",
            "discount": "$0.00",
            "shipping": "$54.00",
            "insurance": "$2.97",
            "fee": "$0.00",
        }
        assert 'data-testid="grand-total">$254.97<' in html
        assert "Place order · $254.97" in html

    def test_renders_a_new_checkout_key_each_time(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        first = hidden_fields(page_text(buyer_client.get(REVIEW)))["checkout_key"]
        second = hidden_fields(page_text(buyer_client.get(REVIEW)))["checkout_key"]
        assert uuid.UUID(first).version == 4 and first != second

    def test_update_totals_prices_another_choice_without_placing(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        data = review_form(buyer_client, action="refresh", shipping_method="express")
        data.pop("insured")
        response = buyer_client.post(REVIEW, data)
        html = page_text(response)
        assert response.status_code == 200
        assert checked(html, "shipping_method") == ["express"]
        assert checked(html, "insured") == []
        assert 'data-testid="total-insurance">$0.00<' in html
        assert 'data-testid="grand-total">$333.00<' in html  # 198 + 135
        assert not Order.objects.exists()

    def test_a_country_without_shipping_cannot_be_placed(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer, country="JP")
        html = page_text(buyer_client.get(REVIEW))
        assert "We do not ship to this country yet" in html
        assert re.search(r'data-testid="place-order" disabled', html)
        response = buyer_client.post(REVIEW, review_form_without_method(buyer_client))
        assert response.status_code == 400
        assert not Order.objects.exists()


def review_form_without_method(client) -> dict:
    html = page_text(client.get(REVIEW))
    data = hidden_fields(html)
    data.update(action="place", payment_method="bank_transfer", insured="1")
    return data


class TestPlacingTheOrder:
    def test_by_bank_transfer_goes_to_the_order(self, buyer_client, buyer):
        address = ready_to_review(buyer_client, buyer)
        data = review_form(buyer_client, note="Please pack by size.")
        response = buyer_client.post(REVIEW, data)
        order = Order.objects.get()
        assert response.status_code == 302
        assert response.url == f"/account/orders/{order.number}/"
        assert response.url == order.get_absolute_url()
        assert order.state == OrderState.PENDING_PAYMENT
        assert order.payment_method == "bank_transfer"
        assert str(order.checkout_key) == data["checkout_key"]
        assert (order.goods_total, order.shipping_total, order.insurance_total) == (
            Decimal("198.00"),
            Decimal("54.00"),
            Decimal("2.97"),
        )
        assert order.grand_total == Decimal("254.97")
        assert order.shipping_method_code == "economy"
        assert order.is_insured and not order.is_dropship
        assert order.ship_line1 == address.line1
        assert order.buyer_note == "Please pack by size."
        assert order.lines.count() == 2
        assert cart_state(buyer) == {}
        assert "checkout" not in buyer_client.session

    def test_a_dropship_order_adds_the_fee_and_is_marked(self, buyer_client, buyer):
        shipping_to_europe()
        fill_cart(buyer)
        AddressFactory(member=buyer, is_default=True)
        customer = AddressFactory(
            member=buyer, name="Jean Client", city="Lyon", country="FR", is_end_customer=True
        )
        choose_delivery(buyer_client, customer, dropship=True)
        html = page_text(buyer_client.get(REVIEW))
        assert "Dropship to your end customer" in html
        assert "A blind parcel" in html
        assert 'data-testid="total-fee">$3.00<' in html
        assert 'data-testid="grand-total">$257.97<' in html
        response = buyer_client.post(REVIEW, review_form(buyer_client))
        order = Order.objects.get()
        assert response.url == order.get_absolute_url()
        assert order.is_dropship
        assert order.fee_total == Decimal("3.00")
        assert order.grand_total == Decimal("257.97")
        assert (order.ship_name, order.ship_city, order.ship_country.code) == (
            "Jean Client",
            "Lyon",
            "FR",
        )

    def test_insurance_can_be_unticked(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        data = review_form(buyer_client, action="refresh")
        data.pop("insured")
        html = page_text(buyer_client.post(REVIEW, data))
        data = {**hidden_fields(html), "shipping_method": "economy", "action": "place"}
        data.update(payment_method="bank_transfer")
        data.pop("csrfmiddlewaretoken", None)
        response = buyer_client.post(REVIEW, data)
        order = Order.objects.get()
        assert response.url == order.get_absolute_url()
        assert not order.is_insured
        assert order.insurance_total == Decimal("0.00")
        assert order.grand_total == Decimal("252.00")

    def test_a_choice_changed_without_updating_is_shown_before_placing(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        data = review_form(buyer_client, shipping_method="express")
        response = buyer_client.post(REVIEW, data)
        assert response.status_code == 200
        assert "The totals changed with your choice: check them first." in messages_of(response)
        assert 'data-testid="grand-total">$335.97<' in page_text(response)
        assert not Order.objects.exists()
        again = {**hidden_fields(page_text(response)), "shipping_method": "express"}
        again.update(action="place", payment_method="bank_transfer", insured="1")
        buyer_client.post(REVIEW, again)
        assert Order.objects.get().grand_total == Decimal("335.97")

    def test_by_card_goes_to_the_card_payment(self, buyer_client, buyer, settings):
        settings.STRIPE_SECRET_KEY = "sk_test_x"
        ready_to_review(buyer_client, buyer)
        response = buyer_client.post(REVIEW, review_form(buyer_client, payment_method="card"))
        order = Order.objects.get()
        assert order.payment_method == "card"
        assert response.status_code == 302
        assert response.url == reverse("payments:card_start", args=[order.number])

    def test_a_double_submit_places_one_order(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        data = review_form(buyer_client)
        first = buyer_client.post(REVIEW, data)
        second = buyer_client.post(REVIEW, data)
        order = Order.objects.get()
        assert first.url == second.url == order.get_absolute_url()

    def test_a_second_tab_lands_on_the_order_the_first_placed(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        tab_one, tab_two = review_form(buyer_client), review_form(buyer_client)
        buyer_client.post(REVIEW, tab_one)
        response = buyer_client.post(REVIEW, tab_two, follow=False)
        order = Order.objects.get()
        assert response.url == order.get_absolute_url()

    def test_an_empty_cart_without_a_recent_order_goes_to_the_cart(self, buyer_client, buyer):
        address = AddressFactory(member=buyer)
        data = {"action": "place", "address_id": address.pk, "checkout_key": str(uuid.uuid4())}
        response = buyer_client.post(REVIEW, data, follow=True)
        assert response.redirect_chain[-1][0] == "/cart/"
        assert "Your cart is empty" in page_text(response)
        assert not Order.objects.exists()

    def test_a_cart_that_changed_since_the_page_was_shown_is_shown_again(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        data = review_form(buyer_client)
        line = CartLine.objects.filter(cart__member=buyer).order_by("pk").first()
        buyer_client.post(f"/cart/lines/{line.pk}/", {"action": "update", "quantity": "50"})
        response = buyer_client.post(REVIEW, data)
        assert response.status_code == 200
        assert "Your cart changed since this page was shown" in messages_of(response)
        assert 'data-testid="total-goods">$264.00<' in page_text(response)  # 80 × 3.30
        assert not Order.objects.exists()

    def test_stock_sold_meanwhile_goes_back_to_the_cart_with_the_reason(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        data = review_form(buyer_client)
        line = CartLine.objects.filter(cart__member=buyer).order_by("pk").first()
        line.variant.__class__.objects.filter(pk=line.variant_id).update(stock=10)
        response = buyer_client.post(REVIEW, data, follow=True)
        assert response.redirect_chain[-1][0] == "/cart/"
        assert "Only 10 of" in page_text(response)
        assert not Order.objects.exists()
        assert sorted(cart_state(buyer).values()) == [30, 30]

    def test_the_order_total_is_the_quote_of_the_server(self, buyer_client, buyer):
        ready_to_review(buyer_client, buyer)
        data = review_form(buyer_client)
        address = Address.objects.get(member=buyer)
        quote = checkout_quote(
            cart=selectors.cart_view(member=buyer),
            country=address.country.code,
            method_code=data["shipping_method"],
        )
        buyer_client.post(REVIEW, data)
        assert Order.objects.get().grand_total == quote.totals.grand_total.amount


class TestTheCartPageLeadsToCheckout:
    def test_a_ready_cart_has_a_checkout_button(self, buyer_client, buyer):
        fill_cart(buyer)
        html = page_text(buyer_client.get("/cart/"))
        assert 'href="/checkout/" data-testid="checkout"' in html
        assert 'data-testid="checkout-disabled"' not in html

    def test_a_cart_with_problems_explains_why_not(self, buyer_client, buyer):
        fill_cart(buyer, S=5)
        html = page_text(buyer_client.get("/cart/"))
        assert 'data-testid="checkout-disabled"' in html
        assert "Fix the points above to check out." in html
        assert 'href="/checkout/"' not in html

    def test_a_member_waiting_for_approval_is_told_when_checkout_opens(self, client):
        member = DistributorFactory().user
        fill_cart(member)
        Distributor.objects.filter(user=member).update(status=Distributor.Status.PENDING)
        client.force_login(member)
        html = page_text(client.get("/cart/"))
        assert "Checkout opens once your trade account is approved." in html
        assert 'href="/checkout/"' not in html


class TestQueryCounts:
    """Each step costs the same number of queries for 1 cart line as for 20, and as many for a
    book of 2 addresses as for one of 25."""

    def _member_with(self, lines: int, addresses: int) -> Client:
        member = DistributorFactory().user
        if lines == 1:
            fill_cart(member, ProductFactory(variants=["S"]), S=30)  # 30 × 3.80 = 114.00
        for _ in range(lines // 5):
            product = ProductFactory(variants=["XS", "S", "M", "L", "XL"])
            fill_cart(member, product, XS=10, S=10, M=10, L=10, XL=10)
        assert CartLine.objects.filter(cart__member=member).count() == lines
        AddressFactory(member=member, is_default=True)
        AddressFactory(member=member, is_end_customer=True)
        for n in range(addresses - 2):
            AddressFactory(member=member, city=f"City {n}", is_end_customer=n % 2 == 0)
        client = Client()
        client.force_login(member)
        return client

    @pytest.mark.usefixtures("warm_layout")
    def test_delivery_and_review(self, django_assert_max_num_queries):
        shipping_to_europe()
        counts = {}
        for lines, addresses in ((1, 2), (20, 25)):
            client = self._member_with(lines, addresses)
            # Session, user, distributor, cart lines with products, tiers, the address book.
            with django_assert_max_num_queries(6) as delivery:
                assert client.get(DELIVERY).status_code == 200
            # Counted now: each request the test client makes clears the connection's log.
            delivery_count = len(delivery.captured_queries)
            address = Address.objects.get(member=client.session["_auth_user_id"], is_default=True)
            choose_delivery(client, address)
            # Session, user, distributor, lines, tiers, the address, the rates priced twice
            # (every method, then the cheapest ticked), the points balance.
            with django_assert_max_num_queries(9) as review:
                assert client.get(REVIEW).status_code == 200
            counts[lines] = (delivery_count, len(review.captured_queries))
        print(f"checkout queries (delivery, review): 1 line {counts[1]}, 20 lines {counts[20]}")
        assert counts[1] == counts[20]

    def test_placing(self, django_assert_max_num_queries):
        shipping_to_europe()
        counts = {}
        for lines in (1, 20):
            client = self._member_with(lines, 2)
            address = Address.objects.get(member=client.session["_auth_user_id"], is_default=True)
            choose_delivery(client, address)
            data = review_form(client)
            # The view's three reads (session, user, trade account), then order_place: cart
            # lock, key, address, the cart priced in two reads, shipping rates, the order and
            # its number, stock in one locked read, one update and one insert, the lines in
            # one insert, payment, history, the emptied cart; savepoints (the test's
            # transaction) and the cleared checkout choice in the session.
            with django_assert_max_num_queries(25) as placed:
                assert client.post(REVIEW, data).status_code == 302
            counts[lines] = len(placed.captured_queries)
            assert Order.objects.get(member=address.member).lines.count() == lines
        print(f"placing an order: 1 line {counts[1]} queries, 20 lines {counts[20]}")
        assert counts[1] == counts[20]


class TestCsrf:
    """B10: both steps refuse a POST without the CSRF token."""

    def test_posts_without_a_token_are_refused(self, buyer):
        shipping_to_europe()
        fill_cart(buyer)
        address = AddressFactory(member=buyer, is_default=True)
        client = Client(enforce_csrf_checks=True)
        client.force_login(buyer)
        assert client.post(DELIVERY, {"address": address.pk}).status_code == 403
        data = {
            "action": "place",
            "address_id": address.pk,
            "checkout_key": str(uuid.uuid4()),
            "shipping_method": "express",
            "payment_method": "bank_transfer",
        }
        response = client.post(REVIEW, data)
        print(f"B10: checkout without a CSRF token: {response.status_code}")
        assert response.status_code == 403
        assert not Order.objects.exists()
        assert "checkout" not in client.session


@pytest.mark.django_db(transaction=True)
def test_two_tabs_placing_at_the_same_moment_place_one_order():
    """L3 through the pages: the same form posted from two tabs at once, one order."""
    member = DistributorFactory().user
    shipping_to_europe()
    fill_cart(member)
    address = AddressFactory(member=member, is_default=True)
    client = Client()
    client.force_login(member)
    choose_delivery(client, address)
    data = review_form(client)
    barrier = threading.Barrier(2)
    statuses = []

    def place():
        try:
            tab = Client()
            tab.cookies = client.cookies
            barrier.wait()
            statuses.append(tab.post(REVIEW, data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=place) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"L3 (two tabs): statuses={statuses} orders={Order.objects.count()}")
    assert statuses == [302, 302]
    assert Order.objects.filter(member=member).count() == 1
