"""Shipped orders for the tracking tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orders import lifecycle
from orders.models import Shipment
from tests.factories import DistributorFactory, ProductFactory, StaffFactory, place_order

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
A_WEEK_LATER = T0 + timedelta(days=8)


def shipped_order(member=None, *, numbers=("LX100000001CN",), shipped_at=T0):
    """A paid order of `member` (a new distributor if None) with one parcel per number, all
    sent at `shipped_at`. Returns (order, [shipments])."""
    member = member or DistributorFactory().user
    product = ProductFactory()
    variant = product.variants.order_by("position").first()
    order = place_order(member, {variant: 50})
    staff = StaffFactory()
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=staff)
    shipments = []
    for number in numbers:
        shipment = lifecycle.shipment_add(
            order_id=order.pk, carrier="China Post", tracking_number=number, by=staff
        )
        Shipment.objects.filter(pk=shipment.pk).update(shipped_at=shipped_at)
        shipment.refresh_from_db()
        shipments.append(shipment)
    order.refresh_from_db()
    return order, shipments
