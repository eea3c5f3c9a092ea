"""What Stripe tells us about card payments, applied to orders: the webhook's events and the
buyer's return from Checkout go through the same reconciliation.

- An event is handled once: its id is inserted into WebhookEvent in the transaction that
  applies it, so a replay (later, or at the same moment: the insert waits on the unique
  index, then fails) changes nothing. If applying fails, the row goes with the rollback and
  Stripe's retry applies it.
- Events may arrive in any order, so an event is only a hint: the PaymentIntent it concerns
  is fetched from Stripe and its current status is what we act on. A paid order never
  becomes unpaid: orders.lifecycle.payment_failed leaves a succeeded payment alone, and
  payment_succeeded is idempotent and locks the order, so the webhook and the return page
  racing on one order record one payment and one transition.
- Stripe is called before any row is written or locked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from wholesale.money import Money

from . import lifecycle, stripe_gateway
from .models import Order, Payment, PaymentMethod, WebhookEvent

logger = logging.getLogger(__name__)

PROVIDER = "stripe"
ACTOR = "stripe"

# The events whose PaymentIntent we fetch and reconcile; any other type is recorded only.
HANDLED = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "charge.refunded",
    }
)


@dataclass(frozen=True)
class Reconciled:
    """What a reconciliation did: `result` is a short code kept on the WebhookEvent."""

    result: str
    order: Order | None = None


def _intent_id_of(event_type: str, obj: dict) -> str:
    if event_type.startswith("payment_intent."):
        return obj.get("id") or ""
    intent = obj.get("payment_intent") or ""
    return intent.get("id", "") if isinstance(intent, dict) else intent


def _order_for(*, intent: dict | None, obj: dict, session_id: str) -> Order | None:
    """The order a Stripe object is about: from the metadata we put on the session and its
    PaymentIntent, else from the ids stored on the order's payment."""
    for source in (intent or {}, obj):
        metadata = source.get("metadata") or {}
        order_id = str(metadata.get("order_id", ""))
        if order_id.isdigit():
            order = Order.objects.filter(pk=int(order_id)).first()
            if order is not None and order.number == metadata.get("order_number", order.number):
                return order
    lookups = []
    if intent:
        lookups.append({"intent_id": intent["id"]})
    if session_id:
        lookups.append({"provider_id": session_id})
    for lookup in lookups:
        payment = (
            Payment.objects.filter(method=PaymentMethod.CARD, **lookup)
            .select_related("order")
            .first()
        )
        if payment is not None:
            return payment.order
    return None


def _failure_reason(intent: dict) -> str:
    error = intent.get("last_payment_error") or {}
    message = error.get("message") or error.get("code") or ""
    if intent.get("status") == "canceled":
        return _("Card payment cancelled at Stripe.")
    if message:
        return _("Card payment failed: %(reason)s") % {"reason": message}
    return _("Card payment failed.")


def _apply_intent(order: Order, intent: dict, *, event_type: str, session_id: str) -> str:
    """Bring the order in line with the PaymentIntent as Stripe has it now."""
    status = intent.get("status")
    if status == "succeeded":
        amount = stripe_gateway.from_minor_units(
            intent.get("amount_received") or intent["amount"], intent["currency"]
        )
        _order, recorded = lifecycle.payment_succeeded(
            order_id=order.pk,
            method=PaymentMethod.CARD,
            amount=amount,
            provider_id=session_id,
            intent_id=intent["id"],
            actor_label=ACTOR,
        )
        if recorded:
            return "paid"
        _note_second_intent(order, intent, event_type=event_type, amount=amount)
        return "already recorded"
    if status == "canceled" or (
        status == "requires_payment_method" and intent.get("last_payment_error")
    ):
        noted = lifecycle.payment_failed(
            order_id=order.pk,
            method=PaymentMethod.CARD,
            reason=_failure_reason(intent),
            actor_label=ACTOR,
        )
        return "failure noted" if noted else "failure ignored"
    return f"waiting ({status})"


def _note_second_intent(order: Order, intent: dict, *, event_type: str, amount: Money) -> None:
    # payment_succeeded takes a second success of the same method as a replay. A different
    # PaymentIntent is real money, though: say so once (on its own succeeded event).
    if event_type != "payment_intent.succeeded":
        return
    recorded = (
        Payment.objects.filter(order=order, method=PaymentMethod.CARD)
        .values_list("intent_id", flat=True)
        .first()
    )
    if recorded and recorded != intent["id"]:
        lifecycle.order_note(
            order_id=order.pk,
            actor_label=ACTOR,
            reason=_("A second card payment (%(intent)s, %(amount)s) arrived: refund it.")
            % {"intent": intent["id"], "amount": amount},
        )


def _note_refunds_outside(order: Order, intent: dict) -> None:
    """A refund made in Stripe's dashboard is not one of ours: tell finance."""
    charge = intent.get("latest_charge")
    if not isinstance(charge, dict):
        return
    refunded = stripe_gateway.from_minor_units(
        charge.get("amount_refunded") or 0, charge.get("currency") or intent["currency"]
    )
    order.refresh_from_db(fields=["refunded_total", "currency"])
    if refunded.currency == order.currency and refunded.amount > order.refunded_total:
        lifecycle.order_note(
            order_id=order.pk,
            actor_label=ACTOR,
            reason=_("Stripe reports %(stripe)s refunded, the shop recorded %(shop)s: check it.")
            % {"stripe": refunded, "shop": order.money("refunded_total")},
        )


def _reconcile(*, event_type: str, obj: dict, intent: dict | None) -> Reconciled:
    session_id = obj.get("id", "") if obj.get("object") == "checkout.session" else ""
    order = _order_for(intent=intent, obj=obj, session_id=session_id)
    if order is None:
        return Reconciled("no order")
    if intent is None:
        return Reconciled("no payment intent", order)
    result = _apply_intent(order, intent, event_type=event_type, session_id=session_id)
    if event_type == "charge.refunded":
        _note_refunds_outside(order, intent)
    return Reconciled(result, order)


def stripe_event_handle(*, event: dict) -> str:
    """Apply one verified Stripe event (a dict: id, type, data.object). Returns a short result
    code. Raises PaymentProviderError when Stripe cannot be asked about the PaymentIntent:
    nothing is written then, and the webhook answers so that Stripe delivers it again. An
    intent Stripe does not know is recorded as such and not asked about again."""
    event_id, event_type = event["id"], event["type"]
    seen = WebhookEvent.objects.filter(
        provider=PROVIDER, event_id=event_id, processed_at__isnull=False
    )
    if seen.exists():
        return "duplicate"
    obj = (event.get("data") or {}).get("object") or {}
    intent = None
    if event_type in HANDLED:
        intent_id = _intent_id_of(event_type, obj)
        if intent_id:
            try:
                intent = stripe_gateway.payment_intent_retrieve(intent_id)
            except stripe_gateway.PaymentProviderError as error:
                if error.code != "missing":
                    raise
                # Not an intent of this account (another mode or integration): recorded below
                # with no payment intent, and answered, so that Stripe stops sending it.
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = WebhookEvent.objects.create(
                    provider=PROVIDER, event_id=event_id, type=event_type[:100], payload=event
                )
        except IntegrityError:
            return "duplicate"
        if event_type in HANDLED:
            result = _reconcile(event_type=event_type, obj=obj, intent=intent).result
        else:
            result = "ignored"
        WebhookEvent.objects.filter(pk=record.pk).update(
            processed_at=timezone.now(), result=result[:255]
        )
    logger.info("stripe event %s (%s): %s", event_id, event_type, result)
    return result


def card_return_reconcile(*, order: Order, session_id: str) -> Reconciled:
    """The buyer is back from Stripe Checkout with `session_id`: ask Stripe what happened and
    apply it, as the webhook would. Http404 if the session is not this order's."""
    session = stripe_gateway.session_retrieve(session_id)
    metadata = session.get("metadata") or {}
    ours = str(metadata.get("order_id")) == str(order.pk)
    if not ours or session.get("client_reference_id") not in {None, order.number}:
        raise Http404(_("No such payment."))
    card = Payment.objects.filter(order=order, method=PaymentMethod.CARD).first()
    if card is not None and card.status == Payment.Status.SUCCEEDED:
        return Reconciled("already recorded", order)
    intent_id = _intent_id_of("checkout.session.completed", session)
    intent = stripe_gateway.payment_intent_retrieve(intent_id) if intent_id else None
    if intent is None:
        return Reconciled(f"waiting ({session.get('payment_status')})", order)
    result = _apply_intent(order, intent, event_type="return", session_id=session["id"])
    return Reconciled(result, order)
