"""The visitor's currency over HTTP: choosing it, the catalog and the cart in it, and an order
charged in it at the rate of the day, which the order keeps."""

from decimal import Decimal

import pytest
from django.test import Client

from orders.models import Order
from tests.factories import DistributorFactory, ProductFactory
from tests.functional.orders.test_checkout_pages import REVIEW, ready_to_review, review_form
from wholesale.models import Currency

pytestmark = pytest.mark.django_db

CHOOSE = "/currency/"


def set_rate(code, rate, **fields):
    Currency.objects.filter(code=code).update(rate=Decimal(rate), **fields)
    from wholesale.currencies import invalidate

    invalidate()


class TestChoosingACurrency:
    def test_a_guests_choice_is_kept_in_the_session(self, client):
        response = client.post(CHOOSE, {"currency": "EUR", "next": "/catalog/?page=1"})
        assert response.status_code == 302
        assert response.url == "/catalog/?page=1"
        assert client.session["currency"] == "EUR"
        html = client.get("/catalog/").content.decode()
        assert '<option value="EUR" selected>' in html

    def test_a_members_choice_is_kept_in_their_profile_too(self, buyer_client, buyer):
        buyer_client.post(CHOOSE, {"currency": "jpy", "next": "/es/catalog/"})
        buyer.refresh_from_db()
        assert buyer.preferred_currency == "JPY"
        # A new session (another device) starts from the profile, not the country.
        other = Client()
        other.force_login(buyer)
        assert '<option value="JPY" selected>' in other.get("/catalog/").content.decode()

    def test_an_inactive_or_unknown_currency_is_refused(self, buyer_client, buyer):
        set_rate("GBP", "0.76", is_active=False)
        for code in ("GBP", "ZZZ", "", "EURO"):  # inactive, no such currency, none, not EUR
            response = buyer_client.post(
                CHOOSE, {"currency": code, "next": "/catalog/"}, follow=True
            )
            assert "Choose one of the currencies offered." in response.content.decode()
        assert "currency" not in buyer_client.session
        buyer.refresh_from_db()
        assert buyer.preferred_currency == ""
        assert '<option value="GBP"' not in buyer_client.get("/catalog/").content.decode()

    def test_the_way_back_is_never_another_site(self, client):
        response = client.post(CHOOSE, {"currency": "EUR", "next": "https://evil.example/"})
        assert response.url == "/"
        assert client.get(CHOOSE).status_code == 405

    def test_a_members_choice_needs_the_forms_csrf_token(self, buyer):
        client = Client(enforce_csrf_checks=True)
        client.force_login(buyer)
        assert client.post(CHOOSE, {"currency": "EUR"}).status_code == 403
        buyer.refresh_from_db()
        assert buyer.preferred_currency == ""


class TestTheRatesTable:
    def test_is_read_from_the_cache_once_a_page(self, buyer_client):
        from unittest import mock

        from django.core.cache import cache

        from wholesale import currencies

        ProductFactory()
        buyer_client.post(CHOOSE, {"currency": "EUR"})
        buyer_client.get("/catalog/")  # the table is in the cache now
        with mock.patch.object(currencies.cache, "get", wraps=cache.get) as get:
            page = buyer_client.get("/catalog/")
        assert 'data-testid="currency-switcher"' in page.content.decode()
        assert "from €2.84" in page.content.decode()  # 3.30 × 0.86
        reads = [call for call in get.call_args_list if call.args[0] == currencies.CACHE_KEY]
        assert len(reads) == 1

    def test_a_rate_changed_by_a_request_is_read_again_in_it(self, rf):
        from django.contrib.auth.models import AnonymousUser
        from django.contrib.sessions.backends.db import SessionStore
        from django.http import HttpResponse

        from wholesale import currencies

        seen = []

        def view(request):
            seen.append(currencies.rate_for("EUR"))
            set_rate("EUR", "0.5")
            seen.append(currencies.rate_for("EUR"))
            return HttpResponse()

        request = rf.get("/catalog/")
        request.session, request.user = SessionStore(), AnonymousUser()
        currencies.CurrencyMiddleware(view)(request)
        assert seen == [Decimal("0.86"), Decimal("0.5")]


class TestPricesInTheChosenCurrency:
    def test_the_catalog_and_the_product_page_show_the_chosen_currency(self, buyer_client):
        set_rate("EUR", "0.9")
        product = ProductFactory(name="Heavy tee")
        assert "from $3.30" in buyer_client.get("/catalog/").content.decode()
        buyer_client.post(CHOOSE, {"currency": "EUR"})
        listing = buyer_client.get("/catalog/").content.decode()
        assert "from €2.97" in listing  # 3.30 × 0.9
        assert "$3.30" not in listing
        page = buyer_client.get(product.get_absolute_url()).content.decode()
        # The tier table, and what the order grid's script reads from it.
        assert 'data-tier-price="€3.78"' in page
        assert 'data-tier-price="€2.97"' in page  # 3.30 × 0.9
        spanish = buyer_client.get("/es/catalog/").content.decode()
        assert "2,97\xa0€" in spanish  # Babel's Spanish format

    def test_a_visitor_from_spain_sees_euros_unless_they_chose(self, buyer_client, settings):
        settings.WHOLESALE_DEFAULT_COUNTRY = "ES"
        set_rate("EUR", "0.9")
        ProductFactory()
        assert "from €2.97" in buyer_client.get("/catalog/").content.decode()
        buyer_client.post(CHOOSE, {"currency": "USD"})
        assert "from $3.30" in buyer_client.get("/catalog/").content.decode()

    def test_the_cart_shows_the_chosen_currency(self, buyer_client, buyer):
        from tests.functional.orders.test_checkout_pages import fill_cart

        set_rate("JPY", "150")
        fill_cart(buyer)
        buyer_client.post(CHOOSE, {"currency": "JPY"})
        html = buyer_client.get("/cart/").content.decode()
        assert "¥495" in html  # 3.30 × 150, the 50+ price
        assert "¥14,850" in html  # 30 × ¥495

    def test_the_cart_total_is_the_sum_of_its_lines_as_checkout_charges_it(
        self, buyer_client, buyer
    ):
        from tests.functional.orders.test_checkout_pages import fill_cart

        set_rate("EUR", "0.9137")
        fill_cart(buyer)
        buyer_client.post(CHOOSE, {"currency": "EUR"})
        html = buyer_client.get("/cart/").content.decode()
        # 3.30 → €3.02 a unit, × 30 = €90.60 a line, €181.20 the two; converting the base
        # total instead (198.00 × 0.9137) would show €180.91.
        assert html.count("€90.60") >= 2
        assert 'data-testid="goods-total">€181.20<' in html
        assert "€180.91" not in html


class TestCheckoutInTheChosenCurrency:
    def test_the_order_is_charged_in_euros_at_the_rate_shown(self, buyer_client, buyer):
        set_rate("EUR", "0.9137")
        ready_to_review(buyer_client, buyer)
        buyer_client.post(CHOOSE, {"currency": "EUR"})
        page = buyer_client.get(REVIEW).content.decode()
        # The cheapest method, economy: 181.20 goods + 49.34 (54.00) + 2.71 (2.97) insurance.
        assert 'data-testid="grand-total">€233.25<' in page
        response = buyer_client.post(REVIEW, review_form(buyer_client))
        assert response.status_code == 302
        order = Order.objects.get(member=buyer)
        assert (order.currency, order.exchange_rate) == ("EUR", Decimal("0.9137"))
        assert order.grand_total == Decimal("233.25")
        assert order.grand_total_base == Decimal("254.97")
        detail = buyer_client.get(order.get_absolute_url()).content.decode()
        assert "€233.25" in detail  # the bank-transfer instructions' amount
        # Switching the display currency later shows the order in its own currency still.
        buyer_client.post(CHOOSE, {"currency": "JPY"})
        assert "€233.25" in buyer_client.get(order.get_absolute_url()).content.decode()

    def test_a_rate_changed_since_the_page_was_shown_is_shown_again(self, buyer_client, buyer):
        set_rate("EUR", "0.9137")
        ready_to_review(buyer_client, buyer)
        buyer_client.post(CHOOSE, {"currency": "EUR"})
        form = review_form(buyer_client)
        set_rate("EUR", "0.95")
        response = buyer_client.post(REVIEW, form)
        assert response.status_code == 200
        assert "The exchange rate changed" in response.content.decode()
        assert not Order.objects.filter(member=buyer).exists()
        response = buyer_client.post(REVIEW, review_form(buyer_client))
        assert response.status_code == 302
        assert Order.objects.get(member=buyer).exchange_rate == Decimal("0.95")

    def test_a_member_with_a_profile_currency_pays_in_it(self, client):
        member = DistributorFactory().user
        member.preferred_currency = "JPY"
        member.save()
        client.force_login(member)
        ready_to_review(client, member)
        client.post(REVIEW, review_form(client))
        order = Order.objects.get(member=member)
        assert order.currency == "JPY"
        assert order.grand_total % 1 == 0


class TestTheCurrencyAdmin:
    def test_finance_sets_a_rate_which_buyers_see_at_once(self, client, buyer_client):
        from django.contrib.auth.models import Group

        from staff import roles
        from tests.factories import StaffFactory

        finance = StaffFactory()
        finance.groups.add(Group.objects.get(name=roles.FINANCE))
        client.force_login(finance)
        ProductFactory()
        buyer_client.post(CHOOSE, {"currency": "EUR"})
        assert "from €2.84" in buyer_client.get("/catalog/").content.decode()  # 3.30 × 0.86
        euro = Currency.objects.get(code="EUR")
        before = euro.updated_at
        url = f"/admin/wholesale/currency/{euro.pk}/change/"
        data = {"code": "EUR", "is_active": "on", "rate": "0.5", "position": "1"}
        assert client.post(url, data).status_code == 302
        euro.refresh_from_db()
        assert euro.rate == Decimal("0.5")
        assert euro.updated_at > before
        assert "from €1.65" in buyer_client.get("/catalog/").content.decode()

    def test_the_base_currency_stays_at_1_and_a_rate_is_positive(self, admin_client):
        add = "/admin/wholesale/currency/add/"
        response = admin_client.post(add, {"code": "USD", "rate": "2", "position": "0"})
        assert response.status_code == 200
        assert "The base currency&#x27;s rate is always 1." in response.content.decode()
        response = admin_client.post(add, {"code": "CNY", "rate": "0", "position": "0"})
        assert response.status_code == 200
        assert not Currency.objects.filter(code__in=["USD", "CNY"]).exists()
        assert (
            admin_client.post(add, {"code": "CNY", "rate": "7.1", "position": "0"}).status_code
            == 302
        )
        assert Currency.objects.get(code="CNY").rate == Decimal("7.1")
