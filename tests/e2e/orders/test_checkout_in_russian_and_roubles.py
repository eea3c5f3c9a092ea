"""A buyer switches the shop to Russian and roubles, fills a cart and checks out with bank
transfer: every page speaks Russian and shows roubles, and the order is charged in roubles at
the rate of the moment, which it keeps. Headless Chromium at 375 px."""

import re
from decimal import Decimal

import pytest

from orders.models import Order, PaymentMethod
from tests.factories import PASSWORD, DistributorFactory, ProductFactory, ShippingRateFactory
from wholesale.models import Currency

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RUB = "₽"


def test_a_buyer_checks_out_in_russian_and_roubles(live_server, phone, settings):
    settings.STRIPE_SECRET_KEY = ""  # bank transfer is then the one method offered
    Currency.objects.update_or_create(
        code="RUB", defaults={"rate": Decimal("90"), "is_active": True, "auto_update": False}
    )
    ShippingRateFactory()  # express to ES: 20.00 + 5.00 per started 500 g
    ProductFactory(name="Organic Cotton Tee", slug="tee", variants=["S", "M"])
    buyer = DistributorFactory(user__email="buyer1@demo.test").user

    phone.goto(live_server.url + "/accounts/login/")
    phone.get_by_label("Email").fill(buyer.email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in", exact=True).click()
    phone.wait_for_url(live_server.url + "/")

    languages = phone.get_by_test_id("language-switcher")
    languages.get_by_role("combobox").select_option("ru")
    languages.get_by_role("button").click()
    phone.wait_for_url(live_server.url + "/ru/")
    currencies = phone.get_by_test_id("currency-switcher")
    currencies.get_by_role("combobox").select_option("RUB")
    currencies.get_by_role("button").click()
    phone.wait_for_url(live_server.url + "/ru/")
    assert phone.locator("html").get_attribute("lang") == "ru"

    # The 10–49 tier at 3.80 dollars is 342,00 roubles at 90.
    phone.goto(live_server.url + "/ru/products/tee/")
    tiers = phone.get_by_test_id("tier-table").inner_text()
    assert RUB in tiers and "342,00" in tiers and "$" not in tiers
    phone.locator("input.qty").nth(0).fill("14")
    phone.locator("input.qty").nth(1).fill("14")
    phone.get_by_role("button", name="В корзину").click()
    phone.wait_for_url("**/ru/products/tee/")

    phone.goto(live_server.url + "/ru/cart/")
    goods = phone.get_by_test_id("goods-total").inner_text()
    assert RUB in goods and re.sub(r"\s", "", goods) == "9576,00₽"  # 28 × 342,00
    phone.get_by_test_id("checkout").click()
    phone.wait_for_url("**/ru/checkout/")
    assert phone.locator("#id_address_new").is_checked()
    phone.locator("[name$='-name']").first.fill("Анна Покупатель")
    phone.locator("[name$=line1]").first.fill("Calle Mayor 1")
    phone.locator("[name$=city]").first.fill("Madrid")
    phone.locator("[name$=postal_code]").first.fill("28013")
    phone.get_by_test_id("delivery-form").locator("button[type=submit]").last.click()
    phone.wait_for_url("**/ru/checkout/review/")

    # Shipping 75.00 → 6 750,00; insurance 2.00 → 180,00; total 183.40 → 16 506,00 roubles.
    total = re.sub(r"\s", "", phone.get_by_test_id("grand-total").inner_text())
    assert total == "16506,00₽"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.get_by_test_id("place-order").click()
    phone.wait_for_url(re.compile(r".*/ru/account/orders/W\d+/$"))

    order = Order.objects.get(member=buyer)
    assert (order.currency, order.exchange_rate) == ("RUB", Decimal("90"))
    assert order.payment_method == PaymentMethod.BANK_TRANSFER
    assert order.grand_total == Decimal("16506.00")
    assert order.grand_total_base == Decimal("183.40")
    assert order.number in phone.get_by_role("heading", level=1).inner_text()
    assert RUB in phone.get_by_test_id("order-detail").inner_text()
