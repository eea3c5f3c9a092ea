"""Two requests of one member at the same moment (two tabs, two devices), on PostgreSQL."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from orders import services
from orders.models import Cart, CartLine
from tests.factories import DistributorFactory, ProductFactory

THREADS = 8


def run_together(target, count):
    barrier = threading.Barrier(count)
    results: list = []

    def worker(index):
        try:
            barrier.wait(timeout=10)
            results.append(target(index))
        except Exception as exc:  # collected and asserted by the test
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
class TestAddingAtTheSameMoment:
    def test_first_additions_make_one_cart_and_lose_no_units(self):
        member = DistributorFactory().user
        product = ProductFactory()
        variant = product.variants.first()

        def add(_index):
            return services.cart_add_lines(
                member=member, product_slug=product.slug, quantities={variant.pk: 3}
            )

        results = run_together(add, THREADS)
        assert not [r for r in results if isinstance(r, Exception)]
        assert Cart.objects.filter(member=member).count() == 1
        assert CartLine.objects.get().quantity == 3 * THREADS

    def test_never_holds_more_than_the_stock(self):
        member = DistributorFactory().user
        product = ProductFactory()
        variant = product.variants.first()  # 100 in stock

        def add(_index):
            return services.cart_add_lines(
                member=member, product_slug=product.slug, quantities={variant.pk: 30}
            )

        results = run_together(add, THREADS)
        refused = [r for r in results if isinstance(r, ValidationError)]
        assert len(refused) == THREADS - 3
        assert len(results) == THREADS
        assert CartLine.objects.get().quantity == 90
