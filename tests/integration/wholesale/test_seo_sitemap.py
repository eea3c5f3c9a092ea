"""sitemap.xml (an index of paged sections, every URL in every language with its alternates)
and robots.txt."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product
from staff.models import CompanyPage
from tests.factories import CategoryFactory, ProductFactory
from wholesale import sitemaps

from .seo_helpers import sitemap_index_locations, sitemap_urls

pytestmark = pytest.mark.django_db

SITE = "https://shop.example"
LANGUAGES = ["en", "es", "fr", "de", "ru", "pl", "pt-br"]
PREFIXES = {"en": "", "es": "/es", "fr": "/fr", "de": "/de", "ru": "/ru", "pl": "/pl"}
PREFIXES |= {"pt-br": "/pt-br"}


@pytest.fixture(autouse=True)
def _site(settings):
    settings.WHOLESALE_SITE_URL = SITE


def _every_language(path):
    return {f"{SITE}{prefix}{path}" for prefix in PREFIXES.values()}


class TestTheProductsSitemap:
    def test_lists_each_published_product_in_every_language_with_its_alternates(self, client):
        product = ProductFactory(slug="canvas-tote")
        urls = sitemap_urls(client.get("/sitemap-products.xml"))

        assert set(urls) == _every_language("/products/canvas-tote/")
        spanish = urls[f"{SITE}/es/products/canvas-tote/"]
        assert spanish["alternates"] == {
            **{code: f"{SITE}{prefix}/products/canvas-tote/" for code, prefix in PREFIXES.items()},
            "x-default": f"{SITE}/products/canvas-tote/",
        }
        assert spanish["lastmod"] == product.updated_at.date().isoformat()

    def test_leaves_out_drafts_and_products_not_yet_published(self, client):
        ProductFactory(slug="on-sale")
        ProductFactory(slug="a-draft", status=Product.Status.DRAFT, published_at=None)
        ProductFactory(slug="next-week", published_at=timezone.now() + timedelta(days=7))

        locations = "\n".join(sitemap_urls(client.get("/sitemap-products.xml")))
        assert "/products/on-sale/" in locations
        assert "a-draft" not in locations and "next-week" not in locations

    def test_pages_through_many_products_a_page_at_a_time(
        self, client, monkeypatch, django_assert_max_num_queries
    ):
        monkeypatch.setattr(sitemaps, "PRODUCTS_PER_PAGE", 2)
        products = [ProductFactory(slug=f"tee-{n}") for n in range(5)]

        with django_assert_max_num_queries(2):  # a count and one page of rows
            second = sitemap_urls(client.get("/sitemap-products.xml?p=2"))
        third = sitemap_urls(client.get("/sitemap-products.xml?p=3"))

        assert set(second) == _every_language(f"/products/{products[2].slug}/") | _every_language(
            f"/products/{products[3].slug}/"
        )
        assert set(third) == _every_language(f"/products/{products[4].slug}/")
        assert client.get("/sitemap-products.xml?p=4").status_code == 404
        assert client.get("/sitemap-products.xml?p=x").status_code == 404


class TestTheOtherSections:
    def test_the_pages_section_holds_the_home_catalog_and_company_pages_in_every_language(
        self, client
    ):
        urls = sitemap_urls(client.get("/sitemap-pages.xml"))
        expected = set()
        for path in ("/", "/catalog/", "/company/", "/contact/"):
            expected |= _every_language(path)
        assert set(urls) == expected
        assert urls[f"{SITE}/pt-br/"]["alternates"]["x-default"] == f"{SITE}/"

    def test_the_categories_section_holds_active_categories_only(self, client):
        CategoryFactory(name="Bags")
        CategoryFactory(name="Old stock", is_active=False)
        urls = sitemap_urls(client.get("/sitemap-categories.xml"))
        assert set(urls) == _every_language("/catalog/?category=bags")

    def test_the_company_section_holds_published_pages_only(self, client):
        CompanyPage.objects.create(slug="about", title="About us", is_published=True)
        CompanyPage.objects.create(slug="draft", title="Draft", is_published=False)
        urls = sitemap_urls(client.get("/sitemap-company.xml"))
        assert set(urls) == _every_language("/company/about/")
        assert urls[f"{SITE}/ru/company/about/"]["lastmod"]

    def test_an_unknown_section_is_not_found(self, client):
        assert client.get("/sitemap-orders.xml").status_code == 404

    def test_no_buyers_own_page_is_listed(self, client):
        ProductFactory()
        CategoryFactory(name="Bags")
        for section in sitemaps.SECTIONS:
            for location in sitemap_urls(client.get(f"/sitemap-{section}.xml")):
                path = location.removeprefix(SITE)
                assert not any(
                    part in path for part in ("/account", "/cart/", "/checkout/", "/payments/")
                )


class TestTheSitemapIndex:
    def test_points_to_every_section_and_each_page_of_the_products(
        self, client, monkeypatch, django_assert_max_num_queries
    ):
        monkeypatch.setattr(sitemaps, "PRODUCTS_PER_PAGE", 2)
        for n in range(3):
            ProductFactory(slug=f"tee-{n}")

        # Counts and latest changes, never the products themselves: as cheap for 20,000.
        with django_assert_max_num_queries(5):
            response = client.get("/sitemap.xml")

        assert response["Content-Type"] == "application/xml"
        assert sitemap_index_locations(response) == [
            f"{SITE}/sitemap-pages.xml",
            f"{SITE}/sitemap-categories.xml",
            f"{SITE}/sitemap-products.xml",
            f"{SITE}/sitemap-products.xml?p=2",
            f"{SITE}/sitemap-company.xml",
        ]
        assert "<lastmod>" in response.content.decode()  # the products' latest change

    def test_uses_the_requests_host_without_a_configured_address(self, client, settings):
        settings.WHOLESALE_SITE_URL = ""
        ProductFactory(slug="tee")
        locations = sitemap_index_locations(client.get("/sitemap.xml"))
        assert locations[0] == "http://testserver/sitemap-pages.xml"
        urls = sitemap_urls(client.get("/sitemap-products.xml"))
        assert "http://testserver/es/products/tee/" in urls


class TestRobotsTxt:
    def test_allows_the_shop_and_keeps_crawlers_out_of_private_pages_in_every_language(
        self, client
    ):
        response = client.get("/robots.txt")

        assert response["Content-Type"] == "text/plain; charset=utf-8"
        lines = response.content.decode().splitlines()
        assert lines[0] == "User-agent: *"
        assert lines[-2] == "Allow: /"
        for path in ("/admin/", "/analytics/"):
            assert f"Disallow: {path}" in lines
        for prefix in PREFIXES.values():
            for path in ("account/", "accounts/", "cart/", "checkout/", "payments/"):
                assert f"Disallow: {prefix}/{path}" in lines
        assert "Disallow: /catalog/" not in lines and "Disallow: /products/" not in lines
        assert lines[-1] == f"Sitemap: {SITE}/sitemap.xml"

    def test_a_crawler_may_fetch_every_public_page_and_none_of_the_private_ones(self, client):
        from urllib.robotparser import RobotFileParser

        parser = RobotFileParser()
        parser.parse(client.get("/robots.txt").content.decode().splitlines())
        for path in ("/", "/catalog/?category=bags", "/es/products/tee/", "/de/company/about/"):
            assert parser.can_fetch("Googlebot", SITE + path), path
        for path in ("/admin/", "/es/cart/", "/pt-br/checkout/", "/account/orders/", "/accounts/"):
            assert not parser.can_fetch("Googlebot", SITE + path), path
