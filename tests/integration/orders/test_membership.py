"""Levels from the ordering side: paying an order that crosses a threshold raises the level
and tells the member once; a refund lowers it again; the nightly job lets a level lapse when
its orders age past 12 months."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from members.models import Distributor, Level, LevelChange
from orders import lifecycle
from orders.membership import (
    member_figures,
    member_level_recompute,
    members_level_recompute_all,
    window_start,
)
from orders.models import Order
from tests.factories import DistributorFactory, ProductFactory, StaffFactory, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def size():
    return ProductFactory(variants__stock=1000).variants.order_by("position").first()


@pytest.fixture
def finance():
    user = StaffFactory()
    user.groups.add(Group.objects.get(name="finance"))
    return user


@pytest.fixture
def silver():
    """Silver within one order of 160 units (528.00 of goods), or with 3 paid orders."""
    Level.objects.filter(name="Silver").update(min_spend=Decimal(500), min_orders=3)
    return Level.objects.get(name="Silver")


def level_name(member) -> str | None:
    distributor = Distributor.objects.select_related("level").get(user=member)
    return distributor.level.name if distributor.level else None


def level_emails(mailoutbox):
    return [m for m in mailoutbox if "level" in m.subject.lower() or "member at" in m.subject]


def paid(member, size, finance, capture, units=160):
    order = place_order(member, {size: units})
    with capture(execute=True):
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance)
    order.refresh_from_db()
    return order


class TestPayingAnOrder:
    def test_crossing_a_threshold_upgrades_and_emails_once(
        self,
        buyer,
        size,
        finance,
        silver,
        mailoutbox,
        django_capture_on_commit_callbacks,
    ):
        order = paid(buyer, size, finance, django_capture_on_commit_callbacks)
        assert order.grand_total_base > 500
        assert level_name(buyer) == "Silver"
        change = LevelChange.objects.get(distributor__user=buyer)
        assert change.from_level is None and change.to_level == silver
        assert change.spend == order.grand_total_base and change.order_count == 1
        assert order.number in change.reason
        sent = level_emails(mailoutbox)
        assert len(sent) == 1
        assert sent[0].to == [buyer.email]
        assert "Silver" in sent[0].subject and "3% off" in sent[0].body
        # Recomputing again, as the nightly job would, changes and sends nothing.
        with django_capture_on_commit_callbacks(execute=True):
            assert member_level_recompute(member=buyer) is None
        assert LevelChange.objects.filter(distributor__user=buyer).count() == 1
        assert len(level_emails(mailoutbox)) == 1

    def test_below_every_threshold_is_the_default_level_without_an_email(
        self, buyer, size, finance, mailoutbox, django_capture_on_commit_callbacks
    ):
        paid(buyer, size, finance, django_capture_on_commit_callbacks, units=30)
        assert level_name(buyer) == "Member"
        assert level_emails(mailoutbox) == []

    def test_a_rolled_back_payment_changes_no_level(self, buyer, size, finance, silver):
        order = place_order(buyer, {size: 160})
        # No commit callbacks run (the payment's transaction never commits in this test).
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance)
        assert level_name(buyer) is None


class TestRefunds:
    def test_a_full_refund_downgrades_and_says_so(
        self,
        buyer,
        size,
        finance,
        silver,
        mailoutbox,
        django_capture_on_commit_callbacks,
    ):
        order = paid(buyer, size, finance, django_capture_on_commit_callbacks)
        assert level_name(buyer) == "Silver"
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.refund_create(order_id=order.pk, by=finance, reason="Lost parcel")
        order.refresh_from_db()
        assert order.state == "refunded"
        assert level_name(buyer) == "Member"
        change = LevelChange.objects.filter(distributor__user=buyer).first()
        assert change.from_level == silver and change.spend == 0
        assert change.order_count == 0
        sent = level_emails(mailoutbox)
        assert len(sent) == 2 and "Member" in sent[-1].subject

    def test_a_partial_refund_counts_net_in_the_base_currency(
        self, buyer, size, finance, django_capture_on_commit_callbacks
    ):
        order = paid(buyer, size, finance, django_capture_on_commit_callbacks)
        line = order.lines.get()
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.refund_create(
                order_id=order.pk, by=finance, reason="Torn", lines={line.pk: 10}
            )
        order.refresh_from_db()
        figures = member_figures(member=buyer)
        assert figures.order_count == 1
        assert figures.spend.amount == order.grand_total_base - order.refunded_total


class TestTheNightlyJob:
    def test_a_level_lapses_when_its_orders_are_older_than_12_months(
        self,
        buyer,
        size,
        finance,
        silver,
        mailoutbox,
        django_capture_on_commit_callbacks,
    ):
        order = paid(buyer, size, finance, django_capture_on_commit_callbacks)
        assert level_name(buyer) == "Silver"
        Order.objects.filter(pk=order.pk).update(paid_at=window_start() - timedelta(days=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert members_level_recompute_all() == 1
        assert level_name(buyer) == "Member"
        assert "Nightly" in LevelChange.objects.filter(distributor__user=buyer).first().reason
        assert len(level_emails(mailoutbox)) == 2

    def test_counts_orders_inside_the_window_and_changes_only_who_moves(
        self, size, finance, silver, django_capture_on_commit_callbacks
    ):
        members = [DistributorFactory().user for _ in range(3)]
        for member in members:
            paid(member, size, finance, django_capture_on_commit_callbacks, units=30)
        # Two more small orders for the first member: three paid orders reach Silver.
        for _ in range(2):
            order = paid(members[0], size, finance, django_capture_on_commit_callbacks, 30)
        assert level_name(members[0]) == "Silver"
        Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(days=400))
        before = LevelChange.objects.count()
        assert members_level_recompute_all(batch=2) == 1
        assert level_name(members[0]) == "Member"
        assert [level_name(m) for m in members[1:]] == ["Member", "Member"]
        assert LevelChange.objects.count() == before + 1
