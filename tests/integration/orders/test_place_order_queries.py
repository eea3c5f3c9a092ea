"""Placing an order costs the same number of queries whatever the number of lines: the stock of
every line is taken in one UPDATE, the lines and the stock movements in one INSERT each."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import StockMovement, Variant
from orders.checkout import order_place
from orders.models import Order
from orders.services import cart_add_lines
from tests.factories import AddressFactory, DistributorFactory, ProductFactory, ShippingRateFactory

pytestmark = pytest.mark.django_db

# Counted on PostgreSQL; the figure is the ceiling the placing may not pass, and one line
# must cost exactly what 25 lines cost.
MAX_QUERIES = 19


def a_cart(member, *, products: int, variants_each: int, units: int) -> None:
    sizes = [f"V{i}" for i in range(variants_each)]
    for _ in range(products):
        product = ProductFactory(variants=sizes)
        cart_add_lines(
            member=member,
            product_slug=product.slug,
            quantities={variant.pk: units for variant in product.variants.all()},
        )


def placing_queries(member) -> tuple[Order, list[str]]:
    address = AddressFactory(member=member)
    with CaptureQueriesContext(connection) as captured:
        order = order_place(
            member=member,
            checkout_key=uuid.uuid4(),
            address_id=address.pk,
            method_code="express",
            payment_method="bank_transfer",
        )
    return order, [query["sql"] for query in captured.captured_queries]


class TestPlacingAnOrder:
    @pytest.mark.usefixtures("warm_layout")
    def test_costs_the_same_queries_for_one_line_and_for_twenty_five(self):
        ShippingRateFactory()
        one_buyer, many_buyer = DistributorFactory().user, DistributorFactory().user
        a_cart(one_buyer, products=1, variants_each=1, units=40)
        # 25 lines over 5 products of 5 variants: tiers, stock and lines for each of them.
        a_cart(many_buyer, products=5, variants_each=5, units=10)

        one, one_queries = placing_queries(one_buyer)
        many, many_queries = placing_queries(many_buyer)

        print(f"\nplace order: 1 line {len(one_queries)} queries, 25 lines {len(many_queries)}")
        assert (one.lines.count(), many.lines.count()) == (1, 25)
        assert len(one_queries) == len(many_queries), "\n".join(many_queries)
        assert len(many_queries) <= MAX_QUERIES, "\n".join(many_queries)

    def test_takes_each_line_once_with_its_own_balance(self):
        ShippingRateFactory()
        member = DistributorFactory().user
        a_cart(member, products=5, variants_each=5, units=10)

        order, queries = placing_queries(member)

        updates = [sql for sql in queries if sql.startswith('UPDATE "catalog_variant"')]
        assert len(updates) == 1
        moved = StockMovement.objects.filter(reference=f"order:{order.number}")
        assert moved.count() == 25
        assert set(moved.values_list("delta", "balance_after")) == {(-10, 90)}
        assert set(Variant.objects.filter(pk__in=moved.values("variant")).values_list("stock")) == {
            (90,)
        }
