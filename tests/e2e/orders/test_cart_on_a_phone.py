import os

import pytest

from tests.factories import PASSWORD, DistributorFactory, ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_buyer_mixes_sizes_to_reach_a_tier_on_a_phone(live_server, phone):
    ProductFactory(name="Organic Cotton Tee", slug="tee", variants=["S", "M"])
    buyer = DistributorFactory(user__email="buyer1@demo.test").user

    phone.goto(live_server.url + "/cart/quick-order/")
    phone.get_by_label("Email").fill(buyer.email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in", exact=True).click()
    phone.wait_for_url("**/cart/quick-order/")

    phone.get_by_label("SKU and quantity, one per line").fill("TEE-S, 6\nTEE-M 6\nNOPE, 1")
    phone.get_by_role("button", name="Add to cart").click()
    outcomes = phone.get_by_test_id("outcome")
    assert outcomes.count() == 3
    assert "Unknown SKU" in outcomes.nth(2).inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    phone.get_by_role("link", name="View your cart").click()
    phone.wait_for_url("**/cart/")
    tier = phone.get_by_test_id("tier")
    assert "12 units: the 10–49 price, $3.80 each." in tier.inner_text()
    assert "Add 38 more to pay $3.30 each." in tier.inner_text()
    assert phone.get_by_test_id("goods-total").inner_text() == "$45.60"
    assert phone.get_by_role("link", name="Cart (2)").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    if os.environ.get("WHOLESALE_E2E_SCREENSHOTS"):
        phone.screenshot(path=os.environ["WHOLESALE_E2E_SCREENSHOTS"], full_page=True)

    phone.get_by_label("Quantity of S").fill("44")
    phone.get_by_role("button", name="Update").first.click()
    phone.wait_for_url("**/cart/")
    assert "50 units: the 50+ price, $3.30 each." in phone.get_by_test_id("tier").inner_text()
    assert phone.get_by_test_id("next-tier").count() == 0

    phone.get_by_role("button", name="Remove TEE-M").click()
    phone.wait_for_url("**/cart/")
    assert phone.get_by_text("Removed TEE-M from your cart.").is_visible()
    assert phone.get_by_test_id("cart-line").count() == 1
