"""Favorites in Chromium: a guest saves from the product page through the login and the
confirmation; as a member, static/js/favorites.js marks the saved products on the shared,
cached catalog pages and saves or removes in one click; "add all to cart" fills the cart."""

import pytest

from members.models import Favorite
from tests.factories import PASSWORD, DistributorFactory, ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def saved(member) -> list[str]:
    return sorted(Favorite.objects.filter(member=member).values_list("product__slug", flat=True))


def test_a_buyer_saves_marks_removes_and_orders_favorites(live_server, phone):
    ProductFactory(name="Organic Cotton Tee", slug="tee", variants=["S", "M"], moq=12)
    ProductFactory(name="Linen Shirt", slug="linen", variants=["S"], moq=5)
    buyer = DistributorFactory(user__email="buyer1@demo.test").user

    phone.goto(live_server.url + "/products/tee/")
    phone.get_by_role("button", name="♡ Save").click()
    phone.wait_for_url("**/accounts/login/**")
    phone.get_by_label("Email").fill(buyer.email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in", exact=True).click()
    phone.wait_for_url("**/account/favorites/*/add/**")
    assert phone.get_by_text("Save Organic Cotton Tee to your favorites?").is_visible()
    phone.get_by_role("button", name="♡ Save").click()
    phone.wait_for_url("**/products/tee/")
    assert phone.get_by_text("Organic Cotton Tee is saved in your favorites.").is_visible()
    saved_button = phone.locator("form[data-favorite] button")
    phone.wait_for_function(
        "document.querySelector('form[data-favorite] button')"
        ".getAttribute('aria-pressed') === 'true'"
    )
    assert saved_button.inner_text() == "♥ Saved"
    assert saved(buyer) == ["tee"]

    phone.goto(live_server.url + "/catalog/")
    phone.wait_for_function(
        "document.querySelector('form[data-favorite]').getAttribute('method') === 'post'"
    )
    tee = phone.locator("li.card", has_text="Organic Cotton Tee").locator("button")
    linen = phone.locator("li.card", has_text="Linen Shirt").locator("button")
    assert tee.inner_text() == "♥ Saved" and linen.inner_text() == "♡ Save"
    linen.click()
    phone.wait_for_url("**/catalog/")
    phone.wait_for_function(
        "[...document.querySelectorAll('form[data-favorite] button')]"
        ".every(b => b.getAttribute('aria-pressed') === 'true')"
    )
    assert saved(buyer) == ["linen", "tee"]
    phone.locator("li.card", has_text="Organic Cotton Tee").locator("button").click()
    phone.wait_for_url("**/catalog/")
    assert phone.get_by_text("Removed from your favorites.").is_visible()
    assert saved(buyer) == ["linen"]

    phone.goto(live_server.url + "/account/")
    phone.get_by_test_id("favorites-link").click()
    phone.wait_for_url("**/account/favorites/")
    assert phone.locator("li.favorite").count() == 1
    phone.get_by_test_id("add-all-to-cart").click()
    phone.wait_for_url("**/cart/")
    assert phone.get_by_text("1 favorite was added to your cart at its minimum order.").is_visible()
    assert phone.get_by_role("link", name="Cart (1)").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
