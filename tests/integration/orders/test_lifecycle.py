"""After placing: payments, state changes, shipments, refunds and expiry, each leaving its
history row, and stock given back exactly once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalog.models import StockMovement, Variant
from orders import lifecycle
from orders.models import OrderEvent, OrderState, Payment, Refund
from tests.factories import ProductFactory, StaffFactory, place_order
from wholesale.money import Money

pytestmark = pytest.mark.django_db


@pytest.fixture
def sizes():
    return list(ProductFactory().variants.order_by("position"))


@pytest.fixture
def finance():
    return StaffFactory(email="finance@example.test")


@pytest.fixture
def order(buyer, sizes):
    return place_order(buyer, {sizes[0]: 30, sizes[1]: 30})


def stock(variant):
    return Variant.objects.get(pk=variant.pk).stock


def transitions(order):
    return list(
        order.events.filter(kind=OrderEvent.Kind.TRANSITION).values_list(
            "from_state", "to_state", "actor_label"
        )
    )


def test_bank_transfer_confirmed_by_finance(order, finance):
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance, reference="TT-88")
    order.refresh_from_db()
    assert order.state == OrderState.PAID and order.paid_at is not None
    payment = order.payments.get()
    assert (payment.status, payment.confirmed_by, payment.reference) == (
        Payment.Status.SUCCEEDED,
        finance,
        "TT-88",
    )
    assert transitions(order) == [("pending_payment", "paid", finance.email)]


def test_a_payment_recorded_twice_changes_nothing_the_second_time(order):
    amount = order.money("grand_total")
    _order, first = lifecycle.payment_succeeded(
        order_id=order.pk, method="bank_transfer", amount=amount, actor_label="bank"
    )
    _order, second = lifecycle.payment_succeeded(
        order_id=order.pk, method="bank_transfer", amount=amount, actor_label="bank"
    )
    assert (first, second) == (True, False)
    assert order.events.filter(kind=OrderEvent.Kind.PAYMENT).count() == 1
    assert len(transitions(order)) == 1


def test_a_payment_of_the_wrong_amount_does_not_pay_the_order(order):
    wrong = Money(order.grand_total - Decimal("0.01"), order.currency)
    lifecycle.payment_succeeded(
        order_id=order.pk, method="bank_transfer", amount=wrong, actor_label="bank"
    )
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT
    assert "does not match" in order.events.get(kind=OrderEvent.Kind.NOTE).reason


def test_the_buyer_cancels_an_unpaid_order_and_the_stock_comes_back_once(order, buyer, sizes):
    assert stock(sizes[0]) == 70
    lifecycle.order_cancel_by_buyer(member=buyer, number=order.number)
    assert stock(sizes[0]) == 100
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.order_cancel_by_buyer(member=buyer, number=order.number)
    assert stock(sizes[0]) == 100
    assert StockMovement.objects.filter(reason="order_cancelled").count() == 2  # S and M
    assert transitions(order) == [("pending_payment", "cancelled", buyer.email)]
    assert order.payments.get().status == Payment.Status.CANCELLED


def test_a_paid_order_cannot_be_cancelled_by_the_buyer(order, buyer, finance):
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance)
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.order_cancel_by_buyer(member=buyer, number=order.number)


def test_unpaid_orders_expire_after_their_deadline(order, sizes):
    assert lifecycle.orders_expire_unpaid(now=order.pay_by - timedelta(seconds=1)) == 0
    assert lifecycle.orders_expire_unpaid(now=order.pay_by + timedelta(seconds=1)) == 1
    assert lifecycle.orders_expire_unpaid(now=order.pay_by + timedelta(days=1)) == 0
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED and not order.holds_stock
    assert stock(sizes[0]) == 100
    assert transitions(order) == [("pending_payment", "cancelled", "system")]


def test_a_transfer_arriving_after_expiry_cannot_be_confirmed(order, finance):
    lifecycle.orders_expire_unpaid(now=timezone.now() + timedelta(days=60))
    with pytest.raises(lifecycle.TransitionRefused, match="cancelled"):
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance)
    assert order.payments.get().status == Payment.Status.CANCELLED


def test_a_card_paid_after_expiry_is_recorded_for_finance(order):
    lifecycle.orders_expire_unpaid(now=timezone.now() + timedelta(days=60))
    lifecycle.payment_succeeded(
        order_id=order.pk,
        method="card",
        amount=order.money("grand_total"),
        intent_id="pi_late",
        actor_label="stripe",
    )
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
    assert order.payments.get(method="card").status == Payment.Status.SUCCEEDED
    assert "refund it" in order.events.filter(kind=OrderEvent.Kind.NOTE).get().reason


def test_the_state_machine_refuses_a_jump(order, finance):
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.order_transition(order_id=order.pk, to_state=OrderState.SHIPPED, by=finance)
    assert transitions(order) == []


def test_shipping_needs_a_paid_order_and_a_tracking_number(order, finance):
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.shipment_add(order_id=order.pk, carrier="DHL", tracking_number="1", by=finance)
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance)
    with pytest.raises(ValidationError):
        lifecycle.shipment_add(order_id=order.pk, carrier="DHL", tracking_number=" ", by=finance)
    lifecycle.shipment_add(order_id=order.pk, carrier="DHL", tracking_number="JD01", by=finance)
    lifecycle.shipment_add(order_id=order.pk, carrier="DHL", tracking_number="JD02", by=finance)
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    assert order.shipments.count() == 2
    assert [to for _from, to, _by in transitions(order)] == ["paid", "shipped"]


def test_refund_by_line_then_the_rest(order, finance, sizes):
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance)
    line = order.lines.get(variant=sizes[0])
    refund = lifecycle.refund_create(
        order_id=order.pk, by=finance, reason="Damaged", lines={line.pk: 2}
    )
    assert (refund.amount, refund.status) == (Decimal("6.60"), Refund.Status.SUCCEEDED)
    with pytest.raises(ValidationError, match="28 units"):
        lifecycle.refund_create(order_id=order.pk, by=finance, reason="Again", lines={line.pk: 29})
    lifecycle.refund_create(order_id=order.pk, by=finance, reason="Cancelled by phone")
    order.refresh_from_db()
    assert order.refunded_total == order.grand_total
    assert order.state == OrderState.REFUNDED
    # Refunded before shipping: the goods never left, the stock comes back.
    assert stock(sizes[0]) == 100
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.refund_create(order_id=order.pk, by=finance, reason="Once more")


def test_a_refund_after_shipping_gives_no_stock_back(order, finance, sizes):
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance)
    lifecycle.shipment_add(order_id=order.pk, carrier="DHL", tracking_number="X1", by=finance)
    lifecycle.refund_create(order_id=order.pk, by=finance, reason="Lost in transit")
    assert stock(sizes[0]) == 70


def test_a_refund_the_provider_refuses_is_undone(buyer, sizes, finance, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    order = place_order(buyer, {sizes[0]: 60}, payment_method="card")
    lifecycle.payment_succeeded(
        order_id=order.pk, method="card", amount=order.money("grand_total"), actor_label="stripe"
    )

    def refuse(refund):
        raise RuntimeError("card expired")

    with pytest.raises(ValidationError, match="card expired"):
        lifecycle.refund_create(order_id=order.pk, by=finance, reason="Return", send=refuse)
    order.refresh_from_db()
    assert order.refunded_total == 0 and order.state == OrderState.PAID
    assert order.refunds.get().status == Refund.Status.FAILED
    sent = []
    lifecycle.refund_create(
        order_id=order.pk, by=finance, reason="Return", send=lambda r: sent.append(r) or "re_1"
    )
    order.refresh_from_db()
    assert order.state == OrderState.REFUNDED
    assert order.refunds.get(status=Refund.Status.SUCCEEDED).provider_id == "re_1"


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,x", "ftp://x.test/1"])
def test_a_tracking_link_is_http_or_https(order, finance, link):
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance)
    with pytest.raises(ValidationError, match="http"):
        lifecycle.shipment_add(
            order_id=order.pk, carrier="DHL", tracking_number="L1", tracking_url=link, by=finance
        )
    assert order.shipments.count() == 0


def test_the_invoice_address_is_the_buyers_own_for_a_dropship_order(buyer, sizes):
    from tests.factories import AddressFactory

    AddressFactory(member=buyer, name="Own Office", city="Valencia", is_default=True)
    customer = AddressFactory(member=buyer, name="End Customer", is_end_customer=True)
    order = place_order(buyer, {sizes[0]: 60}, address=customer, dropship=True)
    assert order.ship_name == "End Customer"
    assert order.bill_lines()[0] == "Own Office"
    assert "Valencia" in order.bill_address


def test_the_order_history_is_append_only(order):
    from wholesale.ledger import AppendOnlyError

    event = order.events.get()
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        order.events.update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        order.events.all().delete()
    assert order.events.get().reason == "Placed by the buyer."
