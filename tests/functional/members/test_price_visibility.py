"""Who sees wholesale prices (WHOLESALE_PRICES_VISIBLE_TO), on the list and the product page,
and that the catalog page cache never hands one audience's prices to another."""

import pytest

from members.models import Distributor
from tests.factories import DistributorFactory, ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

LOGIN_FOR_PRICES = "Log in to see wholesale prices"
PRICES = ("$4.20", "$3.80", "$3.30")


@pytest.fixture
def product():
    return ProductFactory(name="Cotton Tee", slug="cotton-tee")


def pages(product):
    return ["/catalog/", f"/products/{product.slug}/"]


def shows_prices(html: str) -> bool:
    return any(price in html for price in PRICES)


def login(client, **distributor):
    client.force_login(DistributorFactory(**distributor).user)
    return client


class TestWhenPricesAreForMembers:
    @pytest.fixture(autouse=True)
    def _members(self, settings):
        settings.WHOLESALE_PRICES_VISIBLE_TO = "members"

    def test_a_guest_is_asked_to_log_in_and_sees_no_price(self, client, product):
        for url in pages(product):
            html = client.get(url).content.decode()
            assert LOGIN_FOR_PRICES in html, url
            assert not shows_prices(html), url
        assert 'data-testid="tier-table"' not in client.get(pages(product)[1]).content.decode()

    def test_a_logged_in_buyer_sees_the_tier_table(self, client, product):
        login(client)
        html = client.get(f"/products/{product.slug}/").content.decode()
        assert 'data-testid="tier-table"' in html
        assert all(price in html for price in PRICES)
        assert LOGIN_FOR_PRICES not in html
        assert "from $3.30" in client.get("/catalog/").content.decode()

    def test_a_pending_buyer_also_sees_prices(self, client, product):
        login(client, status=Distributor.Status.PENDING)
        assert shows_prices(client.get(f"/products/{product.slug}/").content.decode())

    def test_a_guest_after_a_buyer_on_the_same_url_gets_no_prices(self, client, product):
        buyer = login(client.__class__())
        for url in pages(product):
            assert shows_prices(buyer.get(url).content.decode()), url
            html = client.get(url).content.decode()
            assert not shows_prices(html), url
            assert LOGIN_FOR_PRICES in html, url

    def test_these_pages_are_served_from_the_cache(self, client, product):
        # Guards the two tests around it: a change that bypasses the cache invalidation does
        # not show, so the second request did come from the cache.
        from catalog.models import PriceTier

        buyer = login(client.__class__())
        url = f"/products/{product.slug}/"
        assert "$4.20" in buyer.get(url).content.decode()
        PriceTier.objects.filter(product=product, min_quantity=1).update(unit_price="9.99")
        assert "$4.20" in buyer.get(url).content.decode()

    def test_a_buyer_after_a_guest_on_the_same_url_gets_prices(self, client, product):
        buyer = login(client.__class__())
        for url in pages(product):
            assert not shows_prices(client.get(url).content.decode()), url
            assert shows_prices(buyer.get(url).content.decode()), url


class TestWhenPricesAreForApprovedBuyers:
    @pytest.fixture(autouse=True)
    def _approved(self, settings):
        settings.WHOLESALE_PRICES_VISIBLE_TO = "approved"

    @pytest.mark.parametrize("status", [Distributor.Status.PENDING, Distributor.Status.REJECTED])
    def test_a_buyer_not_approved_sees_no_price(self, client, product, status):
        login(client, status=status)
        for url in pages(product):
            html = client.get(url).content.decode()
            assert not shows_prices(html), url
            assert LOGIN_FOR_PRICES in html, url

    def test_an_approved_buyer_sees_the_tier_table(self, client, product):
        login(client)
        html = client.get(f"/products/{product.slug}/").content.decode()
        assert 'data-testid="tier-table"' in html
        assert all(price in html for price in PRICES)

    def test_staff_see_prices(self, client, product):
        client.force_login(StaffFactory())
        assert shows_prices(client.get(f"/products/{product.slug}/").content.decode())

    def test_a_pending_buyer_after_an_approved_one_gets_no_prices(self, client, product):
        approved = login(client.__class__())
        login(client, status=Distributor.Status.PENDING)
        for url in pages(product):
            assert shows_prices(approved.get(url).content.decode()), url
            assert not shows_prices(client.get(url).content.decode()), url


class TestWhenPricesAreForEveryone:
    def test_a_guest_sees_the_tier_table(self, client, settings, product):
        settings.WHOLESALE_PRICES_VISIBLE_TO = "everyone"
        html = client.get(f"/products/{product.slug}/").content.decode()
        assert 'data-testid="tier-table"' in html
        assert all(price in html for price in PRICES)
        assert LOGIN_FOR_PRICES not in html
        assert "from $3.30" in client.get("/catalog/").content.decode()
