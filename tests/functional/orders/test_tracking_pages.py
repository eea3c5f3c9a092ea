"""The tracking timeline over HTTP: on the buyer's order page (newest first, carrier text
escaped, B8), nobody else's (404), and read-only in the admin, for a salesperson too on
their own customer's order."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from members.models import Distributor
from orders.models import TrackingEvent, TrackingStatus
from orders.tracking import OfflineCarrier, tracking_update
from tests.factories import DistributorFactory, StaffFactory
from tests.integration.orders.tracking_helpers import T0, shipped_order
from tests.integration.staff.helpers import salesperson

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"


def tracked_order(member, *, days=4, number="LX100000001CN"):
    order, [shipment] = shipped_order(member, numbers=(number,))
    now = T0 + timedelta(days=days)
    tracking_update(now=now, provider=OfflineCarrier(now=now), min_interval=timedelta(0))
    return order, shipment


def detail_url(order):
    return f"/account/orders/{order.number}/"


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


class TestTheBuyersTimeline:
    def test_shows_each_event_newest_first_with_the_parcel_status(self, buyer):
        order, _ = tracked_order(buyer)
        html = logged_in(buyer).get(detail_url(order)).content.decode()
        assert 'data-testid="tracking-status">In customs<' in html
        steps = re.findall(r'data-testid="tracking-event">(.*?)</li>', html, re.S)
        assert len(steps) == 3
        assert "In customs" in steps[0] and "Arrived at customs" in steps[0]
        assert "In transit" in steps[1] and "Information received" in steps[2]
        assert "Destination customs" in steps[0]

    def test_no_events_no_timeline(self, buyer):
        order, _ = shipped_order(buyer)
        html = logged_in(buyer).get(detail_url(order)).content.decode()
        assert 'data-testid="shipment"' in html
        assert 'data-testid="tracking"' not in html

    def test_carrier_text_is_escaped(self, buyer):
        order, [shipment] = shipped_order(buyer)
        TrackingEvent.objects.create(
            order=order,
            shipment=shipment,
            carrier_event_id="evil",
            occurred_at=T0 + timedelta(hours=5),
            status=TrackingStatus.EXCEPTION,
            location='"><img src=x onerror=alert(1)>',
            description=SCRIPT,
        )
        html = logged_in(buyer).get(detail_url(order)).content.decode()
        assert SCRIPT not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html

    def test_another_buyer_gets_a_404(self, buyer):
        order, _ = tracked_order(buyer)
        other = DistributorFactory().user
        response = logged_in(other).get(detail_url(order))
        assert response.status_code == 404
        assert "Arrived at customs" not in response.content.decode()

    @pytest.mark.usefixtures("warm_layout")
    def test_the_query_count_does_not_grow_with_the_events(
        self, buyer, django_assert_max_num_queries
    ):
        # The page's nine (orders.order_selectors.order_detail: the parcels and their events
        # in one query) and the review links of a received order.
        client = logged_in(buyer)
        few, _ = tracked_order(buyer, days=1)
        with django_assert_max_num_queries(10) as one:
            client.get(detail_url(few))
        many, _ = tracked_order(buyer, days=8, number="LX2CN")
        with django_assert_max_num_queries(10) as six:
            html = client.get(detail_url(many)).content.decode()
        assert html.count('data-testid="tracking-event"') == 6
        assert len(one.captured_queries) == len(six.captured_queries)


def change_url(order):
    return f"/admin/orders/order/{order.pk}/change/"


class TestTheAdmin:
    def test_the_events_are_shown_read_only(self, buyer):
        order, _ = tracked_order(buyer)
        client = logged_in(StaffFactory(is_superuser=True))
        response = client.get(change_url(order))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Arrived at customs" in html and "Destination customs" in html
        assert 'name="tracking_events-TOTAL_FORMS"' in html
        assert 'name="tracking_events-0-description"' not in html  # no inputs: read-only

    def test_a_salesperson_sees_the_events_of_their_own_customers_order(self):
        sales = salesperson(first_name="Lily").user
        sales.groups.add(Group.objects.get(name="sales"))
        mine = DistributorFactory()
        Distributor.objects.filter(pk=mine.pk).update(owner=sales, status="approved")
        order, _ = tracked_order(mine.user)
        html = logged_in(sales).get(change_url(order)).content.decode()
        assert "Arrived at customs" in html

    def test_the_admin_escapes_carrier_text(self, buyer):
        order, [shipment] = shipped_order(buyer)
        TrackingEvent.objects.create(
            order=order,
            shipment=shipment,
            carrier_event_id="evil",
            occurred_at=T0 + timedelta(hours=5),
            status=TrackingStatus.EXCEPTION,
            description=SCRIPT,
        )
        html = logged_in(StaffFactory(is_superuser=True)).get(change_url(order)).content.decode()
        assert SCRIPT not in html
