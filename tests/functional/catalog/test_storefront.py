from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product, ProductView, SearchLog, Variant
from catalog.services import catalog_events_flush, product_refresh, stock_take
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf():
    """Two categories in a tree, products in each."""
    apparel = CategoryFactory(name="Apparel")
    shirts = CategoryFactory(name="T-shirts", parent=apparel)
    bags = CategoryFactory(name="Bags")
    products = [ProductFactory(category=shirts, name=f"Cotton Tee {n}") for n in range(3)]
    products += [ProductFactory(category=bags, name=f"Canvas Tote {n}") for n in range(2)]
    return {"apparel": apparel, "shirts": shirts, "bags": bags, "products": products}


class TestTheCatalogList:
    def test_lists_published_products_only(self, client, shelf):
        ProductFactory(name="Secret draft", status=Product.Status.DRAFT, published_at=None)
        ProductFactory(name="Next week", published_at=timezone.now() + timedelta(days=7))
        html = client.get("/catalog/").content.decode()
        assert "Cotton Tee 0" in html and "Canvas Tote 1" in html
        assert "Secret draft" not in html and "Next week" not in html

    def test_filters_by_category_including_subcategories(self, client, shelf):
        html = client.get("/catalog/?category=apparel").content.decode()
        assert "Cotton Tee 2" in html
        assert "Canvas Tote" not in html

    def test_sorts_by_price(self, client, shelf):
        cheap = ProductFactory(name="Cheap Socks", tiers=[(1, "0.90")])
        response = client.get("/catalog/?sort=price")
        assert response.context["products"][0] == cheap

    def test_sorts_by_best_selling(self, client, shelf):
        Product.objects.filter(pk=shelf["products"][3].pk).update(units_sold=999)
        response = client.get("/catalog/?sort=best")
        assert response.context["products"][0] == shelf["products"][3]

    def test_paginates(self, client, settings, shelf):
        settings.WHOLESALE_PAGE_SIZE = 2
        first = client.get("/catalog/")
        third = client.get("/catalog/?page=3")
        assert len(first.context["products"]) == 2
        assert len(third.context["products"]) == 1

    @pytest.mark.parametrize(
        "query",
        [
            "?category=no-such-category",
            "?page=999",
            "?page=0",
            "?page=-1",
            "?page=abc",
            "?page=99999999999999999999999",
            "?page=1.5",
        ],
    )
    def test_unknown_category_or_page_is_a_404(self, client, shelf, query):
        assert client.get(f"/catalog/{query}").status_code == 404

    def test_an_unknown_sort_falls_back_to_newest(self, client, shelf):
        response = client.get("/catalog/?sort=;drop table")
        assert response.status_code == 200
        assert response.context["sort"] == "newest"

    @pytest.mark.usefixtures("warm_layout")
    def test_query_count_does_not_grow_with_the_page(
        self, client, settings, django_assert_max_num_queries
    ):
        settings.WHOLESALE_PAGE_CACHE_SECONDS = 0
        for n in range(30):
            ProductFactory(name=f"Item {n}")
        for size in (5, 30):
            settings.WHOLESALE_PAGE_SIZE = size
            with django_assert_max_num_queries(5):  # + the cards' rating summaries
                response = client.get("/catalog/")
            assert len(response.context["products"]) == size


class TestSearch:
    def test_finds_by_name_stem_and_sku(self, client, shelf):
        variant = Variant.objects.filter(product=shelf["products"][4]).first()
        Variant.objects.filter(pk=variant.pk).update(sku="TOTE-XJ-77")
        product_refresh(product_ids=[shelf["products"][4].pk])
        by_name = client.get("/catalog/?q=tees").content.decode()
        assert "Cotton Tee 0" in by_name and "Canvas Tote" not in by_name
        by_sku = client.get("/catalog/?q=TOTE-XJ-77")
        assert list(by_sku.context["products"]) == [shelf["products"][4]]

    def test_no_results_says_so(self, client, shelf):
        response = client.get("/catalog/?q=zeppelin")
        assert response.status_code == 200
        assert "No products match your search" in response.content.decode()

    def test_records_each_search_with_its_result_count(self, client, shelf):
        client.get("/catalog/?q=  Cotton   Tee ")
        catalog_events_flush()
        log = SearchLog.objects.get()
        assert (log.term, log.results) == ("cotton tee", 3)

    @pytest.mark.parametrize(
        "term",
        ["x" * 5000, "<script>alert(1)</script>", "'\"); --", "a & | ! ( :*", "\x00bad", "🙂"],
    )
    def test_odd_queries_never_fail(self, client, shelf, term):
        response = client.get("/catalog/", {"q": term})
        assert response.status_code in (200, 400)
        assert "<script>alert(1)</script>" not in response.content.decode()

    @pytest.mark.usefixtures("warm_layout")
    def test_query_count_is_fixed(self, client, settings, django_assert_max_num_queries):
        settings.WHOLESALE_PAGE_CACHE_SECONDS = 0
        for n in range(12):
            ProductFactory(name=f"Linen Shirt {n}")
        with django_assert_max_num_queries(5):
            response = client.get("/catalog/?q=shirt")
        assert response.context["count"] == 12


class TestTheProductPage:
    def test_shows_the_tier_table_to_a_buyer(self, buyer_client, shelf):
        product = shelf["products"][0]
        html = buyer_client.get(product.get_absolute_url()).content.decode()
        assert "1–9" in html and "10–49" in html and "50+" in html
        assert "$4.20" in html and "$3.80" in html and "$3.30" in html
        assert "Minimum order" in html

    def test_guests_are_asked_to_log_in_for_prices(self, client, shelf):
        html = client.get(shelf["products"][0].get_absolute_url()).content.decode()
        assert "Log in to see wholesale prices" in html
        assert "$4.20" not in html

    def test_shows_stock_and_lead_time(self, client):
        made = ProductFactory(made_to_order=True, lead_time_days=21)
        gone = ProductFactory()
        Variant.objects.filter(product=gone).update(stock=0)
        assert "ships 21 days" in client.get(made.get_absolute_url()).content.decode()
        assert "Out of stock" in client.get(gone.get_absolute_url()).content.decode()

    def test_drafts_and_unknown_slugs_are_404(self, client):
        draft = ProductFactory(status=Product.Status.DRAFT, published_at=None)
        assert client.get(draft.get_absolute_url()).status_code == 404
        assert client.get("/products/nope/").status_code == 404

    def test_records_a_view_even_from_the_cache(self, client, shelf):
        url = shelf["products"][0].get_absolute_url()
        client.get(url)
        client.get(url)
        catalog_events_flush()
        assert ProductView.objects.filter(product=shelf["products"][0]).count() == 2

    @pytest.mark.usefixtures("warm_layout")
    def test_query_count_is_fixed(self, buyer_client, settings, django_assert_max_num_queries):
        settings.WHOLESALE_PAGE_CACHE_SECONDS = 0
        few = ProductFactory(variants=["S"])
        many = ProductFactory(variants=[f"S{n}" for n in range(25)])
        for product in (few, many):
            # session + user, product, variants, tiers, images, the view row, the reviews
            # (with their summary) and the member's "Write a review" check
            with django_assert_max_num_queries(10):
                assert buyer_client.get(product.get_absolute_url()).status_code == 200


class TestTheHomePage:
    def test_shows_new_arrivals_and_categories(self, client, shelf):
        old = ProductFactory(name="Old Classic", published_at=timezone.now() - timedelta(days=90))
        response = client.get("/")
        html = response.content.decode()
        assert "Cotton Tee 0" in html
        assert "Apparel" in html
        assert old.name in html  # among the best sellers, not the new arrivals

    @pytest.mark.usefixtures("warm_layout")
    def test_query_count_is_fixed(self, client, settings, django_assert_max_num_queries):
        settings.WHOLESALE_PAGE_CACHE_SECONDS = 0
        for n in range(20):
            ProductFactory(name=f"Thing {n}")
        with django_assert_max_num_queries(7):  # + rating summaries of the two card rows
            assert client.get("/").status_code == 200


class TestThePageCache:
    def test_a_warm_page_makes_no_catalog_queries(
        self, client, shelf, django_assert_max_num_queries
    ):
        client.get("/catalog/")
        with django_assert_max_num_queries(0):
            assert client.get("/catalog/").status_code == 200

    def test_a_product_change_shows_at_once(
        self, client, shelf, django_capture_on_commit_callbacks
    ):
        product = shelf["products"][0]
        assert "Cotton Tee 0" in client.get("/catalog/").content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            product.name = "Renamed Tee"
            product.save()
        html = client.get("/catalog/").content.decode()
        assert "Renamed Tee" in html and "Cotton Tee 0" not in html

    def test_keys_on_the_query(self, client, shelf):
        client.get("/catalog/?category=bags")
        html = client.get("/catalog/?category=apparel").content.decode()
        assert "Canvas Tote" not in html


class TestWithTheCacheDown:
    def test_the_storefront_still_serves(self, client, settings, shelf):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"socket_connect_timeout": 0.2},
            }
        }
        product = shelf["products"][0]
        for url in ("/", "/catalog/", "/catalog/?q=tote", product.get_absolute_url()):
            assert client.get(url).status_code == 200, url


class TestPictures:
    def test_cards_and_product_page_use_renditions_with_srcset_and_lazy_loading(
        self, client, settings, tmp_path
    ):
        import io

        from django.core.files.uploadedfile import SimpleUploadedFile
        from PIL import Image

        from catalog.images import product_image_add

        settings.MEDIA_ROOT = tmp_path
        product = ProductFactory(name="Pictured Tee")
        for colour in ("red", "blue"):
            buffer = io.BytesIO()
            Image.new("RGB", (1600, 1200), colour).save(buffer, "JPEG")
            product_image_add(
                product=product,
                upload=SimpleUploadedFile("tee.jpg", buffer.getvalue(), "image/jpeg"),
            )

        listing = client.get("/catalog/").content.decode()
        page = client.get(product.get_absolute_url()).content.decode()

        for html in (listing, page):
            assert 'type="image/webp"' in html
            assert ".webp 240w" in html and ".jpg 640w" in html
            assert 'loading="lazy"' in html
            assert 'alt="Pictured Tee"' in html
        assert 'loading="eager"' in page  # the main picture is above the fold


class TestTheWholePageCache:
    def test_a_plain_guest_gets_the_whole_page_from_the_cache(
        self, client, shelf, django_assert_num_queries
    ):
        first = client.get("/catalog/?category=bags")
        with django_assert_num_queries(0):
            second = client.get("/catalog/?category=bags")
        assert second.content == first.content
        assert "Cookie" in second["Vary"]

    def test_a_buyer_after_a_guest_gets_their_own_header_and_prices(
        self, client, buyer_client, shelf
    ):
        client.get("/catalog/")
        html = buyer_client.get("/catalog/").content.decode()
        assert "My account" in html and "Log out" in html
        assert "$3.30" in html

    def test_a_guest_with_messages_is_not_served_someone_elses_page(self, client, shelf):
        from django.contrib.messages.storage.cookie import CookieStorage

        client.get("/catalog/")
        client.cookies[CookieStorage.cookie_name] = "pending"
        response = client.get("/catalog/")
        assert response.status_code == 200
        assert response.context is not None  # rendered, not replayed from the cache


class TestStockAndTheCache:
    def test_an_order_refreshes_that_product_page_only(
        self, client, shelf, django_assert_num_queries, django_capture_on_commit_callbacks
    ):
        sold, other = shelf["products"][0], shelf["products"][1]
        for url in ("/catalog/", sold.get_absolute_url(), other.get_absolute_url()):
            client.get(url)
        variant = sold.variants.order_by("position").first()
        with django_capture_on_commit_callbacks(execute=True):
            stock_take(quantities={variant.pk: 7}, reason="order", reference="order:T1")
        # The list and the other product are still served whole from the cache ...
        with django_assert_num_queries(0):
            client.get("/catalog/")
            client.get(other.get_absolute_url())
        # ... and the product sold is rendered again, with its stock now.
        html = client.get(sold.get_absolute_url()).content.decode()
        assert "93 in stock" in html


class TestEscaping:
    def test_script_in_names_and_categories_is_escaped_everywhere(self, client, buyer_client):
        nasty = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
        category = CategoryFactory(name=nasty, slug="nasty")
        product = ProductFactory(name=nasty, slug="nasty-product", category=category)
        for c in (client, buyer_client):
            for url in ("/", "/catalog/", "/catalog/?category=nasty", product.get_absolute_url()):
                html = c.get(url).content.decode()
                assert "<script>alert(1)" not in html, url
                assert "<img src=x" not in html, url
                assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
