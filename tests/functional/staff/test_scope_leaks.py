"""RELIABILITY A2: nothing outside a salesperson's or customer service's scope shows through a
list, its search, filter choices, date hierarchy, a tampered filter parameter, an autocomplete
endpoint or an export. Run with -s for the figures."""

from datetime import datetime

import pytest
from django.contrib import admin
from django.utils import timezone

from members.models import Distributor
from orders.models import Order
from staff import roles
from staff.grants import access_grant
from tests.factories import (
    AddressFactory,
    DistributorFactory,
    ProductFactory,
    ShippingRateFactory,
    StaffFactory,
    place_order,
)
from tests.integration.staff.helpers import in_role, salesperson

pytestmark = pytest.mark.django_db

DISTRIBUTORS = "/admin/members/distributor/"
ORDERS = "/admin/orders/order/"
ADDRESSES = "/admin/members/address/"


@pytest.fixture
def world():
    sales1 = in_role(salesperson(first_name="Lily").user, roles.SALES)
    sales2 = in_role(salesperson(first_name="Kevin").user, roles.SALES)
    service = in_role(StaffFactory(first_name="Sunny"), roles.CUSTOMER_SERVICE)
    ShippingRateFactory(zone__countries=["DE", "NZ"])
    size = ProductFactory(variants__stock=500).variants.order_by("position").first()
    mine = DistributorFactory(company_name="Mine Trading", country="DE")
    theirs = DistributorFactory(company_name="Zealand Traders", country="NZ")
    Distributor.objects.filter(pk=mine.pk).update(owner=sales1)
    Distributor.objects.filter(pk=theirs.pk).update(
        owner=sales2, created_at=timezone.make_aware(datetime(2021, 3, 4))
    )
    my_order = place_order(
        mine.user, {size: 60}, address=AddressFactory(member=mine.user, country="DE")
    )
    their_order = place_order(
        theirs.user, {size: 60}, address=AddressFactory(member=theirs.user, country="NZ")
    )
    Order.objects.filter(pk=their_order.pk).update(
        placed_at=timezone.make_aware(datetime(2021, 3, 4))
    )
    return {
        "sales1": sales1,
        "sales2": sales2,
        "service": service,
        "mine": mine,
        "theirs": theirs,
        "my_order": my_order,
        "their_order": their_order,
    }


def page(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, url
    return response.content.decode()


def test_filters_dates_and_tampered_parameters_show_nothing_of_others(client, world):
    client.force_login(world["sales1"])
    theirs = world["theirs"]
    asks = [
        (DISTRIBUTORS, {}),
        (ORDERS, {}),
        (ADDRESSES, {}),
        (DISTRIBUTORS, {"q": theirs.user.email}),
        (ORDERS, {"q": world["their_order"].number}),
        (DISTRIBUTORS, {"country": "NZ"}),
        (DISTRIBUTORS, {"owner__id__exact": world["sales2"].pk}),
        (DISTRIBUTORS, {"created_at__year": 2021}),
        (ORDERS, {"ship_country": "NZ"}),
        (ORDERS, {"placed_at__year": 2021}),
    ]
    secrets = (
        "Zealand Traders",
        theirs.user.email,
        world["their_order"].number,
        "New Zealand",
        "2021",
    )
    leaks, lists = 0, []
    for url, params in asks:
        html = page(client, url, **params)
        lists.append(html)
        # The other customer's name, email, order number, country and year appear nowhere
        # (not as a row, a filter choice or a date-hierarchy link), except where the page
        # echoes what was asked.
        asked = {str(value) for value in params.values()}
        leaks += sum(secret in html for secret in secrets if secret not in asked)
    # The salesperson filter is offered only to those who see every customer.
    assert "By salesperson" not in lists[0]
    print(f"\nA2: {len(lists)} list pages, filters and dates: {leaks} leaked values")
    assert leaks == 0


def test_customer_service_lists_hold_only_what_was_handed_over(client, world):
    access_grant(world["my_order"], to=world["service"], by=world["sales1"], reason="Claim")
    client.force_login(world["service"])
    orders = page(client, ORDERS)
    assert world["my_order"].number in orders and world["their_order"].number not in orders
    distributors = page(client, DISTRIBUTORS)
    assert "Mine Trading" not in distributors and "Zealand Traders" not in distributors
    assert client.get(ADDRESSES).status_code == 403
    searched = page(client, ORDERS, q=world["their_order"].number)
    assert "0 results" in searched


def test_no_autocomplete_endpoint_returns_an_object_outside_the_scope(client, world):
    """Every autocomplete field of every admin, asked with an empty term (everything) by a
    salesperson and by customer service: the answer is refused or holds only what their own
    admin of that model would list."""
    asked = 0
    for user in (world["sales1"], world["service"]):
        client.force_login(user)
        for model, model_admin in admin.site._registry.items():
            for field_name in model_admin.autocomplete_fields:
                asked += 1
                response = client.get(
                    "/admin/autocomplete/",
                    {
                        "app_label": model._meta.app_label,
                        "model_name": model._meta.model_name,
                        "field_name": field_name,
                        "term": "",
                    },
                )
                if response.status_code == 403:
                    continue
                assert response.status_code == 200
                remote = model._meta.get_field(field_name).remote_field.model
                ids = {int(result["id"]) for result in response.json()["results"]}
                assert world["theirs"].user_id not in ids
                assert world["their_order"].pk not in ids or remote is not Order
    assert asked >= 2
    print(f"\nA2: {asked} autocomplete endpoints asked, none leaked")
