"""What happens to an order after it is placed: payments, state changes, shipments, refunds,
expiry. Every change locks the order row first, so a finance confirmation, a webhook, the
expiry job and a buyer's cancel that race on one order are applied one after the other: the
first wins, the others see the new state and change nothing. Each state change writes exactly
one OrderEvent saying who, when and why, in the same transaction.

Nothing here holds a row lock across a call to Stripe: a card refund is reserved in one
transaction, sent, then settled in another.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import StockMovement
from catalog.services import stock_release
from wholesale.money import Money, quantize
from wholesale.outbox import enqueue_on_commit

from . import emails, membership, states
from .models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderState,
    Payment,
    PaymentMethod,
    Refund,
    RefundLine,
    Shipment,
)
from .points import order_points_earn, order_points_give_back

logger = logging.getLogger(__name__)

SYSTEM = "system"


class TransitionRefused(ValidationError):
    """The order is not in a state that allows this change (another actor came first)."""


def _actor_label(by, actor_label: str | None) -> str:
    if actor_label:
        return actor_label
    return getattr(by, "email", None) or SYSTEM


def lock_order(order_id: int) -> Order:
    """The order with its row locked until the transaction ends; Http404 if there is none."""
    order = Order.objects.select_for_update(of=("self",)).filter(pk=order_id).first()
    if order is None:
        raise Http404(_("No such order."))
    return order


def _release_stock(order: Order, *, by, why: str) -> None:
    """Give the order's stock back, once: `holds_stock` is cleared under the order's lock."""
    if not order.holds_stock:
        return
    quantities = dict(order.lines.values_list("variant_id", "quantity"))
    if quantities:
        stock_release(
            quantities=quantities,
            reason=StockMovement.Reason.ORDER_CANCELLED,
            reference=f"order:{order.number}",
            by=by,
        )
    order.holds_stock = False
    Order.objects.filter(pk=order.pk).update(holds_stock=False)
    logger.info("order %s gave back its stock (%s)", order.number, why)


def _move(order: Order, to_state: str, *, by, actor_label: str | None, reason: str) -> Order:
    """Change the state of a locked order and record it. Raises TransitionRefused."""
    from_state = order.state
    if not states.can_move(from_state, to_state):
        raise TransitionRefused(
            _("Order %(number)s is %(state)s: it cannot become %(to)s.")
            % {
                "number": order.number,
                "state": order.get_state_display().lower(),
                "to": OrderState(to_state).label.lower(),
            },
            code="state",
        )
    now = timezone.now()
    fields = {"state": to_state, "updated_at": now}
    if to_state == OrderState.PAID:
        fields["paid_at"] = now
        order.paid_at = now
    Order.objects.filter(pk=order.pk).update(**fields)
    order.state = to_state
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.TRANSITION,
        from_state=from_state,
        to_state=to_state,
        actor=by,
        actor_label=_actor_label(by, actor_label),
        reason=reason,
        created_at=now,
    )
    gives_stock_back = to_state == OrderState.CANCELLED or (
        to_state == OrderState.REFUNDED and from_state not in states.SHIPPED_STATES
    )
    if gives_stock_back:
        _release_stock(order, by=by, why=reason)
    if to_state == OrderState.CANCELLED:
        _close_pending_payments(order)
    if to_state == OrderState.PAID:
        order_points_earn(order)
    elif to_state in (OrderState.CANCELLED, OrderState.REFUNDED):
        order_points_give_back(order)
    return order


def _close_pending_payments(order: Order) -> None:
    """A cancelled order's pending payments are cancelled; an open card session is expired at
    Stripe by a task once this transaction commits, so the buyer can no longer pay a dead
    order (and nobody waits on Stripe for it)."""
    sessions = list(
        Payment.objects.filter(
            order=order, status=Payment.Status.PENDING, method=PaymentMethod.CARD
        )
        .exclude(provider_id="")
        .values_list("provider_id", flat=True)
    )
    Payment.objects.filter(order=order, status=Payment.Status.PENDING).update(
        status=Payment.Status.CANCELLED, updated_at=timezone.now()
    )
    if sessions:
        from .tasks import stripe_session_expire_task  # tasks import this module

        for session_id in sessions:
            enqueue_on_commit(stripe_session_expire_task, session_id)


def order_transition(
    *, order_id: int, to_state: str, by=None, actor_label: str | None = None, reason: str = ""
) -> Order:
    """Move an order to `to_state` if the state machine allows it (orders.states)."""
    with transaction.atomic():
        order = lock_order(order_id)
        return _move(order, to_state, by=by, actor_label=actor_label, reason=reason)


def order_note(*, order_id: int, by=None, actor_label: str | None = None, reason: str) -> None:
    OrderEvent.objects.create(
        order_id=order_id,
        kind=OrderEvent.Kind.NOTE,
        actor=by,
        actor_label=_actor_label(by, actor_label),
        reason=reason,
    )


def order_cancel_by_buyer(*, member, number: str) -> Order:
    """The buyer cancels their own unpaid order; Http404 for anyone else's."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .filter(number=number, member=member)
            .first()
        )
        if order is None:
            raise Http404(_("No such order."))
        if order.state != OrderState.PENDING_PAYMENT:
            raise TransitionRefused(
                _("Only an order awaiting payment can be cancelled: write to us instead."),
                code="state",
            )
        _move(
            order,
            OrderState.CANCELLED,
            by=member,
            actor_label=None,
            reason=_("Cancelled by the buyer."),
        )
    return order


def orders_expire_unpaid(*, now=None, limit: int = 500) -> int:
    """Cancel the orders still unpaid past their deadline, each in its own transaction, and
    give their stock back. Safe to run twice at once. Returns how many it cancelled."""
    now = now or timezone.now()
    due = list(
        Order.objects.filter(state=OrderState.PENDING_PAYMENT, pay_by__lt=now)
        .order_by("pay_by", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    cancelled = 0
    for order_id in due:
        with transaction.atomic():
            order = lock_order(order_id)
            if order.state != OrderState.PENDING_PAYMENT or order.pay_by is None:
                continue
            if order.pay_by >= now:
                continue
            _move(
                order,
                OrderState.CANCELLED,
                by=None,
                actor_label=SYSTEM,
                reason=_("Not paid in time."),
            )
            cancelled += 1
    return cancelled


def payment_succeeded(
    *,
    order_id: int,
    method: str,
    amount: Money,
    provider_id: str = "",
    intent_id: str = "",
    reference: str = "",
    by=None,
    actor_label: str | None = None,
) -> tuple[Order, bool]:
    """Record that the order's payment by `method` arrived. Idempotent: a second call for a
    payment already recorded changes nothing. Returns (order, whether this call recorded it).

    A payment that does not match the order's total and currency is not accepted as paying
    it: it is noted on the order for finance. A payment for an order already cancelled (paid
    after it expired) is recorded and noted, and the order stays cancelled: finance decides.
    """
    with transaction.atomic():
        order = lock_order(order_id)
        payment = Payment.objects.select_for_update().filter(order=order, method=method).first()
        if payment is not None and payment.status == Payment.Status.SUCCEEDED:
            return order, False
        if Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).exists():
            order_note(
                order_id=order.pk,
                by=by,
                actor_label=actor_label,
                reason=_("A second payment (%(method)s, %(amount)s) arrived: refund it.")
                % {"method": PaymentMethod(method).label, "amount": amount},
            )
            return order, False
        expected = order.money("grand_total")
        if amount.currency != expected.currency or quantize(
            amount.amount, amount.currency
        ) != quantize(expected.amount, expected.currency):
            order_note(
                order_id=order.pk,
                by=by,
                actor_label=actor_label,
                reason=_("Payment of %(amount)s does not match the total %(total)s: not applied.")
                % {"amount": amount, "total": expected},
            )
            return order, False
        now = timezone.now()
        if payment is None:
            payment = Payment(
                order=order, method=method, amount=order.grand_total, currency=order.currency
            )
        payment.status = Payment.Status.SUCCEEDED
        payment.succeeded_at = now
        payment.provider_id = provider_id or payment.provider_id
        payment.intent_id = intent_id or payment.intent_id
        payment.reference = reference or payment.reference
        payment.failure_reason = ""
        if method == PaymentMethod.BANK_TRANSFER:
            payment.confirmed_by = by
        payment.save()
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.PAYMENT,
            actor=by,
            actor_label=_actor_label(by, actor_label),
            reason=_("%(method)s payment of %(amount)s received.")
            % {"method": PaymentMethod(method).label, "amount": expected},
        )
        if order.state == OrderState.PENDING_PAYMENT:
            _move(
                order,
                OrderState.PAID,
                by=by,
                actor_label=actor_label,
                reason=_("Payment received."),
            )
            emails.send_later("payment_confirmed", order_id=order_id)
            membership.member_level_recompute_on_commit(order=order, event="paid")
        else:
            order_note(
                order_id=order.pk,
                by=by,
                actor_label=actor_label,
                reason=_("Paid while %(state)s: refund it or restore the order.")
                % {"state": order.get_state_display().lower()},
            )
    return order, True


def payment_failed(*, order_id: int, method: str, reason: str, actor_label: str) -> bool:
    """Note a failed attempt. A payment that already succeeded is never marked failed."""
    with transaction.atomic():
        order = lock_order(order_id)
        updated = Payment.objects.filter(
            order=order, method=method, status=Payment.Status.PENDING
        ).update(failure_reason=reason[:255], updated_at=timezone.now())
        if updated:
            order_note(order_id=order.pk, actor_label=actor_label, reason=reason)
    return bool(updated)


def bank_transfer_confirm(*, order_id: int, by, reference: str = "") -> Order:
    """Finance confirms that the transfer for an unpaid order arrived on the bank account.

    Refused (TransitionRefused) when the order is no longer awaiting payment, e.g. it expired
    a moment before: its stock is gone back, and finance must restore or refund it by hand.
    """
    if by is None:
        raise ValueError("A bank transfer is confirmed by a member of finance.")
    with transaction.atomic():
        order = lock_order(order_id)
        if order.state != OrderState.PENDING_PAYMENT:
            raise TransitionRefused(
                _("Order %(number)s is %(state)s: the transfer cannot be confirmed on it.")
                % {"number": order.number, "state": order.get_state_display().lower()},
                code="state",
            )
        order, _recorded = payment_succeeded(
            order_id=order.pk,
            method=PaymentMethod.BANK_TRANSFER,
            amount=order.money("grand_total"),
            reference=reference,
            by=by,
        )
    return order


def shipment_add(
    *, order_id: int, carrier: str, tracking_number: str, by, tracking_url: str = ""
) -> Shipment:
    """Record a parcel sent for a paid order; the first one marks the order shipped."""
    carrier = carrier.strip()
    tracking_number = tracking_number.strip()
    if not carrier or not tracking_number:
        raise ValidationError(_("Enter the carrier and the tracking number."), code="required")
    tracking_url = tracking_url.strip()
    if tracking_url:
        URLValidator(schemes=["http", "https"], message=_("Enter an http or https link."))(
            tracking_url
        )
    with transaction.atomic():
        order = lock_order(order_id)
        if order.state not in {OrderState.PAID, OrderState.PROCESSING, OrderState.SHIPPED}:
            raise TransitionRefused(
                _("Order %(number)s is %(state)s: it cannot be shipped.")
                % {"number": order.number, "state": order.get_state_display().lower()},
                code="state",
            )
        if Shipment.objects.filter(carrier=carrier, tracking_number=tracking_number).exists():
            raise ValidationError(_("This tracking number is already recorded."), code="duplicate")
        shipment = Shipment.objects.create(
            order=order,
            carrier=carrier,
            tracking_number=tracking_number,
            tracking_url=tracking_url,
            created_by=by,
        )
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.SHIPMENT,
            actor=by,
            actor_label=_actor_label(by, None),
            reason=_("Shipped by %(carrier)s, tracking number %(number)s.")
            % {"carrier": carrier, "number": tracking_number},
        )
        if order.state != OrderState.SHIPPED:
            _move(
                order, OrderState.SHIPPED, by=by, actor_label=None, reason=_("First parcel sent.")
            )
        shipment_id = shipment.pk
        emails.send_later("shipped", shipment_id=shipment_id)
    return shipment


def _refund_amount(order: Order, lines: Mapping[int, int] | None) -> tuple[Decimal, dict]:
    """The amount a refund gives back and the order lines it covers ({line: quantity})."""
    if lines is None:
        return order.grand_total - order.refunded_total, {}
    by_id = {line.pk: line for line in OrderLine.objects.filter(order=order, pk__in=list(lines))}
    if len(by_id) != len(lines):
        raise Http404(_("No such order line."))
    covered = {}
    amount = Decimal(0)
    for line_id, quantity in lines.items():
        line = by_id[line_id]
        if not isinstance(quantity, int) or quantity <= 0:
            raise ValidationError(
                _("Refund a whole number of units, at least one."), code="quantity"
            )
        if quantity > line.quantity - line.refunded_quantity:
            raise ValidationError(
                _("%(sku)s: only %(left)s units are left to refund.")
                % {"sku": line.sku, "left": line.quantity - line.refunded_quantity},
                code="quantity",
            )
        covered[line] = quantity
        amount += quantize(line.unit_price * quantity, order.currency)
    return amount, covered


def refund_create(
    *, order_id: int, by, reason: str, lines: Mapping[int, int] | None = None, send=None
) -> Refund:
    """Give money back on a paid order: everything still unrefunded (`lines` None) or some
    units of some lines ({order line id: units}). `send(refund)` passes a card refund to the
    payment provider and returns its id (orders.stripe_gateway); a bank transfer refund is
    wired back by finance and recorded here as done. Refunding the whole order marks it
    refunded (giving stock back when nothing was shipped yet).
    """
    if not reason.strip():
        raise ValidationError(_("Say why the money is refunded."), code="reason")
    with transaction.atomic():
        order = lock_order(order_id)
        if order.state not in states.PAID_STATES or order.state == OrderState.REFUNDED:
            raise TransitionRefused(
                _("Order %(number)s is %(state)s: nothing to refund.")
                % {"number": order.number, "state": order.get_state_display().lower()},
                code="state",
            )
        payment = Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).first()
        if payment is None:
            raise ValidationError(_("This order has no payment to refund."), code="unpaid")
        amount, covered = _refund_amount(order, lines)
        if amount <= 0 or order.refunded_total + amount > order.grand_total:
            raise ValidationError(_("Nothing is left to refund on this order."), code="amount")
        refund = Refund.objects.create(
            order=order,
            payment=payment,
            amount=amount,
            currency=order.currency,
            reason=reason.strip(),
            idempotency_key=f"refund-{uuid.uuid4()}",
            created_by=by,
        )
        RefundLine.objects.bulk_create(
            [
                RefundLine(
                    refund=refund,
                    order_line=line,
                    quantity=quantity,
                    amount=quantize(line.unit_price * quantity, order.currency),
                )
                for line, quantity in covered.items()
            ]
        )
        # Reserve the amount now, under the lock, so two refunds cannot both take the rest.
        for line, quantity in covered.items():
            OrderLine.objects.filter(pk=line.pk).update(
                refunded_quantity=F("refunded_quantity") + quantity
            )
        Order.objects.filter(pk=order.pk).update(refunded_total=F("refunded_total") + amount)
    provider_id = ""
    failure = ""
    if payment.method == PaymentMethod.CARD:
        try:
            provider_id = send(refund) if send is not None else ""
        except Exception as exc:  # the provider refused or is down: undo the reservation
            logger.warning("refund %s failed at the provider: %s", refund.pk, exc)
            if isinstance(exc, ValidationError):
                failure = "; ".join(exc.messages)
            else:
                failure = str(exc) or exc.__class__.__name__
    return _refund_settle(refund, by=by, provider_id=provider_id, failure=failure)


def _refund_settle(refund: Refund, *, by, provider_id: str, failure: str) -> Refund:
    with transaction.atomic():
        order = lock_order(refund.order_id)
        if failure:
            Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.FAILED)
            for refund_line in refund.lines.all():
                OrderLine.objects.filter(pk=refund_line.order_line_id).update(
                    refunded_quantity=F("refunded_quantity") - refund_line.quantity
                )
            Order.objects.filter(pk=order.pk).update(
                refunded_total=F("refunded_total") - refund.amount
            )
            order_note(
                order_id=order.pk,
                by=by,
                reason=_("Refund of %(amount)s failed: %(failure)s")
                % {"amount": Money(refund.amount, refund.currency), "failure": failure},
            )
            refund.status = Refund.Status.FAILED
        else:
            _refund_succeeded(order, refund, by=by, provider_id=provider_id)
    if failure:
        raise ValidationError(
            _("The refund failed at the payment provider: %(failure)s") % {"failure": failure},
            code="provider",
        )
    return refund


def _refund_succeeded(order: Order, refund: Refund, *, by, provider_id: str) -> None:
    Refund.objects.filter(pk=refund.pk).update(
        status=Refund.Status.SUCCEEDED, provider_id=provider_id
    )
    refund.status = Refund.Status.SUCCEEDED
    refund.provider_id = provider_id
    membership.member_level_recompute_on_commit(order=order, event="refunded")
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.REFUND,
        actor=by,
        actor_label=_actor_label(by, None),
        reason=_("Refunded %(amount)s: %(reason)s")
        % {"amount": Money(refund.amount, refund.currency), "reason": refund.reason},
    )
    if order.refunded_total >= order.grand_total and order.state != OrderState.REFUNDED:
        _move(order, OrderState.REFUNDED, by=by, actor_label=None, reason=refund.reason)
    else:
        order_points_give_back(order)  # the refunded share
