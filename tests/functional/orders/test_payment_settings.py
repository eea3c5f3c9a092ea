"""Payment settings (super admin only): which methods checkout offers and the bank details
buyers pay into, read from the one PaymentSettings row (cached), else from the settings file."""

import re
import uuid

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError

from orders.checkout import order_place, payment_methods_offered
from orders.models import Order, PaymentSettings
from orders.payment_settings import bank_details
from staff import roles
from tests.factories import AddressFactory, DistributorFactory, StaffFactory, UserFactory

from .test_checkout_pages import (
    REVIEW,
    checked,
    fill_cart,
    ready_to_review,
    review_form,
    shipping_to_europe,
)

pytestmark = pytest.mark.django_db

ADMIN = "/admin/orders/paymentsettings/"
ROW_DETAILS = "Beneficiary: Row Export Ltd\nIBAN: CN00 1234 5678\nSWIFT: ROWSCNBJ"


def payment_settings(**fields) -> PaymentSettings:
    values = {
        "card_enabled": True,
        "bank_transfer_enabled": True,
        "bank_details": ROW_DETAILS,
        **fields,
    }
    row, _created = PaymentSettings.objects.update_or_create(pk=1, defaults=values)
    return row


def offered_on_the_page(html: str) -> list[str]:
    return re.findall(r'name="payment_method" value="(\w+)"', html)


@pytest.fixture
def stripe_keys(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_for_the_offer_only"


class TestTheMethodsOffered:
    def test_without_a_row_the_settings_file_decides(self, settings, stripe_keys):
        settings.WHOLESALE_PAYMENT_METHODS = ["bank_transfer", "card"]
        assert payment_methods_offered() == ["bank_transfer", "card"]

    def test_the_row_switches_a_method_off(self, stripe_keys):
        payment_settings(card_enabled=False)
        assert payment_methods_offered() == ["bank_transfer"]
        payment_settings(card_enabled=True, bank_transfer_enabled=False)
        assert payment_methods_offered() == ["card"]

    def test_a_card_needs_the_stripe_keys_whatever_the_row_says(self, settings):
        settings.STRIPE_SECRET_KEY = ""
        payment_settings(card_enabled=True, bank_transfer_enabled=True)
        assert payment_methods_offered() == ["bank_transfer"]

    def test_the_row_is_read_once_then_from_the_cache(self, stripe_keys, django_assert_num_queries):
        payment_settings(card_enabled=False)
        with django_assert_num_queries(1):
            assert payment_methods_offered() == ["bank_transfer"]
        with django_assert_num_queries(0):
            assert payment_methods_offered() == ["bank_transfer"]
            assert bank_details() == ROW_DETAILS

    def test_saving_the_row_is_seen_at_once(self, stripe_keys):
        row = payment_settings()
        assert payment_methods_offered() == ["card", "bank_transfer"]  # now cached
        row.bank_transfer_enabled = False
        row.save()
        assert payment_methods_offered() == ["card"]


class TestCheckout:
    def test_offers_only_the_enabled_methods(self, buyer_client, buyer, stripe_keys):
        ready_to_review(buyer_client, buyer)
        assert offered_on_the_page(buyer_client.get(REVIEW).content.decode()) == [
            "card",
            "bank_transfer",
        ]
        payment_settings(card_enabled=False)
        html = buyer_client.get(REVIEW).content.decode()
        assert offered_on_the_page(html) == ["bank_transfer"]
        assert checked(html, "payment_method") == ["bank_transfer"]

    def test_a_bank_transfer_is_refused_once_switched_off(self, buyer_client, buyer, stripe_keys):
        ready_to_review(buyer_client, buyer)
        data = review_form(buyer_client, payment_method="bank_transfer")
        payment_settings(bank_transfer_enabled=False)  # switched off while the page was open

        response = buyer_client.post(REVIEW, data)

        assert response.status_code == 400
        assert not Order.objects.exists()
        assert "Choose one of the payment methods offered." in response.content.decode()
        assert offered_on_the_page(response.content.decode()) == ["card"]

    def test_the_service_refuses_it_too(self, buyer, stripe_keys):
        shipping_to_europe()
        fill_cart(buyer)
        address = AddressFactory(member=buyer, is_default=True)
        payment_settings(bank_transfer_enabled=False)
        with pytest.raises(ValidationError) as refused:
            order_place(
                member=buyer,
                checkout_key=uuid.uuid4(),
                address_id=address.pk,
                method_code="express",
                payment_method="bank_transfer",
            )
        assert refused.value.error_list[0].code == "payment"
        assert not Order.objects.exists()


class TestTheBankDetailsShown:
    def test_come_from_the_row_on_the_order_page_and_in_the_email(
        self, buyer_client, buyer, settings, django_capture_on_commit_callbacks
    ):
        settings.WHOLESALE_BANK_DETAILS = "Beneficiary: From The Settings File"
        payment_settings()
        ready_to_review(buyer_client, buyer)
        mail.outbox.clear()

        with django_capture_on_commit_callbacks(execute=True):
            response = buyer_client.post(REVIEW, review_form(buyer_client))
        html = buyer_client.get(response.url).content.decode()

        shown = "Beneficiary: Row Export Ltd<br>IBAN: CN00 1234 5678<br>SWIFT: ROWSCNBJ"
        assert shown in html
        assert "From The Settings File" not in html
        (email,) = mail.outbox
        assert "IBAN: CN00 1234 5678" in email.body
        assert "From The Settings File" not in email.body

    def test_without_a_row_come_from_the_settings_file(self, settings):
        settings.WHOLESALE_BANK_DETAILS = "Beneficiary: From The Settings File"
        assert bank_details() == "Beneficiary: From The Settings File"

    def test_are_escaped(self, buyer_client, buyer):
        payment_settings(bank_details='<script>alert("x")</script>')
        ready_to_review(buyer_client, buyer)
        response = buyer_client.post(REVIEW, review_form(buyer_client))
        html = buyer_client.get(response.url).content.decode()
        assert '<script>alert("x")' not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def staff_with_role(role: str):
    user = StaffFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


ROLES = [roles.MANAGER, roles.FINANCE, roles.EDITOR, roles.SALES, roles.CUSTOMER_SERVICE]


class TestTheAdmin:
    @pytest.mark.parametrize("role", ROLES)
    @pytest.mark.parametrize(
        "url",
        [ADMIN, f"{ADMIN}add/", f"{ADMIN}1/change/", f"{ADMIN}1/history/", f"{ADMIN}1/delete/"],
    )
    def test_no_other_role_gets_in(self, client, role, url):
        payment_settings()
        client.force_login(staff_with_role(role))
        assert client.get(url).status_code == 403
        assert client.post(url, {"card_enabled": "on"}).status_code == 403
        assert PaymentSettings.objects.get().bank_details == ROW_DETAILS

    def test_nor_a_distributor(self, client):
        payment_settings()
        client.force_login(DistributorFactory().user)
        assert client.get(f"{ADMIN}1/change/").status_code == 302  # to the admin login

    def test_it_is_not_on_another_roles_admin_index(self, client):
        client.force_login(staff_with_role(roles.MANAGER))
        assert ADMIN not in client.get("/admin/").content.decode()

    def test_the_super_admin_makes_the_row_starting_from_the_settings_file(
        self, client, settings, stripe_keys
    ):
        settings.WHOLESALE_BANK_DETAILS = "Beneficiary: From The Settings File"
        admin = UserFactory(is_staff=True, is_superuser=True)
        client.force_login(admin)
        response = client.get(ADMIN)
        assert response.status_code == 302 and response.url == f"{ADMIN}add/"
        form = client.get(f"{ADMIN}add/").content.decode()
        assert "Beneficiary: From The Settings File" in form

        response = client.post(
            f"{ADMIN}add/",
            {"card_enabled": "on", "bank_details": ROW_DETAILS.replace("\n", "\r\n")},
        )

        assert response.status_code == 302
        row = PaymentSettings.objects.get()
        assert (row.pk, row.card_enabled, row.bank_transfer_enabled) == (1, True, False)
        assert row.updated_by == admin
        assert payment_methods_offered() == ["card"]
        assert client.get(ADMIN).url == f"{ADMIN}1/change/"
        assert client.get(f"{ADMIN}add/").status_code == 403  # one row only
        assert client.get(f"{ADMIN}1/delete/").status_code == 403

    @pytest.mark.parametrize(
        ("posted", "field_error"),
        [
            ({}, "Keep at least one payment method on."),
            ({"bank_transfer_enabled": "on", "bank_details": " "}, "need the bank details"),
            ({"card_enabled": "on"}, "Card payments need the Stripe keys"),
        ],
    )
    def test_refuses_settings_buyers_could_not_pay_with(
        self, client, settings, posted, field_error
    ):
        settings.STRIPE_SECRET_KEY = ""
        row = payment_settings()
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        response = client.post(f"{ADMIN}1/change/", posted)
        assert response.status_code == 200
        assert field_error in response.content.decode()
        row.refresh_from_db()
        assert (row.card_enabled, row.bank_transfer_enabled, row.bank_details) == (
            True,
            True,
            ROW_DETAILS,
        )
