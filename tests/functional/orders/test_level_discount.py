"""The member level discount in prices, shown as such: its own line in the cart, on both
checkout steps, on the placed order, its invoice and its email; the order's totals add up;
catalog pages show a member their level's price, and never to another level."""

from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client

from members.models import Distributor, Level
from orders.models import Order
from tests.factories import AddressFactory, DistributorFactory, ProductFactory
from tests.functional.orders.test_checkout_pages import (
    DELIVERY,
    REVIEW,
    choose_delivery,
    fill_cart,
    review_form,
    shipping_to_europe,
)

pytestmark = pytest.mark.django_db

# 30 S + 30 M at the 50+ tier of 3.30: 198.00 of goods; Gold takes 5%: 9.90.
GOODS = Decimal("198.00")
GOLD_OFF = Decimal("9.90")


def member_at(level_name: str | None):
    distributor = DistributorFactory()
    if level_name:
        Distributor.objects.filter(pk=distributor.pk).update(
            level=Level.objects.get(name=level_name)
        )
    member = type(distributor.user).objects.get(pk=distributor.user_id)  # as a login loads it
    client = Client()
    client.force_login(member)
    return member, client


@pytest.fixture
def gold_member():
    return member_at("Gold")


def text(response) -> str:
    return response.content.decode()


class TestTheCart:
    def test_shows_the_level_discount_as_its_own_line(self, gold_member):
        member, client = gold_member
        fill_cart(member)
        html = text(client.get("/cart/"))
        assert "Gold member discount (5%)" in html
        assert "−$9.90" in html
        assert "$188.10" in html  # the goods after the discount

    def test_a_member_without_a_discount_sees_no_line(self):
        member, client = member_at("Member")
        fill_cart(member)
        assert 'data-testid="level-discount"' not in text(client.get("/cart/"))

    def test_the_minimum_order_counts_the_goods_before_the_discount(self, settings, gold_member):
        member, client = gold_member
        settings.WHOLESALE_MIN_ORDER_AMOUNT = GOODS  # 188.10 after the discount
        fill_cart(member)
        assert 'data-testid="cart-ready"' in text(client.get("/cart/"))


class TestCheckout:
    def test_both_steps_show_and_the_order_charges_the_discount(
        self, gold_member, django_capture_on_commit_callbacks
    ):
        member, client = gold_member
        shipping_to_europe()
        fill_cart(member)
        address = AddressFactory(member=member, is_default=True)
        delivery = text(client.get(DELIVERY))
        assert "Gold member discount (5%)" in delivery and "−$9.90" in delivery
        choose_delivery(client, address)
        review = text(client.get(REVIEW))
        assert 'data-testid="total-level-discount">−$9.90' in review
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(REVIEW, review_form(client))
        assert response.status_code == 302
        order = Order.objects.get(member=member)
        assert order.level_name == "Gold"
        assert order.level_discount_percent == Decimal(5)
        assert order.goods_total == GOODS
        assert order.level_discount_total == GOLD_OFF
        assert order.discount_total == GOLD_OFF
        assert order.grand_total == (
            order.goods_total
            - order.discount_total
            + order.shipping_total
            + order.insurance_total
            + order.fee_total
        )
        assert order.grand_total_base == order.grand_total  # charged in the base currency
        assert order.payments.get().amount == order.grand_total
        # The order page, its invoice and the email show the line.
        for url in (order.get_absolute_url(), f"{order.get_absolute_url()}invoice/"):
            page = client.get(url)
            assert page.status_code == 200, url
            assert "Gold member discount (5%)" in text(page) and "−$9.90" in text(page)
        email = next(m for m in mail.outbox if order.number in m.body)
        assert "Gold member discount (5%): −$9.90" in email.body
        assert "Gold member discount (5%)" in email.alternatives[0][0]

    def test_the_review_page_says_discounts_only_without_a_level(self):
        member, client = member_at(None)
        shipping_to_europe()
        fill_cart(member)
        choose_delivery(client, AddressFactory(member=member, is_default=True))
        review = text(client.get(REVIEW))
        assert 'data-testid="total-discount"' in review
        assert "member discount" not in review


class TestCatalogPrices:
    def test_a_member_sees_their_price_per_tier_beside_the_list_price(self, gold_member):
        _member, client = gold_member
        product = ProductFactory()
        html = text(client.get(product.get_absolute_url()))
        assert "Your Gold price" in html
        # 4.20 / 3.80 / 3.30 less 5% (0.21, 0.19, 0.165 rounded half up).
        for price in ("$3.99", "$3.61", "$3.13"):
            assert f'data-testid="member-price">{price}' in html

    def test_cards_show_the_members_price_beside_the_list_price(self, gold_member, client):
        _member, gold_client = gold_member
        ProductFactory(name="Linen Tote")
        listed = text(gold_client.get("/catalog/"))
        assert "from $3.30 · Gold $3.14" in listed  # 3.30 less 5%, rounded half up
        assert "Gold $" not in text(client.get("/catalog/"))  # a guest's page

    def test_the_page_cache_keeps_each_level_its_own_page(self, gold_member):
        _gold, gold_client = gold_member
        _silver, silver_client = member_at("Silver")
        _plain, plain_client = member_at(None)
        product = ProductFactory()
        url = product.get_absolute_url()
        assert "Your Gold price" in text(gold_client.get(url))
        silver = text(silver_client.get(url))
        assert "Your Silver price" in silver and "Your Gold price" not in silver
        assert "$3.20" in silver  # 3.30 less 3%
        plain = text(plain_client.get(url))
        assert "Your Gold price" not in plain and "Your Silver price" not in plain
        assert 'data-testid="member-price"' not in text(Client().get(url))

    def test_a_level_change_shows_at_once(self, gold_member, django_capture_on_commit_callbacks):
        from members.levels import level_set

        member, client = gold_member
        product = ProductFactory()
        assert "Your Gold price" in text(client.get(product.get_absolute_url()))
        distributor = Distributor.objects.get(user=member)
        with django_capture_on_commit_callbacks(execute=True):
            level_set(
                distributor,
                Level.objects.get(name="Platinum"),
                spend=Decimal(40000),
                order_count=50,
                reason="test",
            )
        assert "Your Platinum price" in text(client.get(product.get_absolute_url()))

    def test_a_level_edited_by_staff_shows_at_once(
        self, gold_member, django_capture_on_commit_callbacks
    ):
        _member, client = gold_member
        product = ProductFactory()
        client.get(product.get_absolute_url())
        gold = Level.objects.get(name="Gold")
        gold.discount_percent = Decimal(10)
        with django_capture_on_commit_callbacks(execute=True):
            gold.save()
        html = text(client.get(product.get_absolute_url()))
        assert 'data-testid="member-price">$2.97' in html  # 3.30 less 10%

    def test_the_member_price_costs_no_query_on_the_page(self, settings, gold_member):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        _member, client = gold_member  # the discount was looked up at login
        settings.WHOLESALE_PAGE_CACHE_SECONDS = 0
        product = ProductFactory()
        with CaptureQueriesContext(connection) as page:
            assert "Your Gold price" in text(client.get(product.get_absolute_url()))
        sql = " ".join(query["sql"] for query in page.captured_queries)
        assert 'FROM "members_level"' not in sql
        assert 'FROM "members_distributor"' not in sql


class TestTheAccountHub:
    def test_shows_the_level_its_discount_and_the_way_to_the_next(self):
        _member, client = member_at("Silver")
        html = text(client.get("/account/"))
        assert 'data-testid="level-name">Silver' in html
        assert "3% off the goods of every order" in html
        assert "$10,000.00 more or 15 more orders to reach Gold." in html

    def test_at_the_top_there_is_nothing_left_to_reach(self):
        _member, client = member_at("Platinum")
        assert "You are at our highest level." in text(client.get("/account/"))
