"""The buyer's points page: balance and worth, what expires when, the history; their own only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from members import points
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/account/points/"


def earn(member, amount, order_id):
    points.points_earn(
        member=member,
        amount=Decimal(amount),
        multiplier=Decimal(1),
        order_id=order_id,
        order_number=f"W{100000 + order_id}",
    )


def test_needs_a_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_shows_the_balance_its_worth_what_expires_and_the_history(client):
    member, other = UserFactory(), UserFactory()
    earn(member, "1500", 1)
    earn(other, "777", 2)
    client.force_login(member)
    html = client.get(URL).content.decode()
    assert "<strong>1500</strong> points" in html and "$15.00" in html
    assert "W100001" in html and "+1500" in html
    assert "W100002" not in html and "777" not in html  # another member's points
    # Earned points last a year by default; the page lists the next 90 days.
    assert "No points expire in the next 90 days" in html
    later = timezone.now() + timedelta(days=300)
    assert points.points_expiring(member, now=later)[0][1] == 1500


def test_the_account_hub_links_to_it(client):
    from tests.factories import DistributorFactory

    client.force_login(DistributorFactory().user)
    assert URL in client.get("/account/").content.decode()


@pytest.mark.usefixtures("warm_layout")
def test_costs_the_same_queries_for_3_or_60_entries(client, django_assert_max_num_queries):
    member = UserFactory()
    client.force_login(member)
    for order_id in range(3):
        earn(member, "10", order_id)
    with django_assert_max_num_queries(8) as few:
        client.get(URL)
    for order_id in range(3, 60):
        earn(member, "10", order_id)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(URL).status_code == 200


def test_the_hub_shows_the_balance(client):
    from tests.factories import DistributorFactory

    member = DistributorFactory().user
    earn(member, "250", 9)
    client.force_login(member)
    assert "Points (250)" in client.get("/account/").content.decode()
