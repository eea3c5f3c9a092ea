import pytest

from tests.factories import PASSWORD, CategoryFactory, DistributorFactory, ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_buyer_finds_a_product_on_a_phone_and_sees_the_tier_table(live_server, phone):
    shirts = CategoryFactory(name="T-shirts")
    ProductFactory(name="Organic Cotton Tee", category=shirts)
    ProductFactory(name="Canvas Tote Bag")
    buyer = DistributorFactory(user__email="buyer1@demo.test").user

    phone.goto(live_server.url + "/")
    assert phone.get_by_role("heading", name="New arrivals").is_visible()
    # Nothing wider than the phone: no sideways scrolling on a 375-px screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    phone.get_by_role("searchbox").fill("cotton tee")
    phone.get_by_role("button", name="Search").click()
    phone.wait_for_url("**/catalog/?q=*")
    assert phone.get_by_test_id("result-count").inner_text() == "1 product"

    phone.get_by_role("link", name="Organic Cotton Tee").click()
    assert phone.get_by_role("heading", name="Organic Cotton Tee").is_visible()
    assert phone.get_by_text("Log in to see wholesale prices").is_visible()
    assert phone.get_by_test_id("tier-table").count() == 0

    phone.get_by_role("link", name="Log in to see wholesale prices").click()
    phone.get_by_label("Email").fill(buyer.email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in", exact=True).click()

    phone.wait_for_url("**/products/organic-cotton-tee/")
    table = phone.get_by_test_id("tier-table")
    assert table.is_visible()
    text = table.inner_text()
    assert "1–9" in text and "$4.20" in text
    assert "10–49" in text and "$3.80" in text
    assert "50+" in text and "$3.30" in text
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
