"""The issue's own example, end to end over HTTP: a request from an IP in Spain gets Spanish,
euros and the European shipping zone, and an explicit choice beats each of them."""

import re
from decimal import Decimal

import pytest

from members.models import Address
from tests.factories import DistributorFactory, ProductFactory, ShippingZoneFactory
from tests.functional.orders.test_checkout_pages import fill_cart, shipping_to_europe
from tests.integration.wholesale.test_geo_visitor import SPAIN, visitor
from wholesale.models import Currency

pytestmark = pytest.mark.django_db


def tiers(html: str) -> str:
    """The product page's price table."""
    return html.split('data-testid="tier-table"')[1].split("</table>")[0]


@pytest.fixture
def shop(settings):
    settings.WHOLESALE_PRICES_VISIBLE_TO = "everyone"
    Currency.objects.update_or_create(
        code="EUR", defaults={"rate": Decimal("0.90"), "is_active": True, "auto_update": False}
    )
    # Europe (ES among its countries) by express and economy; the Americas by air only.
    shipping_to_europe()
    ShippingZoneFactory(name="Americas", countries=["US", "CA", "MX"])
    return ProductFactory(name="Organic Cotton Tee", slug="tee", variants=["S", "M"])


def test_a_visitor_from_spain_gets_spanish_euros_and_the_european_zone(shop):
    client = visitor(SPAIN)
    moved = client.get("/products/tee/")
    assert (moved.status_code, moved.url) == (302, "/es/products/tee/")

    page = client.get(moved.url)
    html = page.content.decode()
    assert page.wsgi_request.LANGUAGE_CODE == "es"
    assert '<html lang="es">' in html
    assert "€" in tiers(html) and "$" not in tiers(html)
    assert page.wsgi_request.country == "ES"
    assert re.search(r'<option value="ES"[^>]*selected', html)  # "Ship to": Spain

    # The same browser signs in: a trade account with no address yet.
    buyer = DistributorFactory(country="US").user
    fill_cart(buyer, shop)
    client.force_login(buyer)
    delivery = client.get("/es/checkout/")
    assert delivery.status_code == 200
    # The account says the US, but the buyer chose nothing: the form starts in their business's
    # country; "Ship to" Spain, chosen in the header, wins.
    assert delivery.context["new_form"].initial == {"country": "US"}
    client.post("/i18n/country/", {"country": "ES", "next": "/es/checkout/"})
    assert client.get("/es/checkout/").context["new_form"].initial == {"country": "ES"}

    address = Address.objects.create(
        member=buyer,
        name="Ana",
        line1="Calle Mayor 1",
        city="Madrid",
        postal_code="28013",
        country="ES",
    )
    client.post("/es/checkout/", {"address": str(address.pk)})
    review = client.get("/es/checkout/review/")
    quote = review.context["quote"]
    assert sorted(option.method_code for option in quote.options) == ["economy", "express"]
    assert quote.totals.currency == "EUR"
    assert "€" in review.content.decode()


def test_explicit_choices_beat_what_the_ip_says(shop):
    client = visitor(SPAIN)
    client.post("/i18n/setlang/", {"language": "de", "next": "/products/tee/"})
    client.post("/currency/", {"currency": "USD", "next": "/"})
    client.post("/i18n/country/", {"country": "US", "next": "/"})
    page = client.get("/products/tee/")
    assert (page.status_code, page.url) == (302, "/de/products/tee/")
    page = client.get(page.url)
    html = page.content.decode()
    assert page.wsgi_request.LANGUAGE_CODE == "de"
    assert page.wsgi_request.country == "US"
    assert "$" in tiers(html) and "€" not in tiers(html)
