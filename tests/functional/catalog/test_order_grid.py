"""The product page's order grid: one quantity per variant, posted to the cart."""

import re

import pytest
from django.test import Client

from tests.factories import DistributorFactory, ProductFactory

pytestmark = pytest.mark.django_db


def grid_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the order grid carries a CSRF token"
    return match.group(1)


class TestTheOrderGrid:
    def test_a_buyer_gets_a_quantity_per_variant_and_their_own_token(self, buyer_client):
        product = ProductFactory(variants=["S", "M", "L"])
        html = buyer_client.get(product.get_absolute_url()).content.decode()
        for variant in product.variants.all():
            assert f'name="qty_{variant.pk}"' in html
        assert "<!--wholesale:csrf-->" not in html
        assert grid_token(html)

    def test_a_second_buyer_on_the_cached_page_can_post_the_form(self):
        product = ProductFactory()
        first, second = Client(), Client(enforce_csrf_checks=True)
        first.force_login(DistributorFactory().user)
        second.force_login(DistributorFactory().user)
        first.get(product.get_absolute_url())  # fills the fragment cache
        html = second.get(product.get_absolute_url()).content.decode()
        variant = product.variants.first()
        response = second.post(
            f"/cart/add/{product.slug}/",
            {"csrfmiddlewaretoken": grid_token(html), f"qty_{variant.pk}": "10"},
        )
        assert response.status_code == 302  # accepted, not a CSRF 403

    def test_out_of_stock_variants_cannot_be_typed_in(self, buyer_client):
        product = ProductFactory(variants=["S", "M"])
        product.variants.filter(option1="M").update(stock=0)
        html = buyer_client.get(product.get_absolute_url()).content.decode()
        gone = product.variants.get(option1="M")
        assert re.search(rf'name="qty_{gone.pk}"[^>]*disabled', html)


class TestGuests:
    def test_see_prices_but_no_form_when_prices_are_public(
        self, client, settings, django_assert_num_queries
    ):
        settings.WHOLESALE_PRICES_VISIBLE_TO = "everyone"
        product = ProductFactory()
        html = client.get(product.get_absolute_url()).content.decode()
        assert "$4.20" in html
        assert "csrfmiddlewaretoken" not in html and 'name="qty_' not in html
        assert "Log in to order" in html
        with django_assert_num_queries(0):  # still served whole from the page cache
            client.get(product.get_absolute_url())

    def test_without_prices_see_neither_prices_nor_form(self, client):
        product = ProductFactory()
        html = client.get(product.get_absolute_url()).content.decode()
        assert 'name="qty_' not in html and "Log in to order" not in html
