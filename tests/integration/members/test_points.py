"""The points ledger (members.points): earning, redeeming, reversing, expiring and adjusting,
and the invariants behind them (RELIABILITY N2): the balance equals the sum of the ledger and
is never negative, whatever sequence of operations runs."""

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from members import points
from members.models import PointsAccount, PointsEntry, PointsRules
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Kind = PointsEntry.Kind


def ledger_sum(member) -> int:
    return sum(PointsEntry.objects.filter(member=member).values_list("points", flat=True))


def earn(member, amount, order_id=1, multiplier="1"):
    return points.points_earn(
        member=member,
        amount=Decimal(amount),
        multiplier=Decimal(multiplier),
        order_id=order_id,
        order_number=f"W{100000 + order_id}",
    )


def redeem(member, count, order_id=50, goods="10000"):
    return points.points_redeem(
        member=member,
        points=count,
        goods_base=Decimal(goods),
        order_id=order_id,
        order_number=f"W{100000 + order_id}",
    )


class TestEarning:
    def test_points_per_unit_times_the_level_multiplier_rounded_down(self):
        member = UserFactory()
        entry = earn(member, "250.99", multiplier="1.5")
        assert entry.points == 376  # 250.99 × 1 × 1.5 = 376.485
        assert entry.expires_at is not None
        assert points.points_balance(member) == 376

    def test_a_payment_confirmed_twice_earns_once(self):
        member = UserFactory()
        earn(member, "100")
        assert earn(member, "100") is None
        assert points.points_balance(member) == 100 == ledger_sum(member)

    def test_nothing_for_an_amount_below_one_point(self):
        member = UserFactory()
        assert earn(member, "0.40") is None
        assert not PointsEntry.objects.filter(member=member).exists()


class TestRedeeming:
    def test_within_the_balance_minimum_and_cap(self):
        member = UserFactory()
        earn(member, "5000")
        entry = redeem(member, 1000, goods="1000")  # cap: 20% of 1000 = 200.00 = 20,000 points
        assert entry.points == -1000 and points.points_balance(member) == 4000

    @pytest.mark.parametrize(
        ("count", "goods", "code"),
        [
            (99, "1000", "minimum"),  # under the minimum of 100
            (6000, "100000", "balance"),  # more than held
            (2500, "100", "cap"),  # 20% of 100.00 is 20.00 = 2000 points
            (-100, "1000", "points"),
            (0, "1000", "points"),
        ],
    )
    def test_refusals_change_nothing(self, count, goods, code):
        member = UserFactory()
        earn(member, "5000")
        with pytest.raises(ValidationError) as refused:
            redeem(member, count, goods=goods)
        assert refused.value.code == code
        assert points.points_balance(member) == 5000 == ledger_sum(member)

    def test_limits_for_the_checkout(self):
        limits = points.redeem_limits(balance=5000, goods_base=Decimal("100"))
        assert (limits.minimum, limits.maximum, limits.possible) == (100, 2000, True)
        assert not points.redeem_limits(balance=50, goods_base=Decimal("100")).possible
        assert points.points_value(1999) == Decimal("19.99")


class TestReversing:
    def test_a_cancelled_order_returns_the_points_spent_on_it(self):
        member = UserFactory()
        earn(member, "1000")
        redeem(member, 300, order_id=7)
        points.points_reverse_order(member=member, order_id=7, order_number="W100007")
        points.points_reverse_order(member=member, order_id=7, order_number="W100007")
        assert points.points_balance(member) == 1000 == ledger_sum(member)

    def test_a_partial_refund_takes_back_its_share_of_what_was_earned(self):
        member = UserFactory()
        earn(member, "1000", order_id=3)
        points.points_reverse_order(
            member=member, order_id=3, order_number="W100003", share=Decimal("0.25")
        )
        assert points.points_balance(member) == 750
        points.points_reverse_order(member=member, order_id=3, order_number="W100003")
        assert points.points_balance(member) == 0 == ledger_sum(member)

    def test_points_already_spent_are_taken_back_only_as_far_as_the_balance_goes(self):
        member = UserFactory()
        earn(member, "1000", order_id=3)
        redeem(member, 900, order_id=4)
        points.points_reverse_order(member=member, order_id=3, order_number="W100003")
        assert points.points_balance(member) == 0 == ledger_sum(member)


class TestExpiry:
    def test_unspent_points_expire_first_in_first_out(self):
        member = UserFactory()
        rules = points.points_rules()
        PointsRules.objects.filter(pk=rules.pk).update(expiry_days=30)
        earn(member, "500", order_id=1)  # expires in 30 days
        redeem(member, 200, order_id=9)  # spends the oldest points first: 300 of those left
        PointsRules.objects.filter(pk=rules.pk).update(expiry_days=60)
        earn(member, "300", order_id=2)  # expires in 60 days
        now = timezone.now()
        assert points.points_expire(now=now + timedelta(days=20)) == 0
        assert [count for _day, count in points.points_expiring(member, within_days=31)] == [300]
        assert points.points_expire(now=now + timedelta(days=30, minutes=1)) == 1
        assert points.points_balance(member) == 300  # the later points are still there
        assert points.points_expire(now=now + timedelta(days=31)) == 0  # nothing twice
        assert points.points_expire(now=now + timedelta(days=61)) == 1
        assert points.points_balance(member) == 0 == ledger_sum(member)


class TestAdjusting:
    def test_only_the_super_admin_with_a_reason(self):
        member, admin = UserFactory(), UserFactory(is_staff=True, is_superuser=True)
        with pytest.raises(ValidationError):
            points.points_adjust(
                member=member, points=50, by=UserFactory(is_staff=True), reason="x"
            )
        with pytest.raises(ValidationError):
            points.points_adjust(member=member, points=50, by=admin, reason=" ")
        with pytest.raises(ValidationError):
            points.points_adjust(member=member, points=-1, by=admin, reason="Too many")
        entry = points.points_adjust(member=member, points=50, by=admin, reason="Goodwill")
        assert (entry.kind, entry.by, points.points_balance(member)) == (Kind.ADJUST, admin, 50)

    def test_the_database_refuses_a_negative_balance_anyway(self):
        from django.db import IntegrityError, transaction

        member = UserFactory()
        account = PointsAccount.objects.create(member=member)
        with pytest.raises(IntegrityError), transaction.atomic():
            PointsAccount.objects.filter(pk=account.pk).update(balance=-1)

    def test_entries_are_append_only(self):
        from wholesale.ledger import AppendOnlyError

        member = UserFactory()
        entry = earn(member, "100")
        with pytest.raises(AppendOnlyError):
            entry.delete()
        with pytest.raises(AppendOnlyError):
            PointsEntry.objects.filter(pk=entry.pk).update(points=5)


operations = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(0, 5000)),
        st.tuples(st.just("redeem"), st.integers(-50, 3000)),
        st.tuples(st.just("reverse"), st.integers(0, 100)),
        st.tuples(st.just("expire"), st.integers(0, 800)),
        st.tuples(st.just("adjust"), st.integers(-2000, 2000)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=operations)
def test_any_sequence_keeps_the_balance_equal_to_the_ledger_and_never_negative(steps):
    member = UserFactory.build()
    member.save()
    admin = UserFactory.build(is_superuser=True, is_staff=True)
    admin.save()
    clock = timezone.now()
    for index, (operation, value) in enumerate(steps):
        try:
            if operation == "earn":
                earn(member, str(value), order_id=index)
            elif operation == "redeem":
                redeem(member, value, order_id=1000 + index)
            elif operation == "reverse":
                order_id = index // 2  # some existing earn or redeem orders, some not
                points.points_reverse_order(
                    member=member,
                    order_id=order_id,
                    order_number="W1",
                    share=Decimal(value) / 100,
                )
            elif operation == "expire":
                points.points_expire(now=clock + timedelta(days=value))
            else:
                points.points_adjust(member=member, points=value, by=admin, reason="Test")
        except ValidationError:
            pass  # a refusal changes nothing; the invariants below say so
        balance = points.points_balance(member)
        assert balance >= 0
        assert balance == ledger_sum(member)
    assert not [m for m in points.ledger_mismatches() if m[0] == member.pk]


def test_the_nightly_job_expires_points(settings):
    from wholesale.celery import app

    member = UserFactory()
    earn(member, "100")
    name = settings.CELERY_BEAT_SCHEDULE["members-points-expire"]["task"]
    importlib.import_module(name.rpartition(".")[0])  # what the worker's autodiscovery does
    task = app.tasks[name]
    assert task.apply().get() == 0  # nothing due yet
    from unittest.mock import patch

    later = timezone.now() + timedelta(days=366)
    with patch("members.points.timezone.now", return_value=later):
        assert task.apply().get() == 1
    assert points.points_balance(member) == 0
