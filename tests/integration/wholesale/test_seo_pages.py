"""Titles, descriptions, canonical links, hreflang alternates and Open Graph tags of the public
pages, per language, fresh and from the page cache."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.images import product_image_add
from catalog.models import CategoryTranslation, ProductTranslation
from staff.models import CompanyPage
from tests.factories import CategoryFactory, ProductFactory
from wholesale import seo

from .seo_helpers import head_of

pytestmark = pytest.mark.django_db

SITE = "https://shop.example"
HREFLANGS = {"en", "es", "fr", "de", "ru", "pl", "pt-BR", "x-default"}
PREFIXES = {"en": "", "es": "/es", "fr": "/fr", "de": "/de", "ru": "/ru", "pl": "/pl"}
PREFIXES |= {"pt-BR": "/pt-br", "x-default": ""}


@pytest.fixture(autouse=True)
def _site(settings, tmp_path):
    settings.WHOLESALE_SITE_URL = SITE + "/"
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def tee():
    category = CategoryFactory(name="T-shirts", description="Plain tees for printing.")
    product = ProductFactory(
        name="Heavy Cotton Tee",
        slug="heavy-cotton-tee",
        category=category,
        description="Heavy cotton,   pre-shrunk.\n\n" + "Twelve colours. " * 20,
        moq=10,
    )
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 1200), "red").save(buffer, "JPEG")
    image = product_image_add(
        product=product, upload=SimpleUploadedFile("tee.jpg", buffer.getvalue(), "image/jpeg")
    )
    ProductTranslation.objects.create(
        product=product, language="es", name="Camiseta de algodón grueso", description=""
    )
    CategoryTranslation.objects.create(category=category, language="es", name="Camisetas")
    return {"product": product, "image": image}


def _expected_alternates(path):
    return {code: f"{SITE}{prefix}{path}" for code, prefix in PREFIXES.items()}


class TestAProductPage:
    def test_in_english_names_the_product_and_its_category_and_links_every_language(
        self, client, tee
    ):
        head = head_of(client.get("/products/heavy-cotton-tee/"))

        assert head.title == "Heavy Cotton Tee · T-shirts · Wholesale"
        description = head.one("description")
        assert description.startswith("Heavy cotton, pre-shrunk. Twelve colours.")
        assert len(description) <= seo.DESCRIPTION_LENGTH and description.endswith("…")
        assert head.canonical == [f"{SITE}/products/heavy-cotton-tee/"]
        assert head.alternate_count == 8
        assert head.alternates == _expected_alternates("/products/heavy-cotton-tee/")

    def test_in_english_carries_open_graph_tags_with_absolute_urls(self, client, tee):
        head = head_of(client.get("/products/heavy-cotton-tee/"))

        assert head.one("og:type") == "product"
        assert head.one("og:title") == "Heavy Cotton Tee · T-shirts"
        assert head.one("og:description") == head.one("description")
        assert head.one("og:url") == f"{SITE}/products/heavy-cotton-tee/"
        large = tee["image"].renditions["large"]["jpeg"]
        assert head.one("og:image") == f"{SITE}/media/{large}"
        assert head.one("og:locale") == "en_US"
        assert sorted(head.meta["og:locale:alternate"]) == sorted(
            ["es_ES", "fr_FR", "de_DE", "ru_RU", "pl_PL", "pt_BR"]
        )
        assert head.one("og:site_name") == "Wholesale"

    def test_in_spanish_is_named_in_spanish_with_its_own_canonical_and_locale(self, client, tee):
        response = client.get("/es/products/heavy-cotton-tee/")
        head = head_of(response)

        assert '<html lang="es">' in response.content.decode()
        assert head.title.startswith("Camiseta de algodón grueso · Camisetas")
        # No Spanish description: the English one, as the page shows it.
        assert head.one("description").startswith("Heavy cotton, pre-shrunk.")
        assert head.canonical == [f"{SITE}/es/products/heavy-cotton-tee/"]
        assert head.alternates == _expected_alternates("/products/heavy-cotton-tee/")
        assert head.one("og:url") == f"{SITE}/es/products/heavy-cotton-tee/"
        assert head.one("og:locale") == "es_ES"
        assert "en_US" in head.meta["og:locale:alternate"]
        assert "es_ES" not in head.meta["og:locale:alternate"]
        assert head.one("og:image").startswith(f"{SITE}/media/products/")

    def test_drops_tracking_and_sort_parameters_from_its_canonical(self, client, tee):
        head = head_of(
            client.get("/es/products/heavy-cotton-tee/?utm_source=mail&gclid=abc&sort=price")
        )
        assert head.canonical == [f"{SITE}/es/products/heavy-cotton-tee/"]
        assert head.alternates["x-default"] == f"{SITE}/products/heavy-cotton-tee/"

    def test_keeps_no_list_parameters_in_its_canonical(self, client, tee):
        # category, q and page select what a list shows; a product page shows the same
        # product whatever they say.
        head = head_of(client.get("/es/products/heavy-cotton-tee/?page=7&q=junk&category=x"))
        assert head.canonical == [f"{SITE}/es/products/heavy-cotton-tee/"]
        assert head.alternates == _expected_alternates("/products/heavy-cotton-tee/")

    def test_shows_the_price_from_in_its_description_to_those_who_see_prices(
        self, client, settings, tee
    ):
        settings.WHOLESALE_PRICES_VISIBLE_TO = "everyone"
        head = head_of(client.get("/products/heavy-cotton-tee/"))
        assert head.one("description").startswith("From $3.30, minimum order 10 units.")

    def test_hides_the_price_from_guests_when_prices_are_for_members(self, client, tee):
        head = head_of(client.get("/products/heavy-cotton-tee/"))
        assert "$" not in head.one("description")

    def test_without_a_description_says_what_and_how_many(self, client):
        ProductFactory(name="Canvas Tote", slug="canvas-tote", description="", moq=50)
        head = head_of(client.get("/products/canvas-tote/"))
        assert head.one("description") == (
            "Canvas Tote, wholesale direct from the factory. Minimum order: 50 units."
        )
        assert "og:image" not in head.meta


class TestThePageCache:
    def test_serves_each_language_its_own_tags_from_the_cache(self, client, tee):
        fresh_en = client.get("/products/heavy-cotton-tee/")
        fresh_es = client.get("/es/products/heavy-cotton-tee/")
        cached_en = client.get("/products/heavy-cotton-tee/")
        cached_es = client.get("/es/products/heavy-cotton-tee/")

        assert cached_en.context is None and cached_es.context is None  # replayed, not rendered
        assert cached_en.content == fresh_en.content
        assert cached_es.content == fresh_es.content
        assert head_of(cached_en).canonical == [f"{SITE}/products/heavy-cotton-tee/"]
        assert head_of(cached_es).canonical == [f"{SITE}/es/products/heavy-cotton-tee/"]
        assert head_of(cached_es).one("og:locale") == "es_ES"
        assert head_of(cached_es).title.startswith("Camiseta de algodón grueso")

    def test_a_member_gets_the_cached_main_column_with_tags_of_the_language(
        self, client, buyer_client, tee
    ):
        client.get("/es/products/heavy-cotton-tee/")  # warms the shared fragment
        head = head_of(buyer_client.get("/es/products/heavy-cotton-tee/"))
        assert head.canonical == [f"{SITE}/es/products/heavy-cotton-tee/"]
        assert head.title.startswith("Camiseta de algodón grueso · Camisetas")
        assert head.one("og:type") == "product"

    def test_a_cached_page_with_tracking_tags_keeps_a_clean_canonical(self, client, tee):
        url = "/catalog/?category=t-shirts&utm_campaign=spring&page=1"
        client.get(url)
        cached = client.get(url)
        assert cached.context is None
        assert head_of(cached).canonical == [f"{SITE}/catalog/?category=t-shirts"]


class TestTheCatalogPages:
    def test_the_home_page_gives_the_shops_pitch_in_the_pages_language(self, client):
        english = head_of(client.get("/"))
        spanish = head_of(client.get("/es/"))

        assert english.title == "Wholesale direct from the factory · Wholesale"
        assert english.one("description").startswith("Order wholesale direct from the factory")
        assert english.canonical == [f"{SITE}/"]
        assert english.alternates == _expected_alternates("/")
        assert spanish.canonical == [f"{SITE}/es/"]
        assert spanish.title != english.title  # the interface's Spanish catalog
        assert english.one("og:type") == "website"

    def test_a_category_page_has_its_name_and_description(self, client, tee):
        head = head_of(client.get("/catalog/?category=t-shirts&sort=price"))
        assert head.title == "T-shirts · Wholesale"
        assert head.one("description") == "Plain tees for printing."
        assert head.canonical == [f"{SITE}/catalog/?category=t-shirts"]
        assert head.alternates["es"] == f"{SITE}/es/catalog/?category=t-shirts"
        assert "robots" not in head.meta

    def test_a_category_page_in_spanish_is_named_in_spanish(self, client, tee):
        head = head_of(client.get("/es/catalog/?category=t-shirts"))
        assert head.title.startswith("Camisetas")
        assert head.canonical == [f"{SITE}/es/catalog/?category=t-shirts"]

    def test_a_later_page_of_the_list_keeps_its_number_in_title_and_canonical(
        self, client, settings
    ):
        settings.WHOLESALE_PAGE_SIZE = 1
        ProductFactory.create_batch(3)
        head = head_of(client.get("/catalog/?page=2&sort=newest"))
        assert head.title.startswith("All products, page 2")
        assert head.canonical == [f"{SITE}/catalog/?page=2"]
        assert head.alternates["pl"] == f"{SITE}/pl/catalog/?page=2"
        assert "3 products" in head.one("description")

    def test_the_home_page_canonical_ignores_list_parameters(self, client):
        assert head_of(client.get("/?category=bags&page=3")).canonical == [f"{SITE}/"]

    def test_a_list_canonical_names_what_the_page_lists_as_it_understood_it(self, client, tee):
        head = head_of(client.get("/catalog/?q=%20%20cotton%20&page=01&category=t-shirts"))
        assert head.canonical == [f"{SITE}/catalog/?category=t-shirts&q=cotton"]
        assert head.alternates["es"] == f"{SITE}/es/catalog/?category=t-shirts&q=cotton"

    def test_search_results_are_described_but_not_for_indexing(self, client, tee):
        head = head_of(client.get("/catalog/?q=cotton&utm_source=x"))
        assert head.title.startswith("Search: cotton")
        assert head.one("description") == "1 product found for “cotton”."
        assert head.one("robots") == "noindex, follow"
        assert head.canonical == [f"{SITE}/catalog/?q=cotton"]


class TestTheCompanyPages:
    def test_a_company_page_has_its_title_summary_and_alternates(self, client):
        CompanyPage.objects.create(
            slug="factory", title="Our factory", summary="Forty machines.", is_published=True
        )
        head = head_of(client.get("/de/company/factory/"))
        assert head.title == "Our factory · Wholesale"
        assert head.one("description") == "Forty machines."
        assert head.one("og:title") == "Our factory"
        assert head.one("og:locale") == "de_DE"
        assert head.canonical == [f"{SITE}/de/company/factory/"]
        assert head.alternates == _expected_alternates("/company/factory/")

    def test_the_company_index_and_the_contact_page_are_described(self, client):
        for path in ("/company/", "/contact/"):
            head = head_of(client.get(path))
            assert head.one("description"), path
            assert head.one("og:title"), path
            assert head.canonical == [f"{SITE}{path}"], path
            assert set(head.alternates) == HREFLANGS, path


class TestPrivatePages:
    def test_a_buyers_own_pages_carry_no_canonical_or_alternates(self, buyer_client):
        for path in ("/es/cart/", "/account/"):
            head = head_of(buyer_client.get(path))
            assert head.canonical == [] and head.alternates == {}, path
            assert "og:url" not in head.meta, path

    def test_the_login_page_carries_none_either(self, client):
        head = head_of(client.get("/de/accounts/login/"))
        assert head.canonical == [] and head.alternates == {}
