"""Product and category texts translated by editors, shown in the page's language with the
base language (English) as the fallback, field by field."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import CategoryTranslation, Product, ProductTranslation
from catalog.services import product_refresh
from staff.roles import CUSTOMER_SERVICE, EDITOR, FINANCE, SALES
from tests.factories import (
    CategoryFactory,
    CategoryTranslationFactory,
    ProductFactory,
    ProductTranslationFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee():
    shirts = CategoryFactory(name="T-shirts", description="Cotton tees in core colours.")
    CategoryTranslationFactory(
        category=shirts, name="Camisetas", description="Camisetas de algodón."
    )
    product = ProductFactory(
        name="Heavyweight Cotton Tee",
        category=shirts,
        description="Thick cotton that keeps its shape.",
    )
    ProductTranslationFactory(
        product=product,
        name="Camiseta de algodón grueso",
        description="Algodón grueso que mantiene su forma.",
    )
    ProductTranslationFactory(product=product, language="fr", name="T-shirt épais", description="")
    return product


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


class TestTheProductPage:
    def test_shows_the_spanish_name_and_description_in_spanish(self, client, tee):
        page = html(client.get(f"/es/products/{tee.slug}/"))
        assert "Camiseta de algodón grueso" in page
        assert "Algodón grueso que mantiene su forma." in page
        assert "<title>Camiseta de algodón grueso" in page
        assert "Thick cotton that keeps its shape." not in page

    def test_falls_back_to_english_for_a_description_left_empty(self, client, tee):
        page = html(client.get(f"/fr/products/{tee.slug}/"))
        assert "T-shirt épais" in page
        assert "Thick cotton that keeps its shape." in page

    def test_falls_back_to_english_without_a_translation(self, client, tee):
        page = html(client.get(f"/de/products/{tee.slug}/"))
        assert "Heavyweight Cotton Tee" in page and "Camiseta" not in page

    def test_stays_english_in_english(self, client, tee):
        page = html(client.get(f"/products/{tee.slug}/"))
        assert "Heavyweight Cotton Tee" in page
        assert "Camiseta de algodón grueso" not in page

    def test_the_breadcrumb_names_the_category_in_the_language(self, client, tee):
        assert "Camisetas" in html(client.get(f"/es/products/{tee.slug}/"))

    @pytest.mark.usefixtures("warm_layout")
    def test_costs_no_more_queries_than_in_english(self, buyer_client, settings, tee):
        settings.WHOLESALE_PAGE_CACHE_SECONDS = 0

        def count(url):
            buyer_client.get(url)  # the session and the member's cached figures settle
            with CaptureQueriesContext(connection) as queries:
                assert buyer_client.get(url).status_code == 200
            return len(queries)

        assert count(f"/es/products/{tee.slug}/") == count(f"/products/{tee.slug}/")


class TestTheListPages:
    def test_the_list_shows_translated_product_names(self, client, tee):
        other = ProductFactory(name="Canvas Tote Bag")
        page = html(client.get("/es/catalog/"))
        assert "Camiseta de algodón grueso" in page
        assert other.name in page  # no translation: the English name
        assert "Heavyweight Cotton Tee" not in page

    def test_a_category_page_shows_the_category_and_products_translated(self, client, tee):
        category = tee.category
        page = html(client.get(f"/es/catalog/?category={category.slug}"))
        assert "<h1>Camisetas</h1>" in page
        assert "Camisetas de algodón." in page
        assert "Camiseta de algodón grueso" in page

    def test_an_empty_category_name_falls_back_to_english(self, client, tee):
        CategoryTranslation.objects.filter(category=tee.category).update(name="")
        page = html(client.get(f"/es/catalog/?category={tee.category.slug}"))
        assert "<h1>T-shirts</h1>" in page

    def test_the_home_page_shows_translated_names(self, client, tee):
        page = html(client.get("/es/"))
        assert "Camiseta de algodón grueso" in page
        assert "Camisetas" in page

    def test_the_english_pages_keep_the_english_names(self, client, tee):
        page = html(client.get(f"/catalog/?category={tee.category.slug}"))
        assert "Heavyweight Cotton Tee" in page and "<h1>T-shirts</h1>" in page
        assert "Camiseta" not in page

    @pytest.mark.usefixtures("warm_layout")
    def test_the_query_count_does_not_grow_with_the_products(self, client, settings):
        settings.WHOLESALE_PAGE_CACHE_SECONDS = 0
        for n in range(30):
            ProductTranslationFactory(
                product=ProductFactory(name=f"Item {n}"), name=f"Artículo {n}"
            )

        def count(url):
            client.get(url)  # the category tree of that language settles in the cache
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert len(response.context["products"]) == settings.WHOLESALE_PAGE_SIZE
            return len(queries), response.content.decode()

        counts = {}
        for size in (5, 30):
            settings.WHOLESALE_PAGE_SIZE = size
            counts[size], page = count("/es/catalog/")
            assert "Artículo 29" in page  # the newest
            # The translations come in the products' own query: as many as in English.
            assert counts[size] == count("/catalog/")[0]
        assert counts[5] == counts[30]


class TestTheFavoritesPage:
    PAGE = "/account/favorites/"

    @pytest.fixture
    def saved(self, buyer, tee):
        from members.favorites import favorite_add

        blank = ProductFactory(name="Canvas Tote Bag")
        ProductTranslationFactory(product=blank, name="", description="Bolsa.")
        for product in (tee, blank):
            favorite_add(member=buyer, product_id=product.pk)

    @pytest.mark.usefixtures("saved")
    def test_names_the_products_in_the_language_or_else_in_english(self, buyer_client):
        spanish = html(buyer_client.get("/es" + self.PAGE))
        assert "Camiseta de algodón grueso" in spanish and "Heavyweight" not in spanish
        assert "Canvas Tote Bag" in spanish  # its Spanish name was left blank
        english = html(buyer_client.get(self.PAGE))
        assert "Heavyweight Cotton Tee" in english and "Camiseta" not in english

    @pytest.mark.usefixtures("saved", "warm_layout")
    def test_costs_no_more_queries_than_in_english(self, buyer_client):
        def count(url):
            buyer_client.get(url)
            with CaptureQueriesContext(connection) as queries:
                assert buyer_client.get(url).status_code == 200
            return len(queries)

        assert count("/es" + self.PAGE) == count(self.PAGE)


class TestSearch:
    def test_finds_a_product_by_its_translated_name(self, client, tee):
        ProductFactory(name="Canvas Tote Bag")
        for url in ("/es/catalog/?q=camiseta", "/catalog/?q=camiseta"):
            response = client.get(url)
            assert list(response.context["products"]) == [tee], url

    def test_stems_the_words_in_the_page_language(self, client, tee):
        # "camisetas" (plural) is stemmed as Spanish on the Spanish page.
        assert list(client.get("/es/catalog/?q=camisetas").context["products"]) == [tee]

    def test_counts_the_results_of_each_language_apart(self, client, tee):
        # "gruesa" is found only through Spanish stemming ("grueso"); English finds nothing,
        # and its count of none must not stand for the Spanish page's.
        english = client.get("/catalog/?q=gruesa")
        spanish = client.get("/es/catalog/?q=gruesa")
        assert (english.context["count"], list(english.context["products"])) == (0, [])
        assert (spanish.context["count"], list(spanish.context["products"])) == (1, [tee])

    def test_finds_a_translated_description(self, client, tee):
        assert list(client.get("/es/catalog/?q=algodón").context["products"]) == [tee]

    def test_a_changed_translation_is_found_by_its_new_name(self, client, tee):
        translation = ProductTranslation.objects.get(product=tee, language="es")
        translation.name = "Playera pesada"
        translation.save()
        assert list(client.get("/es/catalog/?q=playera").context["products"]) == [tee]
        assert not client.get("/es/catalog/?q=camiseta").context["products"]

    def test_a_deleted_translation_is_no_longer_found(self, client, tee):
        ProductTranslation.objects.filter(product=tee, language="es").get().delete()
        assert not client.get("/catalog/?q=camiseta").context["products"]

    def test_a_product_refresh_keeps_the_translations_in_the_index(self, client, tee):
        product_refresh(product_ids=[tee.pk])
        assert list(client.get("/catalog/?q=camiseta").context["products"]) == [tee]


class TestThePageCache:
    def test_a_translation_edit_shows_at_once(
        self, client, tee, django_capture_on_commit_callbacks
    ):
        url = f"/es/products/{tee.slug}/"
        assert "Camiseta de algodón grueso" in html(client.get(url))
        assert "Camiseta de algodón grueso" in html(client.get(url))  # from the cache
        with django_capture_on_commit_callbacks(execute=True):
            translation = ProductTranslation.objects.get(product=tee, language="es")
            translation.name = "Camiseta pesada"
            translation.save()
        page = html(client.get(url))
        assert "Camiseta pesada" in page and "Camiseta de algodón grueso" not in page

    def test_a_category_translation_edit_shows_at_once(
        self, client, tee, django_capture_on_commit_callbacks
    ):
        url = f"/es/catalog/?category={tee.category.slug}"
        assert "<h1>Camisetas</h1>" in html(client.get(url))
        with django_capture_on_commit_callbacks(execute=True):
            CategoryTranslation.objects.get(category=tee.category).delete()
        assert "<h1>T-shirts</h1>" in html(client.get(url))

    def test_languages_are_cached_apart(self, client, tee):
        assert "Camiseta de algodón grueso" in html(client.get(f"/es/products/{tee.slug}/"))
        assert "T-shirt épais" in html(client.get(f"/fr/products/{tee.slug}/"))
        assert "Heavyweight Cotton Tee" in html(client.get(f"/products/{tee.slug}/"))


def management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


@pytest.fixture
def editor_client(client):
    editor = StaffFactory()
    editor.groups.add(Group.objects.get(name=EDITOR))
    client.force_login(editor)
    return client


class TestTheAdmin:
    def product_form(self, product, **rows):
        tiers = list(product.tiers.order_by("min_quantity"))
        data = {
            "name": product.name,
            "slug": product.slug,
            "category": str(product.category_id),
            "description": product.description,
            "status": product.status,
            "published_at_0": product.published_at.strftime("%Y-%m-%d"),
            "published_at_1": product.published_at.strftime("%H:%M:%S"),
            "option1_name": product.option1_name,
            "moq": str(product.moq),
            "order_increment": str(product.order_increment),
            **management("variants", 0),
            **management("tiers", len(tiers), initial=len(tiers)),
            **management("images", 0),
        }
        for index, tier in enumerate(tiers):
            data |= {
                f"tiers-{index}-id": str(tier.pk),
                f"tiers-{index}-product": str(product.pk),
                f"tiers-{index}-min_quantity": str(tier.min_quantity),
                f"tiers-{index}-unit_price": str(tier.unit_price),
            }
        data |= rows
        return data

    def test_the_editor_sees_the_translation_forms(self, editor_client):
        product = ProductFactory()
        page = html(editor_client.get(f"/admin/catalog/product/{product.pk}/change/"))
        assert 'name="translations-TOTAL_FORMS"' in page
        assert 'name="translations-__prefix__-language"' in page

    def test_the_editor_saves_translations_on_the_product_page(self, editor_client, client):
        product = ProductFactory(name="Canvas Tote Bag", description="Sturdy canvas.")
        response = editor_client.post(
            f"/admin/catalog/product/{product.pk}/change/",
            self.product_form(
                product,
                **management("translations", 2),
                **{
                    "translations-0-language": "es",
                    "translations-0-name": "Bolsa de lona",
                    "translations-0-description": "Lona resistente.",
                    "translations-1-language": "pl",
                    "translations-1-name": "Torba płócienna",
                    "translations-1-description": "",
                },
            ),
        )
        assert response.status_code == 302, response.context and response.context.get("errors")
        assert set(product.translations.values_list("language", "name")) == {
            ("es", "Bolsa de lona"),
            ("pl", "Torba płócienna"),
        }
        client.logout()
        page = html(client.get(f"/es/products/{product.slug}/"))
        assert "Bolsa de lona" in page and "Lona resistente." in page
        assert list(client.get("/pl/catalog/?q=torba").context["products"]) == [product]

    def test_one_translation_per_language(self, editor_client):
        product = ProductFactory()
        response = editor_client.post(
            f"/admin/catalog/product/{product.pk}/change/",
            self.product_form(
                product,
                **management("translations", 2),
                **{
                    "translations-0-language": "es",
                    "translations-0-name": "Uno",
                    "translations-1-language": "es",
                    "translations-1-name": "Dos",
                },
            ),
        )
        assert response.status_code == 200
        assert not ProductTranslation.objects.exists()

    def test_the_base_language_is_not_a_translation(self, editor_client):
        product = ProductFactory()
        response = editor_client.post(
            f"/admin/catalog/product/{product.pk}/change/",
            self.product_form(
                product,
                **management("translations", 1),
                **{"translations-0-language": "en", "translations-0-name": "Other"},
            ),
        )
        assert response.status_code == 200
        assert not ProductTranslation.objects.exists()
        assert Product.objects.get(pk=product.pk).name == product.name

    @pytest.mark.parametrize("role", [FINANCE, SALES, CUSTOMER_SERVICE])
    def test_viewing_roles_see_the_translations_without_forms(self, client, tee, role):
        viewer = StaffFactory()
        viewer.groups.add(Group.objects.get(name=role))
        client.force_login(viewer)
        page = html(client.get(f"/admin/catalog/product/{tee.pk}/change/"))
        assert "Camiseta de algodón grueso" in page
        assert 'name="translations-0-name"' not in page

    def test_the_editor_translates_a_category(self, editor_client, client):
        category = CategoryFactory(name="Bags")
        response = editor_client.post(
            f"/admin/catalog/category/{category.pk}/change/",
            {
                "name": "Bags",
                "slug": category.slug,
                "parent": "",
                "description": "",
                "position": "0",
                "is_active": "on",
                **management("translations", 1),
                "translations-0-language": "de",
                "translations-0-name": "Taschen",
                "translations-0-description": "Tragetaschen und Rucksäcke.",
            },
        )
        assert response.status_code == 302, response.context and response.context.get("errors")
        client.logout()
        page = html(client.get(f"/de/catalog/?category={category.slug}"))
        assert "<h1>Taschen</h1>" in page and "Tragetaschen und Rucksäcke." in page


class TestTheDemoTranslations:
    def test_seed_demo_translates_categories_and_products_once(self, client):
        from catalog.translations_demo import LANGUAGES, translations_seed_demo

        shirts = CategoryFactory(name="T-shirts", slug="t-shirts")
        tee = ProductFactory(name="Heavyweight Cotton Tee", category=shirts)
        ProductFactory(name="Not In The Demo", category=shirts)

        assert translations_seed_demo() == 2 * len(LANGUAGES)
        assert translations_seed_demo() == 0
        assert set(tee.translations.values_list("language", flat=True)) == set(LANGUAGES)
        page = html(client.get("/ru/catalog/?category=t-shirts"))
        assert "<h1>Футболки</h1>" in page
        assert "Плотная хлопковая футболка" in page and "Not In The Demo" in page
        assert list(client.get("/ru/catalog/?q=футболка").context["products"]) == [tee]
