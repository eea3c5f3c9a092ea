"""A buyer's whole journey in each of the shop's seven languages and a currency of its market:
the home page, the catalog, a product, the cart, both checkout steps and the order, each page
in the language of its address and the order charged in the chosen currency."""

import re
from decimal import Decimal

import pytest

from orders.models import Order
from tests.factories import AddressFactory, ProductFactory
from tests.functional.orders.test_checkout_pages import checked, hidden_fields, shipping_to_europe
from wholesale.currencies import invalidate
from wholesale.models import Currency

pytestmark = pytest.mark.django_db

JOURNEYS = [
    ("en", "", "USD"),
    ("es", "/es", "EUR"),
    ("fr", "/fr", "EUR"),
    ("de", "/de", "EUR"),
    ("ru", "/ru", "RUB"),
    ("pl", "/pl", "PLN"),
    ("pt-br", "/pt-br", "BRL"),
]


def in_language(response, language: str) -> str:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    return html


@pytest.mark.parametrize(("language", "prefix", "currency"), JOURNEYS)
def test_a_buyer_orders_in_every_language(buyer_client, buyer, language, prefix, currency):
    Currency.objects.filter(code__in=["EUR", "RUB", "PLN", "BRL"]).update(is_active=True)
    invalidate()
    shipping_to_europe()
    tee = ProductFactory(name="Organic Cotton Tee", slug="tee", variants=["S", "M"])
    address = AddressFactory(member=buyer, is_default=True)
    buyer_client.post("/currency/", {"currency": currency, "next": "/"})

    in_language(buyer_client.get(f"{prefix}/"), language)
    in_language(buyer_client.get(f"{prefix}/catalog/"), language)
    product = in_language(buyer_client.get(f"{prefix}/products/tee/"), language)
    quantities = {name: "30" for name in re.findall(r'name="(qty_\d+)"', product)}
    assert len(quantities) == 2
    added = buyer_client.post(f"{prefix}/cart/add/tee/", quantities)
    assert added.status_code == 302
    in_language(buyer_client.get(f"{prefix}/cart/"), language)
    in_language(buyer_client.get(f"{prefix}/checkout/"), language)
    chosen = buyer_client.post(f"{prefix}/checkout/", {"address": str(address.pk)})
    assert chosen.status_code == 302
    review = in_language(buyer_client.get(f"{prefix}/checkout/review/"), language)

    form = hidden_fields(review)
    form.pop("csrfmiddlewaretoken", None)
    form |= {
        "shipping_method": checked(review, "shipping_method")[0],
        "payment_method": checked(review, "payment_method")[0],
        "insured": "1",
        "action": "place",
    }
    placed = buyer_client.post(f"{prefix}/checkout/review/", form)
    assert placed.status_code == 302, placed.content.decode()[:500]
    order = Order.objects.get(member=buyer)
    assert placed.url == f"{prefix}/account/orders/{order.number}/"
    rate = Currency.objects.get(code=currency).rate if currency != "USD" else Decimal(1)
    assert (order.currency, order.exchange_rate) == (currency, rate)
    assert order.lines.count() == 2
    in_language(buyer_client.get(placed.url), language)
    assert tee.pk in set(order.lines.values_list("product_id_snapshot", flat=True))
