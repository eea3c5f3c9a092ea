from decimal import Decimal

import pytest

from catalog.models import Variant
from orders import lifecycle
from orders.models import OrderState
from tests.factories import ProductFactory, StaffFactory, place_order

pytestmark = pytest.mark.django_db


def test_place_pay_ship_refund(buyer):
    product = ProductFactory()
    s, m = product.variants.order_by("position")
    order = place_order(buyer, {s: 30, m: 30})
    assert order.number.startswith("W")
    assert order.goods_total == Decimal("198.00")
    assert Variant.objects.get(pk=s.pk).stock == 70
    finance = StaffFactory()
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance, reference="TT123")
    order.refresh_from_db()
    assert order.state == OrderState.PAID
    lifecycle.shipment_add(order_id=order.pk, carrier="DHL", tracking_number="1Z", by=finance)
    line = order.lines.first()
    lifecycle.refund_create(order_id=order.pk, by=finance, reason="damaged", lines={line.pk: 2})
    order.refresh_from_db()
    assert order.refunded_total == Decimal("6.60")
    lifecycle.refund_create(order_id=order.pk, by=finance, reason="all")
    order.refresh_from_db()
    assert order.state == OrderState.REFUNDED
    assert [e.kind for e in order.events.all()]


def test_expire_releases_once(buyer):
    product = ProductFactory()
    s, _m = product.variants.order_by("position")
    place_order(buyer, {s: 40})
    from datetime import timedelta

    from django.utils import timezone

    later = timezone.now() + timedelta(days=30)
    assert lifecycle.orders_expire_unpaid(now=later) == 1
    assert lifecycle.orders_expire_unpaid(now=later) == 0
    assert Variant.objects.get(pk=s.pk).stock == 100
