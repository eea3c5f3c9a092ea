"""Staff in their roles, customers owned by a salesperson, and orders shipped through the real
services, for the follow-up and grading tests."""

from members.models import Distributor
from orders import lifecycle
from orders.models import Order
from tests.factories import DistributorFactory, ProductFactory, StaffFactory, place_order
from tests.integration.staff.helpers import in_role, salesperson


def sales_user(first_name: str, **user):
    profile = salesperson(first_name=first_name)
    for field, value in user.items():
        setattr(profile.user, field, value)
    profile.user.save()
    return in_role(profile.user, "sales")


def staff_in(role: str, **fields):
    return in_role(StaffFactory(**fields), role)


def owned_distributor(owner, **fields) -> Distributor:
    """A distributor owned by `owner` (set directly: the tests here are not about assigning)."""
    distributor = DistributorFactory(**fields)
    Distributor.objects.filter(pk=distributor.pk).update(owner=owner)
    distributor.refresh_from_db()
    return distributor


def order_for(distributor: Distributor, units: int = 60) -> Order:
    product = ProductFactory(variants__stock=500)
    size = product.variants.order_by("position").first()
    return place_order(distributor.user, {size: units})


def ship(order: Order, *, by, carrier="DHL Express", tracking_number="JD014600006281230", **kw):
    """Pay the order by bank transfer (if unpaid) and record a parcel for it."""
    order.refresh_from_db()
    if order.is_unpaid:
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=by)
    return lifecycle.shipment_add(
        order_id=order.pk,
        carrier=carrier,
        tracking_number=tracking_number,
        tracking_url=kw.pop("tracking_url", f"https://track.example/{tracking_number}"),
        by=by,
    )
