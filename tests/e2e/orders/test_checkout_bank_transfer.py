"""A buyer on a phone mixes sizes on the product page to reach the 10+ tier, checks out to a new
address with bank transfer, and lands on the order, in headless Chromium at 375 px."""

import os
import re
from decimal import Decimal

import pytest

from members.models import Address
from orders.models import Order, OrderState, PaymentMethod
from tests.factories import PASSWORD, DistributorFactory, ProductFactory, ShippingRateFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def fits_a_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_buyer_checks_out_with_bank_transfer_on_a_phone(live_server, phone, settings):
    settings.STRIPE_SECRET_KEY = ""  # bank transfer is then the one method offered
    ShippingRateFactory()  # express to ES: 20.00 + 5.00 per started 500 g
    ProductFactory(name="Organic Cotton Tee", slug="tee", variants=["S", "M"])
    buyer = DistributorFactory(user__email="buyer1@demo.test").user

    phone.goto(live_server.url + "/accounts/login/?next=/products/tee/")
    phone.get_by_label("Email").fill(buyer.email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in", exact=True).click()
    phone.wait_for_url("**/products/tee/")

    # 14 + 14 units: the 10–49 tier at 3.80, goods 106.40, above the 100.00 minimum.
    phone.get_by_label("Quantity of S").fill("14")
    phone.get_by_label("Quantity of M").fill("14")
    phone.get_by_role("button", name="Add to cart").click()
    phone.wait_for_url("**/products/tee/")
    phone.get_by_role("link", name="Cart (2)").click()
    phone.wait_for_url("**/cart/")
    assert "28 units: the 10–49 price, $3.80 each." in phone.get_by_test_id("tier").inner_text()
    assert phone.get_by_test_id("goods-total").inner_text() == "$106.40"

    phone.get_by_test_id("checkout").click()
    phone.wait_for_url("**/checkout/")
    assert fits_a_phone(phone)
    # No saved address yet: the new address form is ticked and open, in the buyer's country.
    assert phone.locator("#id_address_new").is_checked()
    phone.get_by_label("Recipient name").fill("Ana Buyer")
    phone.get_by_label("Address line 1").fill("Calle Mayor 1")
    phone.get_by_label("City").fill("Madrid")
    phone.get_by_label("Postal code").fill("28013")
    assert phone.get_by_label("Country").input_value() == "ES"
    phone.get_by_role("button", name="Continue to shipping and payment").click()
    phone.wait_for_url("**/checkout/review/")

    # 28 × 200 g = 5.6 kg: 20.00 + 11 × 5.00 = 75.00; insurance 1.5 % of 106.40, 1.60 → 2.00.
    assert fits_a_phone(phone)
    assert phone.get_by_test_id("shipping-option").count() == 1
    assert "Express courier" in phone.get_by_test_id("shipping-option").inner_text()
    assert "5–9 days" in phone.get_by_test_id("shipping-option").inner_text()
    assert phone.get_by_test_id("insured").is_checked()
    assert phone.get_by_role("radio", name=re.compile("Bank transfer")).is_checked()
    assert phone.get_by_test_id("checkout-line").count() == 2
    assert phone.get_by_test_id("total-shipping").inner_text() == "$75.00"
    assert phone.get_by_test_id("total-insurance").inner_text() == "$2.00"
    assert phone.get_by_test_id("grand-total").inner_text() == "$183.40"
    place = phone.get_by_test_id("place-order")
    assert place.inner_text() == "Place order · $183.40"
    box = place.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    if os.environ.get("WHOLESALE_E2E_SCREENSHOTS"):
        phone.screenshot(path=os.environ["WHOLESALE_E2E_SCREENSHOTS"], full_page=True)

    place.click()
    phone.wait_for_url(re.compile(r".*/account/orders/W\d+/$"))
    order = Order.objects.get(member=buyer)
    assert phone.url == f"{live_server.url}/account/orders/{order.number}/"
    assert phone.get_by_test_id("order-detail").get_attribute("data-number") == order.number
    assert order.number in phone.get_by_role("heading", level=1).inner_text()
    assert fits_a_phone(phone)

    assert order.state == OrderState.PENDING_PAYMENT
    assert order.payment_method == PaymentMethod.BANK_TRANSFER
    assert (order.goods_total, order.grand_total) == (Decimal("106.40"), Decimal("183.40"))
    assert sorted(order.lines.values_list("quantity", "unit_price")) == [
        (14, Decimal("3.80")),
        (14, Decimal("3.80")),
    ]
    assert Address.objects.get(member=buyer).is_default
