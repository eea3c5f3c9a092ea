"""An order's points through its life: earned when paid (at the level's multiplier), taken
back in the share refunded, and nothing earned by an order cancelled unpaid."""

from decimal import ROUND_FLOOR, Decimal

import pytest

from members import points
from members.models import Distributor, Level, PointsEntry
from orders import lifecycle
from tests.factories import ProductFactory, StaffFactory, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def sizes():
    return list(ProductFactory(variants__stock=100).variants.order_by("position"))


@pytest.fixture
def finance():
    from django.contrib.auth.models import Group

    user = StaffFactory()
    user.groups.add(Group.objects.get(name="finance"))
    return user


def expected(order, multiplier=Decimal(1)) -> int:
    return int((order.grand_total_base * multiplier).to_integral_value(rounding=ROUND_FLOOR))


def test_paying_earns_and_refunding_by_parts_takes_them_back(buyer, sizes, finance):
    order = place_order(buyer, {sizes[0]: 30, sizes[1]: 30})
    assert points.points_balance(buyer) == 0
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance)
    order.refresh_from_db()
    earned = expected(order)
    assert earned > 0 and points.points_balance(buyer) == earned
    line = order.lines.order_by("pk").first()
    lifecycle.refund_create(order_id=order.pk, by=finance, reason="Two torn", lines={line.pk: 2})
    order.refresh_from_db()
    partly = points.points_balance(buyer)
    assert 0 < partly < earned
    lifecycle.refund_create(order_id=order.pk, by=finance, reason="The rest")
    assert points.points_balance(buyer) == 0
    kinds = list(PointsEntry.objects.filter(member=buyer).values_list("kind", flat=True))
    assert sorted(kinds) == ["earn", "reverse", "reverse"]
    assert not points.ledger_mismatches()


def test_the_level_multiplier_counts(buyer, sizes, finance):
    gold = Level.objects.get(name="Gold")
    Distributor.objects.filter(user=buyer).update(level=gold)
    order = place_order(buyer, {sizes[0]: 60})
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance)
    order.refresh_from_db()
    assert points.points_balance(buyer) == expected(order, gold.points_multiplier)


def test_an_order_cancelled_unpaid_earns_nothing(buyer, sizes):
    order = place_order(buyer, {sizes[0]: 60})
    lifecycle.order_cancel_by_buyer(member=buyer, number=order.number)
    assert not PointsEntry.objects.filter(member=buyer).exists()
