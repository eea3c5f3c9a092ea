"""Shipping templates in the admin: staff with the model permissions edit zones and rates."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from orders.models import ShippingMethod, ShippingRate, ShippingZone
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db
ZONES = "/admin/orders/shippingzone/"
METHODS = "/admin/orders/shippingmethod/"


def staff_client(*codenames: str) -> Client:
    staff = StaffFactory()
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
    )
    client = Client()
    client.force_login(staff)
    return client


def zone_form(method: ShippingMethod, **rate) -> dict:
    data = {
        "name": "Europe",
        "countries": ["FR", "DE"],
        "position": "1",
        "is_active": "on",
        "rates-TOTAL_FORMS": "1",
        "rates-INITIAL_FORMS": "0",
        "rates-MIN_NUM_FORMS": "0",
        "rates-MAX_NUM_FORMS": "1000",
        "rates-0-method": str(method.pk),
        "rates-0-first_weight_grams": "500",
        "rates-0-first_price": "12.00",
        "rates-0-additional_weight_grams": "250",
        "rates-0-additional_price": "3.50",
        "rates-0-free_above": "",
        "rates-0-min_days": "5",
        "rates-0-max_days": "10",
        "rates-0-is_active": "on",
    }
    data.update({f"rates-0-{key}": value for key, value in rate.items()})
    return data


@pytest.fixture
def economy():
    return ShippingMethod.objects.create(name="Economy post", code="economy-post")


class TestTheShippingAdmin:
    def test_staff_with_permissions_add_a_zone_with_its_rates(self, economy):
        client = staff_client(
            "view_shippingzone", "add_shippingzone", "change_shippingzone", "add_shippingrate"
        )
        response = client.post(f"{ZONES}add/", zone_form(economy))
        assert response.status_code == 302
        zone = ShippingZone.objects.get()
        assert [country.code for country in zone.countries] == ["DE", "FR"]
        assert ShippingRate.objects.get().first_price == Decimal("12.00")

    def test_a_rate_with_its_days_reversed_is_refused_with_a_message(self, economy):
        client = staff_client(
            "view_shippingzone", "add_shippingzone", "change_shippingzone", "add_shippingrate"
        )
        response = client.post(f"{ZONES}add/", zone_form(economy, min_days="12"))
        assert response.status_code == 200
        assert "The minimum days must not exceed the maximum days." in response.content.decode()
        assert not ShippingZone.objects.exists()

    def test_the_lists_show_zones_and_methods(self, economy):
        zone = ShippingZone.objects.create(name="Europe", countries=["FR", "DE"])
        ShippingRate.objects.create(
            zone=zone,
            method=economy,
            first_weight_grams=500,
            first_price=Decimal("12"),
            additional_weight_grams=250,
            additional_price=Decimal("3.5"),
            min_days=5,
            max_days=10,
        )
        client = staff_client("view_shippingzone", "view_shippingmethod")
        zones = client.get(ZONES).content.decode()
        assert "Europe" in zones
        assert 'class="field-rate_count">1<' in zones
        assert client.get(f"{ZONES}?rates__method__id__exact={economy.pk}").status_code == 200
        methods = client.get(METHODS).content.decode()
        assert "economy-post" in methods

    def test_staff_without_the_permissions_are_refused(self):
        client = staff_client()
        assert client.get(ZONES).status_code == 403
        assert client.get(METHODS).status_code == 403
