import pytest

from tests.factories import PASSWORD, DistributorFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_member_switches_the_shop_to_russian_on_a_phone_and_keeps_it(live_server, phone):
    buyer = DistributorFactory(user__email="buyer1@demo.test").user

    phone.goto(live_server.url + "/accounts/login/")
    phone.get_by_label("Email").fill(buyer.email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in", exact=True).click()
    phone.wait_for_url(live_server.url + "/")

    switcher = phone.get_by_test_id("language-switcher")
    switcher.get_by_role("combobox").select_option("ru")
    switcher.get_by_role("button").click()
    phone.wait_for_url(live_server.url + "/ru/")
    assert phone.locator("html").get_attribute("lang") == "ru"
    assert switcher.get_by_role("combobox").input_value() == "ru"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    # Saved to the profile: an English address brings the member back to Russian.
    buyer.refresh_from_db()
    assert buyer.preferred_language == "ru"
    phone.goto(live_server.url + "/catalog/")
    phone.wait_for_url(live_server.url + "/ru/catalog/")

    ship_to = phone.get_by_test_id("country-switcher")
    ship_to.get_by_role("combobox").select_option("DE")
    ship_to.get_by_role("button").click()
    phone.wait_for_url(live_server.url + "/ru/catalog/")
    assert phone.get_by_test_id("country-switcher").get_by_role("combobox").input_value() == "DE"
