"""Favorites (the wishlist) over HTTP: saving and removing (idempotent, PRG, `next` checked),
the favorites page (own favorites only, withdrawn products marked, pinned query count), the
private ids endpoint behind the catalog's "♥ Saved" marks, the "♡ Save" buttons in cached
catalog pages that stay shared, and "add all to cart" (MOQ in whole packs, what could not be
added named). Bad input: unknown or unpublished product ids are a 404 and change nothing."""

import json
import re

import pytest
from django.test import Client

from catalog.services import product_unpublish, stock_set
from members.favorites import favorite_add, favorite_product_ids
from members.models import Distributor, Favorite
from orders.models import CartLine
from orders.services import cart_add_lines
from tests.factories import DistributorFactory, ProductFactory

pytestmark = pytest.mark.django_db

PAGE = "/account/favorites/"
IDS = "/account/favorites/ids.json"
ADD_ALL = "/cart/add-favorites/"


def add_url(product_id) -> str:
    return f"/account/favorites/{product_id}/add/"


def remove_url(product_id) -> str:
    return f"/account/favorites/{product_id}/remove/"


def saved(member) -> list[int]:
    return sorted(Favorite.objects.filter(member=member).values_list("product_id", flat=True))


def cart_of(member) -> dict[str, int]:
    return dict(
        CartLine.objects.filter(cart__member=member).values_list("variant__sku", "quantity")
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def missing_product_id() -> int:
    return ProductFactory().pk + 10_000


class TestSavingAndRemoving:
    def test_saving_twice_keeps_one_favorite_and_goes_back(self, buyer_client, buyer):
        product = ProductFactory()
        first = buyer_client.post(add_url(product.pk), {"next": "/catalog/?page=2"})
        assert first.status_code == 302 and first.url == "/catalog/?page=2"
        again = buyer_client.post(add_url(product.pk), {"next": "/catalog/"}, follow=True)
        assert saved(buyer) == [product.pk]
        assert f"{product.name} was already in your favorites." in messages_of(again)

    def test_removing_twice_is_no_error(self, buyer_client, buyer):
        product = ProductFactory()
        favorite_add(member=buyer, product_id=product.pk)
        first = buyer_client.post(remove_url(product.pk))
        assert first.status_code == 302 and first.url == PAGE
        again = buyer_client.post(remove_url(product.pk), follow=True)
        assert again.status_code == 200
        assert saved(buyer) == []
        assert "That product was not in your favorites." in messages_of(again)

    def test_next_to_another_site_goes_to_the_product_instead(self, buyer_client):
        product = ProductFactory()
        for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
            response = buyer_client.post(add_url(product.pk), {"next": target})
            assert response.url == product.get_absolute_url()
            response = buyer_client.post(remove_url(product.pk), {"next": target})
            assert response.url == PAGE

    def test_a_get_only_asks_to_confirm(self, buyer_client, buyer):
        product = ProductFactory()
        response = buyer_client.get(add_url(product.pk), {"next": "/catalog/"})
        html = response.content.decode()
        assert response.status_code == 200
        assert f"Save {product.name} to your favorites?" in html
        assert 'method="post"' in html and 'value="/catalog/"' in html
        assert saved(buyer) == []

    def test_the_confirmation_says_when_it_is_saved_already(self, buyer_client, buyer):
        product = ProductFactory()
        favorite_add(member=buyer, product_id=product.pk)
        html = buyer_client.get(add_url(product.pk)).content.decode()
        assert f"{product.name} is already in your favorites." in html

    def test_an_unknown_product_is_a_404_and_changes_nothing(self, buyer_client, buyer):
        kept = ProductFactory()
        favorite_add(member=buyer, product_id=kept.pk)
        unknown = missing_product_id()
        assert buyer_client.post(add_url(unknown)).status_code == 404
        assert buyer_client.get(add_url(unknown)).status_code == 404
        assert buyer_client.post(remove_url(unknown)).status_code == 404
        assert saved(buyer) == [kept.pk]

    def test_a_product_not_on_sale_cannot_be_saved(self, buyer_client, buyer):
        draft = ProductFactory(status="draft", published_at=None)
        assert buyer_client.post(add_url(draft.pk)).status_code == 404
        assert saved(buyer) == []

    def test_a_withdrawn_favorite_can_still_be_removed(self, buyer_client, buyer):
        product = ProductFactory()
        favorite_add(member=buyer, product_id=product.pk)
        product_unpublish(product_ids=[product.pk])
        assert buyer_client.post(remove_url(product.pk)).status_code == 302
        assert saved(buyer) == []

    def test_a_guest_is_sent_to_log_in_and_nothing_is_saved(self, client):
        product = ProductFactory()
        for response in (
            client.get(PAGE),
            client.get(add_url(product.pk)),
            client.post(add_url(product.pk)),
            client.post(remove_url(product.pk)),
            client.post(ADD_ALL),
        ):
            assert response.status_code == 302
            assert response.url.startswith("/accounts/login/")
        assert Favorite.objects.count() == 0

    def test_a_post_without_the_csrf_token_is_refused(self, buyer):
        product = ProductFactory()
        client = Client(enforce_csrf_checks=True)
        client.force_login(buyer)
        assert client.post(add_url(product.pk)).status_code == 403
        assert saved(buyer) == []


class TestTheFavoritesPage:
    def test_lists_own_favorites_with_price_and_stock(self, buyer_client, buyer):
        product = ProductFactory(variants=["S"], variants__stock=7, moq=5)
        favorite_add(member=buyer, product_id=product.pk)
        html = buyer_client.get(PAGE).content.decode()
        assert product.name in html and product.get_absolute_url() in html
        assert "from $3.30" in html
        assert "MOQ 5" in html and "Only 7 left" in html
        assert remove_url(product.pk) in html
        assert 'data-testid="add-all-to-cart"' in html

    def test_never_shows_another_members_favorites(self, buyer_client, buyer):
        mine, theirs = ProductFactory(name="Mine Shirt"), ProductFactory(name="Their Shirt")
        favorite_add(member=buyer, product_id=mine.pk)
        favorite_add(member=DistributorFactory().user, product_id=theirs.pk)
        html = buyer_client.get(PAGE).content.decode()
        assert "Mine Shirt" in html and "Their Shirt" not in html
        ids = json.loads(buyer_client.get(IDS).content)["ids"]
        assert ids == [mine.pk]

    def test_marks_a_withdrawn_product(self, buyer_client, buyer):
        product = ProductFactory(name="Old Shirt")
        favorite_add(member=buyer, product_id=product.pk)
        product_unpublish(product_ids=[product.pk])
        html = buyer_client.get(PAGE).content.decode()
        assert "Old Shirt" in html and 'data-testid="favorite-withdrawn"' in html
        assert f'href="{product.get_absolute_url()}"' not in html

    def test_an_empty_list_says_how_to_fill_it(self, buyer_client):
        html = buyer_client.get(PAGE).content.decode()
        assert 'data-testid="no-favorites"' in html
        assert "add-all-to-cart" not in html

    def test_a_pending_account_is_told_instead_of_the_button(self, buyer_client, buyer):
        Distributor.objects.filter(user=buyer).update(status=Distributor.Status.PENDING)
        favorite_add(member=buyer, product_id=ProductFactory().pk)
        html = buyer_client.get(PAGE).content.decode()
        assert "add-all-to-cart" not in html
        assert "once your trade account is approved" in html

    def test_the_account_page_links_to_it(self, buyer_client):
        html = buyer_client.get("/account/").content.decode()
        assert f'href="{PAGE}"' in html

    @pytest.mark.usefixtures("warm_layout")
    def test_the_query_count_does_not_grow_with_the_favorites(
        self, buyer_client, buyer, django_assert_max_num_queries
    ):
        products = [ProductFactory() for _ in range(20)]
        for product in products[:3]:
            favorite_add(member=buyer, product_id=product.pk)
        # Session, user, distributor; favorites with products, images, variants, ratings;
        # the header's cart count.
        with django_assert_max_num_queries(8) as few:
            assert buyer_client.get(PAGE).status_code == 200
        for product in products[3:]:
            favorite_add(member=buyer, product_id=product.pk)
        product_unpublish(product_ids=[products[5].pk])
        with django_assert_max_num_queries(8) as many:
            response = buyer_client.get(PAGE)
        assert response.content.decode().count('class="favorite"') == 20
        print(
            f"favorites page queries: 3 favorites {len(few.captured_queries)}, "
            f"20 {len(many.captured_queries)}"
        )
        assert len(few.captured_queries) == len(many.captured_queries)


class TestTheSavedIds:
    def test_are_the_members_own_and_private(self, buyer_client, buyer):
        first, second = ProductFactory(), ProductFactory()
        favorite_add(member=buyer, product_id=first.pk)
        favorite_add(member=buyer, product_id=second.pk)
        response = buyer_client.get(IDS)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert sorted(json.loads(response.content)["ids"]) == sorted([first.pk, second.pk])
        cache_control = response["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control
        assert "public" not in cache_control

    def test_a_guest_gets_none(self, client):
        favorite_add(member=DistributorFactory().user, product_id=ProductFactory().pk)
        response = client.get(IDS)
        assert response.status_code == 403
        assert "ids" not in json.loads(response.content)
        assert "private" in response["Cache-Control"]

    def test_only_answer_get(self, buyer_client):
        assert buyer_client.post(IDS).status_code == 405


class TestTheSaveButtonsInCachedPages:
    """Catalog pages are cached per audience, not per member: the buttons must not say who
    saved what (the script marks that from the ids), and guests' pages stay cacheable."""

    def test_the_product_page_is_the_same_for_a_member_who_saved_it(self, client):
        product = ProductFactory()
        saver, other = DistributorFactory().user, DistributorFactory().user
        favorite_add(member=saver, product_id=product.pk)
        pages = []
        for member in (saver, other):
            client.force_login(member)
            html = client.get(product.get_absolute_url()).content.decode()
            article = html[html.index('<article class="product">') : html.index("</article>")]
            # Only the order form's CSRF token, filled in per request, may differ.
            pages.append(re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", article))
        assert pages[0] == pages[1]
        assert f'action="{add_url(product.pk)}"' in pages[0]
        assert f'data-remove-url="{remove_url(product.pk)}"' in pages[0]
        assert f'data-favorite="{product.pk}"' in pages[0]

    def test_cards_carry_a_save_button_and_the_script(self, client, buyer):
        products = [ProductFactory(), ProductFactory()]
        client.force_login(buyer)
        html = client.get("/catalog/").content.decode()
        for product in products:
            assert f'action="{add_url(product.pk)}"' in html
        assert 'data-ids-url="/account/favorites/ids.json"' in html
        assert "js/favorites.js" in html

    def test_a_guests_catalog_pages_stay_whole_page_cached(self, client, django_assert_num_queries):
        product = ProductFactory()
        for url in ("/", "/catalog/", product.get_absolute_url()):
            first = client.get(url)
            assert first.status_code == 200
            assert "csrftoken" not in first.cookies  # a token would forbid sharing the page
            assert f'action="{add_url(product.pk)}"' in first.content.decode()
        # From the whole-page cache: only the product view's record, no catalog reads.
        with django_assert_num_queries(0):
            assert client.get("/catalog/").status_code == 200


class TestAddAllToCart:
    def test_adds_each_minimum_order_in_whole_packs(self, buyer_client, buyer):
        packs = ProductFactory(variants=["S", "M"], moq=10, order_increment=6)
        single = ProductFactory(variants=["S"], moq=3)
        for product in (packs, single):
            favorite_add(member=buyer, product_id=product.pk)
        response = buyer_client.post(ADD_ALL, follow=True)
        assert response.redirect_chain[-1][0] == "/cart/"
        # 10 rounded up to packs of 6, all on the first variant in stock.
        assert cart_of(buyer) == {f"{packs.slug.upper()}-S": 12, f"{single.slug.upper()}-S": 3}
        assert "2 favorites were added to your cart at their minimum order." in messages_of(
            response
        )

    def test_spreads_over_the_next_variants_when_the_first_runs_short(self, buyer_client, buyer):
        product = ProductFactory(variants=["S", "M", "L"], moq=12)
        s, m, _l = product.variants.order_by("position")
        stock_set(variant_id=s.pk, quantity=0)
        stock_set(variant_id=m.pk, quantity=5)
        favorite_add(member=buyer, product_id=product.pk)
        buyer_client.post(ADD_ALL)
        slug = product.slug.upper()
        assert cart_of(buyer) == {f"{slug}-M": 5, f"{slug}-L": 7}

    def test_tops_up_the_cart_and_a_second_click_adds_nothing(self, buyer_client, buyer):
        product = ProductFactory(variants=["S", "M"], moq=10)
        favorite_add(member=buyer, product_id=product.pk)
        cart_add_lines(
            member=buyer,
            product_slug=product.slug,
            quantities={product.variants.get(option1="M").pk: 4},
        )
        buyer_client.post(ADD_ALL)
        slug = product.slug.upper()
        assert cart_of(buyer) == {f"{slug}-S": 6, f"{slug}-M": 4}
        again = buyer_client.post(ADD_ALL, follow=True)
        assert cart_of(buyer) == {f"{slug}-S": 6, f"{slug}-M": 4}
        assert any("Already in your cart" in text for text in messages_of(again))

    def test_says_what_could_not_be_added_and_adds_the_rest(self, buyer_client, buyer):
        fine = ProductFactory(name="Fine Shirt", variants=["S"], moq=2)
        sold_out = ProductFactory(name="Gone Shirt", variants=["S"], variants__stock=0)
        short = ProductFactory(name="Short Shirt", variants=["S"], variants__stock=4, moq=10)
        withdrawn = ProductFactory(name="Old Shirt", variants=["S"])
        for product in (fine, sold_out, short, withdrawn):
            favorite_add(member=buyer, product_id=product.pk)
        product_unpublish(product_ids=[withdrawn.pk])
        response = buyer_client.post(ADD_ALL, follow=True)
        assert response.status_code == 200
        assert cart_of(buyer) == {f"{fine.slug.upper()}-S": 2}
        texts = messages_of(response)
        assert "1 favorite was added to your cart at its minimum order." in texts
        assert "Gone Shirt is out of stock: it was not added." in texts
        assert "Old Shirt is no longer sold: it was not added." in texts
        assert any(t.startswith("Only 4 more units of Short Shirt are in stock") for t in texts)
        html = response.content.decode()
        assert "Gone Shirt is out of stock" in html and "Old Shirt is no longer sold" in html

    def test_nothing_added_goes_back_to_the_favorites(self, buyer_client, buyer):
        sold_out = ProductFactory(name="Gone Shirt", variants=["S"], variants__stock=0)
        favorite_add(member=buyer, product_id=sold_out.pk)
        response = buyer_client.post(ADD_ALL, follow=True)
        assert response.redirect_chain[-1][0] == PAGE
        assert cart_of(buyer) == {}
        assert "Gone Shirt is out of stock: it was not added." in messages_of(response)

    def test_made_to_order_goes_on_the_first_variant_whatever_its_stock(self, buyer_client, buyer):
        product = ProductFactory(
            variants=["S", "M"], variants__stock=0, made_to_order=True, lead_time_days=20, moq=50
        )
        favorite_add(member=buyer, product_id=product.pk)
        buyer_client.post(ADD_ALL)
        assert cart_of(buyer) == {f"{product.slug.upper()}-S": 50}

    def test_a_pending_account_adds_nothing(self, buyer_client, buyer):
        favorite_add(member=buyer, product_id=ProductFactory().pk)
        Distributor.objects.filter(user=buyer).update(status=Distributor.Status.PENDING)
        response = buyer_client.post(ADD_ALL, follow=True)
        assert response.redirect_chain[-1][0] == PAGE
        assert cart_of(buyer) == {}
        assert any("waiting for approval" in text for text in messages_of(response))

    def test_only_the_members_own_favorites_go_in(self, buyer_client, buyer):
        theirs = ProductFactory()
        other = DistributorFactory().user
        favorite_add(member=other, product_id=theirs.pk)
        buyer_client.post(ADD_ALL)
        assert cart_of(buyer) == {} and cart_of(other) == {}
        assert favorite_product_ids(other) == [theirs.pk]

    def test_only_answers_post(self, buyer_client):
        assert buyer_client.get(ADD_ALL).status_code == 405
