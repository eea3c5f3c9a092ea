"""Issue 4 in the browser: a buyer signs up through salesperson A's referral link and orders;
A finds the order in the admin, salesperson B does not (headless Chromium, real pages only)."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from staff import roles
from tests.factories import ProductFactory, ShippingRateFactory
from tests.integration.staff.helpers import salesperson

from .admin_pages import admin_log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ORDERS = "/admin/orders/order/"
DISTRIBUTORS = "/admin/members/distributor/"


def sales_team():
    """Alice and Bruno, in the sales role. Bruno joined first, so a signup without a link
    would be his in turn: only the link makes the buyer Alice's. The role's group is made
    here: a browser test runs in a flushed database, without the rows the migrations wrote."""
    roles.roles_sync()
    group = Group.objects.get(name=roles.SALES)
    bruno = salesperson(first_name="Bruno")
    alice = salesperson(first_name="Alice")
    for profile in (alice, bruno):
        profile.user.groups.add(group)
    return alice, bruno


def confirmation_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body).group(1)


def sign_up(page, base_url):
    page.get_by_label("Email").fill("ana@tienda-ana.example")
    page.get_by_label("Password:", exact=True).fill("a-long-trade-pass-77")
    page.get_by_label("Password (again)").fill("a-long-trade-pass-77")
    page.get_by_label("Company name").fill("Tienda Ana SL")
    page.get_by_label("Your name").fill("Ana Ruiz")
    page.get_by_label("Country").select_option("ES")
    page.get_by_label("Business type").select_option(index=1)
    page.get_by_label("Phone or WhatsApp").fill("+34 600 111 222")
    page.get_by_role("button", name="Open my trade account").click()
    page.wait_for_url("**/accounts/confirm-email/")

    # The verification email's link logs the new buyer in once confirmed.
    (message,) = mail.outbox
    assert message.to == ["ana@tienda-ana.example"]
    page.goto(base_url + confirmation_path(message))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    assert "/accounts/confirm-email/" not in page.url


def order_with_bank_transfer(page, base_url) -> str:
    """Order 28 tees through the product page, cart, checkout and review; the order number."""
    page.goto(base_url + "/products/tee/")
    page.get_by_label("Quantity of S").fill("14")
    page.get_by_label("Quantity of M").fill("14")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url("**/products/tee/")
    page.get_by_role("link", name="Cart (2)").click()
    page.wait_for_url("**/cart/")
    page.get_by_test_id("checkout").click()
    page.wait_for_url("**/checkout/")
    page.get_by_label("Recipient name").fill("Ana Ruiz")
    page.get_by_label("Address line 1").fill("Calle Mayor 1")
    page.get_by_label("City").fill("Madrid")
    page.get_by_label("Postal code").fill("28013")
    page.get_by_role("button", name="Continue to shipping and payment").click()
    page.wait_for_url("**/checkout/review/")
    assert page.get_by_role("radio", name=re.compile("Bank transfer")).is_checked()
    page.get_by_test_id("place-order").click()
    page.wait_for_url(re.compile(r".*/account/orders/W\d+/$"))
    number = page.url.rstrip("/").rsplit("/", 1)[1]
    assert number in page.get_by_role("heading", level=1).inner_text()
    return number


def test_an_order_from_a_referral_signup_is_the_referring_salespersons_alone(
    live_server, new_page, settings
):
    settings.STRIPE_SECRET_KEY = ""  # bank transfer is then the one method offered
    ShippingRateFactory()
    ProductFactory(name="Organic Cotton Tee", slug="tee", variants=["S", "M"])
    alice, bruno = sales_team()

    buyer = new_page()
    buyer.goto(f"{live_server.url}/r/{alice.referral_code}/")
    buyer.wait_for_url("**/accounts/signup/")
    assert buyer.get_by_role("heading", name="Open a trade account").is_visible()
    sign_up(buyer, live_server.url)
    number = order_with_bank_transfer(buyer, live_server.url)

    # Salesperson A, at their own computer: the order is in their list and opens.
    mine = new_page()
    admin_log_in(mine, live_server.url, alice.user.email)
    mine.goto(live_server.url + ORDERS)
    listed = mine.locator("#result_list")
    assert listed.get_by_role("link", name=number).is_visible()
    assert "Tienda Ana SL" in listed.inner_text()
    listed.get_by_role("link", name=number).click()
    mine.wait_for_url(re.compile(r".*/admin/orders/order/\d+/change/$"))
    change_url = mine.url
    order_id = re.search(r"/order/(\d+)/change/", change_url).group(1)
    body = mine.locator("#content").inner_text()
    assert number in body and "Tienda Ana SL" in body and "Calle Mayor 1" in body
    assert "TEE-S" in body and "TEE-M" in body
    mine.goto(live_server.url + DISTRIBUTORS)
    assert mine.locator("#result_list").get_by_role("link", name="Tienda Ana SL").is_visible()

    # Salesperson B: not in the list, not even by searching its number, and its page is none.
    theirs = new_page()
    admin_log_in(theirs, live_server.url, bruno.user.email)
    theirs.goto(live_server.url + ORDERS)
    assert number not in theirs.locator("#content").inner_text()
    theirs.goto(f"{live_server.url}{ORDERS}?q={number}")
    searched = theirs.locator("#content").inner_text()
    assert number not in searched and "0 orders" in searched
    response = theirs.goto(change_url)
    shown = theirs.locator("body").inner_text()
    assert number not in shown and "Tienda Ana SL" not in shown
    # Django's admin answers an object outside the queryset by going back to its index with
    # this message; a 404 page would do as well.
    assert response.status == 404 or f"Order with ID “{order_id}” doesn’t exist" in shown
    theirs.goto(live_server.url + DISTRIBUTORS)
    assert "Tienda Ana SL" not in theirs.locator("#content").inner_text()
