"""Payment methods per country through HTTP: the checkout review page offers the methods of the
delivery country in the currency charged, refuses one not offered even when posted, and only
the super admin edits the rules in the admin."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from orders.models import CountryPaymentMethods, Order
from staff import roles
from tests.factories import (
    AddressFactory,
    ShippingRateFactory,
    ShippingZoneFactory,
    StaffFactory,
    UserFactory,
)

from .test_checkout_pages import (
    REVIEW,
    checked,
    choose_delivery,
    fill_cart,
    hidden_fields,
    review_form,
)

pytestmark = pytest.mark.django_db

ADMIN = "/admin/orders/countrypaymentmethods/"


@pytest.fixture
def stripe_keys(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_for_the_offer_only"


@pytest.fixture
def dutch_buyer(buyer, buyer_client):
    """A buyer paying in euros, on step 2 with an address in the Netherlands."""
    buyer.preferred_currency = "EUR"
    buyer.save(update_fields=["preferred_currency"])
    ShippingRateFactory(zone=ShippingZoneFactory(countries=["NL", "ES", "PL"]))
    fill_cart(buyer)
    address = AddressFactory(member=buyer, is_default=True, country="NL")
    choose_delivery(buyer_client, address)
    return buyer


def offered(html: str) -> dict[str, str]:
    """{radio value: its label} of the payment choices on the page."""
    found = re.findall(
        r'name="payment_method" value="(\w+)"[^>]*>\s*<span class="option-name">([^<]*)</span>',
        html,
    )
    return dict(found)


@pytest.mark.usefixtures("stripe_keys")
class TestTheReviewPage:
    def test_names_ideal_on_the_online_choice_in_the_netherlands(self, buyer_client, dutch_buyer):
        CountryPaymentMethods.objects.create(
            country="NL", methods=["card", "ideal", "bank_transfer"]
        )
        html = buyer_client.get(REVIEW).content.decode()
        assert offered(html) == {
            "card": "Card, iDEAL (Stripe)",
            "bank_transfer": "Bank transfer (T/T)",
        }
        assert checked(html, "payment_method") == ["card"]

    def test_offers_only_the_default_rule_where_the_country_has_none(
        self, buyer_client, dutch_buyer
    ):
        CountryPaymentMethods.objects.create(country="", methods=["bank_transfer"])
        CountryPaymentMethods.objects.create(country="ES", methods=["card"])
        html = buyer_client.get(REVIEW).content.decode()
        assert offered(html) == {"bank_transfer": "Bank transfer (T/T)"}

    def test_without_rules_offers_what_it_offered_before(self, buyer_client, dutch_buyer):
        html = buyer_client.get(REVIEW).content.decode()
        assert offered(html) == {"card": "Card (Stripe)", "bank_transfer": "Bank transfer (T/T)"}

    def test_a_method_not_offered_is_refused_even_when_posted(self, buyer_client, dutch_buyer):
        CountryPaymentMethods.objects.create(country="NL", methods=["ideal", "card"])
        data = review_form(buyer_client, payment_method="bank_transfer")

        response = buyer_client.post(REVIEW, data)

        assert response.status_code == 400
        assert not Order.objects.exists()
        html = response.content.decode()
        assert html.count("Choose one of the payment methods offered.") == 1
        assert list(offered(html)) == ["card"]

    def test_a_rule_offering_nothing_in_the_currency_leaves_nothing_to_place(
        self, buyer_client, dutch_buyer
    ):
        CountryPaymentMethods.objects.create(country="NL", methods=["blik"])  # złoty only
        html = buyer_client.get(REVIEW).content.decode()
        assert offered(html) == {}
        assert 'data-testid="place-order" disabled' in html
        assert 'data-testid="no-payment-method"' in html  # and the page says why
        data = hidden_fields(html)
        data |= {"action": "place", "shipping_method": checked(html, "shipping_method")[0]}
        for method in ("", "card", "blik"):
            response = buyer_client.post(REVIEW, {**data, "payment_method": method})
            assert response.status_code == 400
        assert not Order.objects.exists()

    def test_an_offered_method_places_the_order(self, buyer_client, dutch_buyer):
        CountryPaymentMethods.objects.create(country="NL", methods=["ideal", "bank_transfer"])
        response = buyer_client.post(REVIEW, review_form(buyer_client))
        order = Order.objects.get()
        assert response.status_code == 302
        assert (order.payment_method, order.ship_country.code) == ("card", "NL")
        assert response.url == reverse("payments:card_start", args=[order.number])


class TestTheAdmin:
    def test_the_super_admin_sets_a_countrys_methods(self, client):
        admin_user = UserFactory(is_staff=True, is_superuser=True)
        client.force_login(admin_user)

        response = client.post(
            f"{ADMIN}add/", {"country": "PL", "methods": ["bank_transfer", "blik", "p24"]}
        )

        assert response.status_code == 302, response.content.decode()[:3000]
        rule = CountryPaymentMethods.objects.get()
        # Kept in the catalogue's order, whatever order the boxes were posted in.
        assert (rule.country.code, rule.methods) == ("PL", ["p24", "blik", "bank_transfer"])
        assert rule.updated_by == admin_user
        assert rule.currencies == {}
        listing = client.get(ADMIN).content.decode()
        assert "Przelewy24, BLIK, Bank transfer (T/T)" in listing

    def test_the_super_admin_keeps_bank_transfers_to_some_currencies(self, client):
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        data = {"country": "", "methods": ["card", "bank_transfer"]}

        refused = client.post(f"{ADMIN}add/", {**data, "currencies": '{"bank_transfer": "USD"}'})
        assert refused.status_code == 200
        assert not CountryPaymentMethods.objects.exists()

        response = client.post(
            f"{ADMIN}add/", {**data, "currencies": '{"bank_transfer": ["USD", "EUR"]}'}
        )
        assert response.status_code == 302
        assert CountryPaymentMethods.objects.get().currencies == {"bank_transfer": ["USD", "EUR"]}

    @pytest.mark.usefixtures("stripe_keys")
    def test_the_super_admin_changes_a_rule_which_checkout_sees_at_once(self, client):
        from orders.payment_settings import payment_methods_for

        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        nl = CountryPaymentMethods.objects.create(country="NL", methods=["ideal"])
        assert payment_methods_for(country="NL", currency="EUR") == ["ideal"]  # now cached
        page = client.get(f"{ADMIN}{nl.pk}/change/")
        assert page.status_code == 200
        assert page.context["adminform"].form["methods"].value() == ["ideal"]

        response = client.post(
            f"{ADMIN}{nl.pk}/change/",
            {"country": "NL", "methods": ["bank_transfer", "ideal"], "currencies": ""},
        )

        assert response.status_code == 302
        assert payment_methods_for(country="NL", currency="EUR") == ["ideal", "bank_transfer"]

    def test_one_rule_per_country_and_one_default(self, client):
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        CountryPaymentMethods.objects.create(country="", methods=["card"])
        response = client.post(f"{ADMIN}add/", {"country": "", "methods": ["bank_transfer"]})
        assert response.status_code == 200
        assert CountryPaymentMethods.objects.count() == 1

    def test_the_list_costs_the_same_for_one_rule_or_many(
        self, client, django_assert_max_num_queries
    ):
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        CountryPaymentMethods.objects.create(country="NL", methods=["ideal", "card"])
        with django_assert_max_num_queries(8) as one:
            assert client.get(ADMIN).status_code == 200
        for country in ("PL", "BE", "AT", "ES", ""):
            CountryPaymentMethods.objects.create(country=country, methods=["card"])
        with django_assert_max_num_queries(8) as many:
            assert client.get(ADMIN).status_code == 200
        assert len(one.captured_queries) == len(many.captured_queries)

    @pytest.mark.usefixtures("stripe_keys")
    def test_deleting_rules_in_bulk_is_seen_at_once(self, client):
        from orders.payment_settings import payment_methods_for

        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        nl = CountryPaymentMethods.objects.create(country="NL", methods=["ideal"])
        assert payment_methods_for(country="NL", currency="EUR") == ["ideal"]  # now cached
        response = client.post(
            ADMIN, {"action": "delete_selected", "_selected_action": [nl.pk], "post": "yes"}
        )
        assert response.status_code == 302
        assert not CountryPaymentMethods.objects.exists()
        assert payment_methods_for(country="NL", currency="EUR") == ["card", "bank_transfer"]

    def test_no_other_role_sees_it(self, client):
        CountryPaymentMethods.objects.create(country="NL", methods=["ideal"])
        manager = StaffFactory()
        manager.groups.add(Group.objects.get(name=roles.MANAGER))
        client.force_login(manager)
        assert client.get(ADMIN).status_code == 403
        assert (
            client.post(f"{ADMIN}add/", {"country": "PL", "methods": ["blik"]}).status_code == 403
        )
        assert CountryPaymentMethods.objects.count() == 1
