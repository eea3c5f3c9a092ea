"""Issue 5 in Chromium: a buyer pays an order by bank transfer, sees the points it earned and
the progress to the next level, redeems points on the next order; a refund of the first order
takes its points back (real pages for the buyer, the finance services for the money)."""

import importlib
import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from orders.lifecycle import bank_transfer_confirm, refund_create
from orders.models import Order
from staff import roles
from tests.factories import (
    PASSWORD,
    DistributorFactory,
    ProductFactory,
    ShippingRateFactory,
    StaffFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The migration that writes the four default levels and the points rules: a browser test runs
# in a flushed database, so its data step is run again here (it leaves existing rows alone).
default_levels = importlib.import_module("members.migrations.0006_default_levels_and_points_rules")


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def finance_user():
    roles.roles_sync()
    user = StaffFactory(email="finance@demo.test")
    user.groups.add(Group.objects.get(name=roles.FINANCE))
    return user


def log_in(page, base_url, email):
    page.goto(base_url + "/accounts/login/?next=/products/tee/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/products/tee/")


def to_review(page, base_url, *, first: bool):
    """14 S + 14 M tees (the 10–49 tier at $3.80: goods $106.40) through the product page,
    cart and delivery step, to the shipping and payment step."""
    page.goto(base_url + "/products/tee/")
    page.get_by_label("Quantity of S").fill("14")
    page.get_by_label("Quantity of M").fill("14")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url("**/products/tee/")
    page.get_by_role("link", name="Cart (2)").click()
    page.wait_for_url("**/cart/")
    page.get_by_test_id("checkout").click()
    page.wait_for_url("**/checkout/")
    if first:
        page.get_by_label("Recipient name").fill("Ana Buyer")
        page.get_by_label("Address line 1").fill("Calle Mayor 1")
        page.get_by_label("City").fill("Madrid")
        page.get_by_label("Postal code").fill("28013")
    else:  # the address saved with the first order is offered, ticked
        assert page.get_by_role("radio", name=re.compile("Calle Mayor 1")).is_checked()
    page.get_by_role("button", name="Continue to shipping and payment").click()
    page.wait_for_url("**/checkout/review/")
    assert page.get_by_role("radio", name=re.compile("Bank transfer")).is_checked()


def place(page) -> Order:
    page.get_by_test_id("place-order").click()
    page.wait_for_url(re.compile(r".*/account/orders/W\d+/$"))
    number = page.url.rstrip("/").rsplit("/", 1)[1]
    assert number in page.get_by_role("heading", level=1).inner_text()
    return Order.objects.get(number=number)


def history_row(page, text):
    return page.get_by_test_id("points-history").locator("tbody tr", has_text=text)


def test_a_buyer_earns_sees_redeems_and_loses_points_on_a_refund(live_server, page, settings):
    settings.STRIPE_SECRET_KEY = ""  # bank transfer is then the one method offered
    default_levels.create(apps, None)  # Member, Silver ($2,000 or 5 orders), …; 1 point per $
    ShippingRateFactory()  # express to ES: 20.00 + 5.00 per started 500 g
    ProductFactory(name="Organic Cotton Tee", slug="tee", variants=["S", "M"])
    buyer = DistributorFactory(user__email="buyer1@demo.test").user
    finance = finance_user()
    url = live_server.url

    # First order: goods 106.40 + express 75.00 (5.6 kg) + insurance 2.00 = 183.40.
    log_in(page, url, buyer.email)
    to_review(page, url, first=True)
    assert page.get_by_test_id("grand-total").inner_text() == "$183.40"
    assert page.get_by_test_id("points").count() == 0  # no points held yet
    first = place(page)
    bank_transfer_confirm(order_id=first.pk, by=finance)

    # Paid: 183 points (183.40 × 1 point per dollar × the Member multiplier 1, rounded down).
    page.goto(url + "/account/points/")
    assert page.get_by_test_id("points-balance").inner_text() == (
        "You hold 183 points, worth $1.83 off an order."
    )
    earned = history_row(page, "Earned")
    assert earned.count() == 1
    assert first.number in earned.inner_text() and "+183" in earned.inner_text()

    # The account hub: the level reached and what the next one takes.
    page.goto(url + "/account/")
    level = page.get_by_test_id("account-level")
    assert page.get_by_test_id("level-name").inner_text() == "Member"
    assert "Last 12 months: $183.40 in 1 paid order." in level.inner_text()
    assert page.get_by_test_id("level-progress").inner_text() == (
        "$1,816.60 more or 4 more orders to reach Silver."
    )

    # Second order: 150 points ($1.50, within the 183 held and 20 % of the goods) off it.
    to_review(page, url, first=False)
    assert page.get_by_test_id("grand-total").inner_text() == "$183.40"
    points = page.get_by_test_id("points")
    assert "You hold 183 points: use from 100 up to 183 on this order" in points.inner_text()
    field = points.locator('input[name="points"]')
    assert field.get_attribute("data-testid") == "points-input"
    field.fill("150")
    with page.expect_navigation():
        page.get_by_role("button", name="Update totals").click()
    assert page.get_by_test_id("total-points").inner_text() == "−$1.50"
    assert page.get_by_test_id("grand-total").inner_text() == "$181.90"
    assert page.get_by_test_id("place-order").inner_text() == "Place order · $181.90"
    assert page.get_by_test_id("points-input").input_value() == "150"
    second = place(page)
    assert (second.points_redeemed, str(second.grand_total)) == (150, "181.90")
    assert page.get_by_test_id("other-discount").inner_text().split() == [
        "150",
        "points",
        "used",
        "−$1.50",
    ]
    assert page.get_by_test_id("order-totals").get_by_test_id("grand-total").inner_text() == (
        "$181.90"
    )

    page.goto(url + "/account/points/")
    assert page.get_by_test_id("points-balance").inner_text() == (
        "You hold 33 points, worth $0.33 off an order."
    )
    redeemed = history_row(page, "Redeemed")
    assert redeemed.count() == 1
    assert second.number in redeemed.inner_text() and "-150" in redeemed.inner_text()

    # The second transfer arrives (181 more points), then the first order is refunded in full:
    # the 183 points it earned are taken back; the level counts the second order alone.
    bank_transfer_confirm(order_id=second.pk, by=finance)
    refund_create(order_id=first.pk, by=finance, reason="Parcel lost in transit")
    page.reload()
    assert page.get_by_test_id("points-balance").inner_text() == (
        "You hold 31 points, worth $0.31 off an order."
    )
    reversed_row = history_row(page, "Reversed")
    assert reversed_row.count() == 1
    assert first.number in reversed_row.inner_text() and "-183" in reversed_row.inner_text()
    page.goto(url + "/account/")
    assert "Last 12 months: $181.90 in 1 paid order." in (
        page.get_by_test_id("account-level").inner_text()
    )
