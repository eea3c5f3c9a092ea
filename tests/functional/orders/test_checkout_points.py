"""Points redeemed at checkout (issue 5, RELIABILITY B4): the review page offers them within the
balance, the minimum and the per-order cap, the totals show them as their own line, the order
keeps them and the ledger records the redemption; anything else is refused with a message and
changes nothing."""

from decimal import Decimal

import pytest

from members import points
from members.models import PointsEntry
from orders.models import Order
from tests.functional.orders.test_checkout_pages import (
    REVIEW,
    page_text,
    ready_to_review,
    review_form,
)

pytestmark = pytest.mark.django_db


def give(member, count):
    admin = type(member).objects.create_superuser(email="boss@example.test", password="x")
    points.points_adjust(member=member, points=count, by=admin, reason="Welcome")


@pytest.fixture
def at_review(buyer_client, buyer):
    ready_to_review(buyer_client, buyer)
    give(buyer, 5000)
    return buyer_client, buyer


def test_the_review_page_offers_points_and_prices_them(at_review):
    client, _buyer = at_review
    html = page_text(client.get(REVIEW))
    assert 'data-testid="points-input"' in html and "You hold 5000 points" in html
    refreshed = client.post(REVIEW, review_form(client, action="refresh", points="1000"))
    html = page_text(refreshed)
    assert 'data-testid="total-points"' in html and "1000 points used" in html
    assert "−$10.00" in html  # 1,000 points × 0.01


def test_placing_redeems_them_on_the_order(at_review):
    client, buyer = at_review
    data = review_form(client, action="refresh", points="1000")
    shown = client.post(REVIEW, data)
    data = review_form(client)  # fresh key
    data.update({"points": "1000", "quoted_points": "1000"})
    data["quoted_cart"] = shown.context["cart_fingerprint"]
    response = client.post(REVIEW, data)
    assert response.status_code == 302, page_text(response)[:3000]
    order = Order.objects.get(member=buyer)
    assert (order.points_redeemed, order.points_discount_total) == (1000, Decimal("10.00"))
    assert order.discount_total == order.level_discount_total + Decimal("10.00")
    assert points.points_balance(buyer) == 4000
    entry = PointsEntry.objects.get(member=buyer, kind="redeem")
    assert (entry.points, entry.order_number) == (-1000, order.number)
    detail = page_text(client.get(f"/account/orders/{order.number}/"))
    assert "1000 points used" in detail


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ("99999", "You hold 5000 points"),
        ("50", "Use at least 100 points"),
        ("-100", "Points to use cannot be negative"),
        ("12.5", "Enter a whole number of points"),
        ("4999", "This order can take at most"),
    ],
    ids=["more-than-held", "under-minimum", "negative", "fractional", "over-the-cap"],
)
def test_b4_bad_points_are_refused_and_change_nothing(at_review, asked, message):
    client, buyer = at_review
    data = review_form(client, points=asked, quoted_points=asked)
    response = client.post(REVIEW, data)
    assert response.status_code in (200, 400)
    html = page_text(response)
    assert message in html or message in " ".join(
        str(m) for m in (response.context or {}).get("messages", [])
    )
    assert not Order.objects.filter(member=buyer).exists()
    assert points.points_balance(buyer) == 5000
    print(f"\nB4 {asked}: status {response.status_code}, balance 5000")


def test_the_same_redemption_posted_twice_places_one_order(at_review):
    client, buyer = at_review
    shown = client.post(REVIEW, review_form(client, action="refresh", points="500"))
    data = review_form(client)
    data.update(
        {"points": "500", "quoted_points": "500", "quoted_cart": shown.context["cart_fingerprint"]}
    )
    first, second = client.post(REVIEW, data), client.post(REVIEW, data)
    assert first.status_code == second.status_code == 302
    assert Order.objects.filter(member=buyer).count() == 1
    assert points.points_balance(buyer) == 4500
