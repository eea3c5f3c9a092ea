"""A5 from RELIABILITY.md, customer IDOR: a buyer asks for another buyer's order by its
number, on every order page and action, and walks the sequential order numbers. Every foreign
number is a 404 that changes nothing; guests are sent to log in."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import Client

from catalog.models import StockMovement, Variant
from orders import order_selectors
from orders.models import CartLine, Order, OrderEvent, Payment
from tests.factories import DistributorFactory, ProductFactory, StaffFactory, place_order

pytestmark = pytest.mark.django_db

GET_PAGES = ("{}/", "{}/invoice/", "{}/invoice/?download=1")
POST_ACTIONS = ("{}/cancel/", "{}/reorder/")


def url(pattern: str, number: str) -> str:
    return "/account/orders/" + pattern.format(number)


def order_for(member, product):
    s, m = product.variants.order_by("position")
    return place_order(member, {s: 30, m: 30})


def snapshot():
    """Everything a foreign request could change: orders, history, payments, stock, carts."""
    return (
        list(Order.objects.order_by("pk").values()),
        OrderEvent.objects.count(),
        list(Payment.objects.order_by("pk").values("pk", "status")),
        StockMovement.objects.count(),
        list(Variant.objects.order_by("pk").values_list("pk", "stock")),
        list(CartLine.objects.order_by("pk").values_list("pk", "quantity")),
    )


@pytest.fixture
def product():
    return ProductFactory(variants__stock=1000)


class TestAnotherBuyersOrder:
    def test_every_page_and_action_is_a_404_and_changes_nothing(self, buyer_client, buyer, product):
        order_for(buyer, product)
        theirs = order_for(DistributorFactory().user, product)
        before = snapshot()
        statuses = {}
        for pattern in GET_PAGES:
            statuses[pattern] = buyer_client.get(url(pattern, theirs.number)).status_code
        for pattern in POST_ACTIONS:
            statuses[pattern] = buyer_client.post(url(pattern, theirs.number)).status_code
        assert statuses == dict.fromkeys(GET_PAGES + POST_ACTIONS, 404)
        assert snapshot() == before

    def test_the_404_does_not_tell_a_foreign_order_from_a_missing_one(self, buyer_client, product):
        theirs = order_for(DistributorFactory().user, product)
        foreign = buyer_client.get(url("{}/", theirs.number))
        missing = buyer_client.get(url("{}/", "W999999"))
        assert foreign.status_code == missing.status_code == 404
        assert theirs.number not in foreign.content.decode()

    def test_staff_see_orders_in_the_admin_not_on_the_buyers_pages(self, client, product):
        theirs = order_for(DistributorFactory().user, product)
        client.force_login(StaffFactory(is_superuser=True))
        assert client.get(url("{}/", theirs.number)).status_code == 404
        assert client.get(url("{}/invoice/", theirs.number)).status_code == 404

    def test_a_walk_over_sequential_order_numbers_finds_only_ones_own(
        self, buyer_client, buyer, product
    ):
        others = [DistributorFactory().user for _ in range(3)]
        mine = set()
        for _ in range(3):
            for member in others:
                order_for(member, product)
            mine.add(order_for(buyer, product).number)
        # Every number from just before this test's first order to just after its last.
        first, last = Order.objects.earliest("pk").pk, Order.objects.latest("pk").pk
        numbers = [f"W{100000 + pk}" for pk in range(max(1, first - 3), last + 6)]
        before = snapshot()
        foreign_requests = foreign_200s = 0
        foreign_statuses = set()
        own_statuses = set()
        for number in numbers:
            for pattern in GET_PAGES:
                status = buyer_client.get(url(pattern, number)).status_code
                if number in mine:
                    own_statuses.add(status)
                else:
                    foreign_requests += 1
                    foreign_200s += status == 200
                    foreign_statuses.add(status)
            if number not in mine:
                for pattern in POST_ACTIONS:
                    status = buyer_client.post(url(pattern, number)).status_code
                    foreign_requests += 1
                    foreign_200s += status == 200
                    foreign_statuses.add(status)
        print(f"A5: foreign 200s={foreign_200s} of {foreign_requests}")
        assert foreign_200s == 0
        assert foreign_statuses == {404}
        assert own_statuses == {200}
        assert snapshot() == before

    def test_the_list_shows_none_of_anyone_elses_orders(self, buyer_client, buyer, product):
        theirs = {order_for(DistributorFactory().user, product).number for _ in range(3)}
        mine = order_for(buyer, product).number
        html = buyer_client.get("/account/orders/").content.decode()
        assert mine in html
        assert not any(number in html for number in theirs)


class TestGuests:
    def test_are_sent_to_log_in_and_change_nothing(self, client, buyer, product):
        order = order_for(buyer, product)
        before = snapshot()
        for target in ["/account/orders/"] + [url(p, order.number) for p in GET_PAGES]:
            response = client.get(target)
            assert response.status_code == 302, target
            assert response.url.startswith("/accounts/login/?next="), target
        for pattern in POST_ACTIONS:
            response = client.post(url(pattern, order.number))
            assert response.status_code == 302
            assert response.url.startswith("/accounts/login/?next=")
        assert snapshot() == before

    def test_the_selectors_find_no_order_for_a_guest(self, buyer, product):
        order = order_for(buyer, product)
        guest = AnonymousUser()
        with pytest.raises(Http404):
            order_selectors.order_for(member=guest, number=order.number)
        with pytest.raises(Http404):
            order_selectors.order_detail(member=guest, number=order.number)
        assert order_selectors.order_list(member=guest, page=1).object_list == []

    def test_the_selectors_find_no_order_of_another_member(self, buyer, product):
        theirs = order_for(DistributorFactory().user, product)
        with pytest.raises(Http404):
            order_selectors.order_for(member=buyer, number=theirs.number)
        with pytest.raises(Http404):
            order_selectors.order_detail(member=buyer, number=theirs.number)
        with pytest.raises(Http404):
            order_selectors.order_for(member=buyer, number="")


def test_a_second_session_of_the_owner_sees_the_order(buyer, product):
    order = order_for(buyer, product)
    elsewhere = Client()
    elsewhere.force_login(buyer)
    assert elsewhere.get(url("{}/", order.number)).status_code == 200
