"""Two checkouts redeeming the same points at the same moment, on the real PostgreSQL: the
account row lock makes the second wait and see what the first left (RELIABILITY N2)."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from members import points
from members.models import PointsEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def redeem_together(member, amounts):
    barrier = threading.Barrier(len(amounts))
    outcomes = []
    lock = threading.Lock()

    def work(index, amount):
        outcome = "error"
        try:
            barrier.wait(timeout=30)
            points.points_redeem(
                member=member,
                points=amount,
                goods_base=Decimal("100000"),
                order_id=500 + index,
                order_number=f"W{100500 + index}",
            )
            outcome = "redeemed"
        except ValidationError:
            outcome = "refused"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [
        threading.Thread(target=work, args=(index, amount)) for index, amount in enumerate(amounts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def test_two_redemptions_of_the_whole_balance_spend_it_once():
    member = UserFactory()
    points.points_earn(
        member=member, amount=Decimal("800"), multiplier=Decimal(1), order_id=1, order_number="W1"
    )
    outcomes = redeem_together(member, [800, 800])
    ledger = sum(PointsEntry.objects.filter(member=member).values_list("points", flat=True))
    print(f"\nN2 race: {outcomes}, balance {points.points_balance(member)}, ledger {ledger}")
    assert outcomes == ["redeemed", "refused"]
    assert points.points_balance(member) == 0 == ledger


def test_many_small_redemptions_never_overdraw():
    member = UserFactory()
    points.points_earn(
        member=member, amount=Decimal("1000"), multiplier=Decimal(1), order_id=1, order_number="W1"
    )
    outcomes = redeem_together(member, [300] * 6)
    assert outcomes.count("redeemed") == 3 and outcomes.count("refused") == 3
    assert points.points_balance(member) == 100
    assert not points.ledger_mismatches()


def test_l4_twenty_redemptions_of_100_to_600_against_1000_points():
    member = UserFactory()
    points.points_earn(
        member=member, amount=Decimal("1000"), multiplier=Decimal(1), order_id=1, order_number="W1"
    )
    amounts = [100 + (index * 137) % 501 for index in range(20)]
    redeem_together(member, amounts)
    redeemed = -sum(
        PointsEntry.objects.filter(member=member, kind="redeem").values_list("points", flat=True)
    )
    ledger = sum(PointsEntry.objects.filter(member=member).values_list("points", flat=True))
    balance = points.points_balance(member)
    print(f"\nL4: redeemed {redeemed} of 1000, balance {balance}, ledger {ledger}")
    assert redeemed <= 1000 and balance >= 0 and balance == ledger == 1000 - redeemed
