"""Reconciliation (RELIABILITY N1, N3, N4): a shop run through the services reconciles, and each
kind of mismatch planted behind the services' back is found, by the reads and the command."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import F
from django.utils import timezone

from catalog.models import StockMovement, Variant
from catalog.services import stock_release, stock_take
from orders import lifecycle
from orders.models import Order, OrderEvent, OrderState, Payment, PaymentMethod, WebhookEvent
from orders.reconcile import (
    audit_problems,
    payment_problems,
    points_problems,
    reconcile,
    stock_problems,
)
from tests.factories import DistributorFactory, ProductFactory, StaffFactory, place_order
from wholesale.money import Money

pytestmark = pytest.mark.django_db

Reason = StockMovement.Reason
LATER = timedelta(days=30)


def finance_user():
    user = StaffFactory()
    user.user_permissions.add(
        Permission.objects.get(codename="confirm_payment", content_type__app_label="orders")
    )
    return user


def drop_constraint(table: str, name: str) -> None:
    """Lift a database check inside the test's transaction (rolled back after the test), to
    plant what the database otherwise refuses and see the reads find it all the same. A
    partial unique constraint is an index in PostgreSQL."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
        if cursor.fetchone():
            cursor.execute(f'DROP INDEX "{name}"')
        else:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')


def kinds(problems) -> set[str]:
    return {problem.kind for problem in problems}


def all_problems():
    return [problem for problems in reconcile().values() for problem in problems]


@pytest.fixture
def shop(buyer):
    """Two products and an order awaiting a bank transfer: 30 + 30 units."""
    product = ProductFactory()
    s, m = product.variants.order_by("position")
    order = place_order(buyer, {s: 30, m: 30})
    return order, s, m


def transitions(order) -> list[tuple[str, str]]:
    return list(
        OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.TRANSITION)
        .order_by("created_at", "pk")
        .values_list("from_state", "to_state")
    )


class TestAShopRunByTheServicesReconciles:
    def test_after_a_full_lifecycle_history_rows_equal_transitions(self, shop):
        order, s, _m = shop
        finance = finance_user()
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance, reference="TT-1")
        lifecycle.order_transition(
            order_id=order.pk, to_state=OrderState.PROCESSING, by=finance, reason="picking"
        )
        lifecycle.shipment_add(order_id=order.pk, carrier="DHL", tracking_number="1Z", by=finance)
        line = order.lines.get(variant=s)
        lifecycle.refund_create(order_id=order.pk, by=finance, reason="damaged", lines={line.pk: 2})
        lifecycle.refund_create(order_id=order.pk, by=finance, reason="goodwill")

        order.refresh_from_db()
        made = [
            (OrderState.PENDING_PAYMENT, OrderState.PAID),
            (OrderState.PAID, OrderState.PROCESSING),
            (OrderState.PROCESSING, OrderState.SHIPPED),
            (OrderState.SHIPPED, OrderState.REFUNDED),
        ]
        print(f"\nN4: {len(transitions(order))} history rows for {len(made)} transitions")
        assert order.state == OrderState.REFUNDED
        assert transitions(order) == made
        assert all_problems() == []

    def test_cancelled_expired_and_still_unpaid_orders_reconcile(self, buyer, shop, settings):
        order, s, m = shop
        cancelled = place_order(buyer, {s: 20, m: 20})
        lifecycle.order_cancel_by_buyer(member=buyer, number=cancelled.number)
        settings.WHOLESALE_UNPAID_TRANSFER_HOURS = 1
        expiring = place_order(DistributorFactory().user, {s: 30})
        lifecycle.orders_expire_unpaid(now=expiring.pay_by + timedelta(seconds=1))

        assert Order.objects.get(pk=expiring.pk).state == OrderState.CANCELLED
        assert Order.objects.get(pk=order.pk).state == OrderState.PENDING_PAYMENT
        assert Variant.objects.get(pk=s.pk).stock == 70
        assert all_problems() == []

    def test_the_command_says_so_and_exits_zero(self, shop, capsys):
        call_command("orders_reconcile")
        out = capsys.readouterr().out
        assert "N1 stock: 0 problem(s)" in out
        assert "N3 orders ↔ payments: 0 problem(s)" in out
        assert "N4 audit: 0 problem(s)" in out


class TestStockMismatchesAreFound:
    def test_an_order_that_dropped_its_stock_without_giving_it_back(self, shop):
        order, _s, _m = shop
        Order.objects.filter(pk=order.pk).update(holds_stock=False)
        assert kinds(stock_problems()) == {"sold_vs_held", "order_vs_ledger"}

    def test_stock_taken_for_an_order_that_does_not_exist(self, shop):
        _order, s, _m = shop
        stock_take(quantities={s.pk: 3}, reason=Reason.ORDER, reference="order:W999999")
        problems = stock_problems()
        assert kinds(problems) == {"sold_vs_held", "stock_without_order"}
        assert "order W999999" in {p.subject for p in problems}

    def test_an_order_holding_stock_it_gave_back(self, shop):
        order, s, _m = shop
        stock_release(
            quantities={s.pk: 30}, reason=Reason.ORDER_CANCELLED, reference=f"order:{order.number}"
        )
        assert kinds(stock_problems()) == {"sold_vs_held", "order_vs_ledger"}

    def test_a_cancelled_order_still_holding_stock(self, shop):
        order, _s, _m = shop
        Order.objects.filter(pk=order.pk).update(state=OrderState.CANCELLED)
        assert kinds(stock_problems()) == {"cancelled_holds_stock"}

    def test_stock_changed_behind_the_ledger(self, shop):
        _order, s, _m = shop
        Variant.objects.filter(pk=s.pk).update(stock=F("stock") + 1)
        assert kinds(stock_problems()) == {"stock_vs_ledger"}

    def test_negative_stock(self, shop):
        _order, s, _m = shop
        drop_constraint("catalog_variant", "variant_stock_gte_0")
        Variant.objects.filter(pk=s.pk).update(stock=-1)
        assert "negative_stock" in kinds(stock_problems())

    def test_made_to_order_lines_are_not_counted(self, buyer):
        product = ProductFactory(made_to_order=True, lead_time_days=20)
        variant = product.variants.first()
        order = place_order(buyer, {variant: 40})
        assert order.lines.count() == 1
        assert not StockMovement.objects.filter(reason=Reason.ORDER).exists()
        assert stock_problems() == []


class TestPaymentMismatchesAreFound:
    def test_a_paid_order_without_a_succeeded_payment(self, shop):
        order, _s, _m = shop
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance_user())
        Payment.objects.filter(order=order).update(status=Payment.Status.FAILED)
        assert kinds(payment_problems()) == {"paid_payments"}

    def test_a_paid_order_with_two_succeeded_payments(self, shop):
        order, _s, _m = shop
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance_user())
        drop_constraint("orders_payment", "payment_one_succeeded_per_order")
        Payment.objects.create(
            order=order,
            method=PaymentMethod.CARD,
            status=Payment.Status.SUCCEEDED,
            amount=order.grand_total,
            currency=order.currency,
        )
        assert kinds(payment_problems()) == {"paid_payments"}

    def test_a_payment_of_another_amount_or_currency(self, shop):
        order, _s, _m = shop
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance_user())
        Payment.objects.filter(order=order).update(amount=F("amount") - Decimal("0.01"))
        assert kinds(payment_problems()) == {"payment_amount"}
        Payment.objects.filter(order=order).update(amount=order.grand_total, currency="EUR")
        assert kinds(payment_problems()) == {"payment_amount"}

    def test_a_paid_order_without_its_date(self, shop):
        order, _s, _m = shop
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance_user())
        Order.objects.filter(pk=order.pk).update(paid_at=None)
        assert kinds(payment_problems()) == {"paid_without_date"}

    def test_a_card_payment_after_the_order_expired(self, shop):
        order, _s, _m = shop
        lifecycle.orders_expire_unpaid(now=timezone.now() + LATER)
        _order, recorded = lifecycle.payment_succeeded(
            order_id=order.pk,
            method=PaymentMethod.CARD,
            amount=Money(order.grand_total, order.currency),
            intent_id="pi_late",
            actor_label="stripe",
        )
        assert recorded
        assert kinds(payment_problems()) == {"payment_order_unpaid"}

    def test_a_bank_transfer_confirmed_by_nobody_or_by_someone_not_in_finance(self, shop):
        order, _s, _m = shop
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=StaffFactory())
        assert kinds(payment_problems()) == {"bank_not_finance"}
        Payment.objects.filter(order=order).update(confirmed_by=None)
        assert kinds(payment_problems()) == {"bank_without_actor"}

    def test_a_stripe_success_without_its_payment(self, shop):
        WebhookEvent.objects.create(
            event_id="evt_1",
            type="payment_intent.succeeded",
            payload={"id": "evt_1", "data": {"object": {"id": "pi_nowhere"}}},
            processed_at=timezone.now(),
            result="no order",
        )
        problems = payment_problems()
        assert kinds(problems) == {"stripe_intent_payments"}
        assert problems[0].subject == "intent pi_nowhere"


def tamper(sql: str, *params) -> None:
    """Change the order history behind the ORM's back, as a bad migration or a hand-made SQL
    fix would: through the ORM it is append-only."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def drop_events(order, *, kind=None, to_state=None) -> None:
    column, value = ("kind", kind) if kind else ("to_state", to_state)
    tamper(f"DELETE FROM orders_orderevent WHERE order_id = %s AND {column} = %s", order.pk, value)


class TestAuditGapsAreFound:
    def test_an_order_without_its_placed_event(self, shop):
        order, _s, _m = shop
        tamper(
            "DELETE FROM orders_orderevent WHERE order_id = %s AND kind = %s", order.pk, "placed"
        )
        assert kinds(audit_problems()) == {"no_placed_event"}

    def test_a_state_reached_without_a_transition(self, shop):
        order, _s, _m = shop
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance_user())
        Order.objects.filter(pk=order.pk).update(state=OrderState.PROCESSING)
        problems = audit_problems()
        assert kinds(problems) == {"transition_path"}
        assert "its history leads to paid" in problems[0].detail

    def test_a_missing_history_row_in_the_middle(self, shop):
        order, _s, _m = shop
        finance = finance_user()
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance)
        lifecycle.shipment_add(order_id=order.pk, carrier="DHL", tracking_number="1Z", by=finance)
        tamper(
            "DELETE FROM orders_orderevent WHERE order_id = %s AND to_state = %s", order.pk, "paid"
        )
        assert kinds(audit_problems()) == {"transition_path"}

    def test_a_transition_the_state_machine_forbids_or_nobody_made(self, shop):
        order, _s, _m = shop
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance_user())
        event = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.TRANSITION)
        tamper("UPDATE orders_orderevent SET actor_label = %s WHERE id = %s", " ", event.pk)
        assert "says nobody did it" in audit_problems()[0].detail
        tamper("UPDATE orders_orderevent SET from_state = %s WHERE id = %s", "cancelled", event.pk)
        assert "starts from cancelled" in audit_problems()[0].detail

    def test_stock_movements_without_a_reason_or_an_order_reference(self, shop):
        _order, s, _m = shop
        stock_take(quantities={s.pk: 1}, reason=Reason.ORDER, reference="")
        StockMovement.objects.create(variant=s, delta=1, balance_after=70, reason="")
        assert kinds(audit_problems()) == {"movement_reason", "movement_reference"}


class TestTheCommand:
    def test_fails_with_each_problem_listed(self, shop, capsys):
        order, s, _m = shop
        Variant.objects.filter(pk=s.pk).update(stock=F("stock") - 1)
        tamper(
            "DELETE FROM orders_orderevent WHERE order_id = %s AND kind = %s", order.pk, "placed"
        )

        with pytest.raises(CommandError) as failed:
            call_command("orders_reconcile")

        out = capsys.readouterr().out
        assert failed.value.returncode == 1
        assert "2 reconciliation problem(s)" in str(failed.value)
        assert f"N1 stock_vs_ledger: variant {s.sku}" in out
        assert f"N4 no_placed_event: order {order.number}" in out
        assert "N3 orders ↔ payments: 0 problem(s)" in out

    def test_runs_only_the_checks_asked_for(self, shop, capsys):
        _order, s, _m = shop
        Variant.objects.filter(pk=s.pk).update(stock=F("stock") - 1)
        call_command("orders_reconcile", only="payments,audit")
        assert "N1" not in capsys.readouterr().out
        with pytest.raises(CommandError, match="Unknown check"):
            call_command("orders_reconcile", only="weather")


class TestPoints:
    """N2: balances against the ledger, orders earning twice, points not given back."""

    def test_a_paid_then_refunded_order_reconciles(self, buyer):
        size = ProductFactory(variants__stock=100).variants.first()
        order = place_order(buyer, {size: 60})
        finance = finance_user()
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance)
        assert points_problems() == []
        lifecycle.refund_create(order_id=order.pk, by=finance, reason="Returned")
        assert points_problems() == []

    def test_finds_what_does_not_add_up(self, buyer):
        from members.models import PointsAccount, PointsEntry

        size = ProductFactory(variants__stock=100).variants.first()
        order = place_order(buyer, {size: 60})
        finance = finance_user()
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance)
        # Planted behind the services' back: a second earning, a balance off its ledger,
        # and the order refunded without its points taken back.
        PointsEntry.objects.create(
            member=buyer, kind="earn", points=5, reason="x", order_id=order.pk
        )
        PointsAccount.objects.filter(member=buyer).update(balance=F("balance") + 1)
        Order.objects.filter(pk=order.pk).update(state=OrderState.REFUNDED)
        assert kinds(points_problems()) == {"earned_twice", "balance", "not_given_back"}
        with pytest.raises(CommandError):
            call_command("orders_reconcile", "--only", "points", stdout=io.StringIO())
