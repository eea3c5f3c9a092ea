"""Carts in the admin: read-only, and a list whose query count does not grow."""

import pytest
from django.test import Client

from orders import services
from orders.models import Cart
from tests.factories import DistributorFactory, ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/orders/cart/"


@pytest.fixture
def admin_client_():
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    return client


def fill_carts(count):
    product = ProductFactory()
    variant = product.variants.first()
    for _ in range(count):
        services.cart_add_lines(
            member=DistributorFactory().user,
            product_slug=product.slug,
            quantities={variant.pk: 3},
        )


class TestTheCartAdmin:
    def test_lists_carts_with_their_lines_and_units(self, admin_client_):
        fill_carts(2)
        html = admin_client_.get(CHANGELIST).content.decode()
        assert html.count('class="field-unit_count">3<') == 2

    def test_the_query_count_does_not_grow_with_the_carts(
        self, admin_client_, django_assert_max_num_queries
    ):
        fill_carts(2)
        with django_assert_max_num_queries(8) as few:
            assert admin_client_.get(CHANGELIST).status_code == 200
        fill_carts(20)
        with django_assert_max_num_queries(8) as many:
            assert admin_client_.get(CHANGELIST).status_code == 200
        assert len(few.captured_queries) == len(many.captured_queries)

    def test_a_cart_can_be_read_but_not_changed(self, admin_client_):
        fill_carts(1)
        cart = Cart.objects.get()
        response = admin_client_.get(f"{CHANGELIST}{cart.pk}/change/")
        assert response.status_code == 200
        assert admin_client_.get(f"{CHANGELIST}add/").status_code == 403
        assert (
            admin_client_.post(f"{CHANGELIST}{cart.pk}/delete/", {"post": "yes"}).status_code == 403
        )
        assert Cart.objects.filter(pk=cart.pk).exists()

    def test_a_distributor_cannot_open_it(self):
        client = Client()
        client.force_login(DistributorFactory().user)
        assert client.get(CHANGELIST).status_code == 302
