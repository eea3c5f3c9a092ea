"""The cart and the checkout show a product's name in the page's language where an editor
translated it; the order line keeps the base name, which staff, invoices and exports read."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import CartLine, OrderLine
from tests.factories import ProductFactory, ProductTranslationFactory
from tests.functional.orders.test_checkout_pages import (
    REVIEW,
    fill_cart,
    ready_to_review,
    review_form,
)

pytestmark = pytest.mark.django_db


def test_the_cart_shows_the_translated_name_and_english_elsewhere(buyer_client, buyer):
    tee = ProductFactory(name="Organic Cotton Tee")
    ProductTranslationFactory(product=tee, language="es", name="Camiseta de algodón orgánico")
    ProductTranslationFactory(product=tee, language="fr", name="")  # left blank: English shows
    fill_cart(buyer, tee)

    spanish = buyer_client.get("/es/cart/").content.decode()
    assert "Camiseta de algodón orgánico" in spanish
    assert "Organic Cotton Tee" not in spanish
    assert "Organic Cotton Tee" in buyer_client.get("/fr/cart/").content.decode()
    assert "Organic Cotton Tee" in buyer_client.get("/cart/").content.decode()


def test_the_translated_name_costs_no_query(buyer_client, buyer):
    tee = ProductFactory(name="Organic Cotton Tee")
    ProductTranslationFactory(product=tee, language="es", name="Camiseta")
    fill_cart(buyer, tee)
    buyer_client.get("/cart/")
    with CaptureQueriesContext(connection) as english:
        buyer_client.get("/cart/")
    with CaptureQueriesContext(connection) as spanish:
        buyer_client.get("/es/cart/")
    assert len(spanish) == len(english)


def test_the_review_shows_it_and_the_order_line_keeps_the_base_name(buyer_client, buyer):
    ready_to_review(buyer_client, buyer)
    (product,) = {line.variant.product for line in CartLine.objects.filter(cart__member=buyer)}
    ProductTranslationFactory(product=product, language="es", name="Camiseta de prueba")
    review = buyer_client.get("/es" + REVIEW).content.decode()
    assert "Camiseta de prueba" in review
    assert buyer_client.post(REVIEW, review_form(buyer_client)).status_code == 302
    assert set(OrderLine.objects.values_list("product_name", flat=True)) == {product.name}


def test_the_favorites_page_shows_the_translated_name(buyer_client, buyer):
    from members.models import Favorite

    tee = ProductFactory(name="Organic Cotton Tee")
    ProductTranslationFactory(product=tee, language="pl", name="Koszulka z bawełny organicznej")
    Favorite.objects.create(member=buyer, product=tee)
    polish = buyer_client.get("/pl/account/favorites/").content.decode()
    assert "Koszulka z bawełny organicznej" in polish
    assert "Organic Cotton Tee" in buyer_client.get("/account/favorites/").content.decode()
