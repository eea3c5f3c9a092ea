"""Stripe, seen from the shop: Checkout Sessions for card payments, PaymentIntents read back,
refunds. A thin client over the `stripe` library; what a payment means for an order is
decided in orders.webhooks and orders.lifecycle.

Rules every call here keeps:
- No database row lock is held while Stripe is called (RELIABILITY.md, Saleor PR #11069):
  rows are read, Stripe is called, then the answer is stored with a conditional UPDATE.
- Every POST carries an Idempotency-Key derived from our own rows (the order's payment, the
  refund), so a retry after a timeout (the library's own retries, or the buyer clicking
  again) finds the object Stripe already made instead of making a second one. Stripe refuses
  a reused key with different parameters, so the parameters of a key never depend on the
  moment or on who asks (no timestamps, the shop's language rather than the visitor's).
- Amounts go to Stripe in the currency's minor units as Stripe counts them (JPY has none, ISK
  has hundredths although Babel gives it none): orders.payment_options.stripe_exponent.
- Every amount is in the order's own currency (Order.currency, the Payment's, the Refund's),
  never the base currency; Checkout offers the Stripe methods allowed for the order's country
  and currency (orders.payment_settings.payment_methods_for).
- Stripe's errors become PaymentProviderError, a ValidationError whose message is fit for
  the page; the views show it, never a 500.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from wholesale.money import Money, quantize

from .models import Order, OrderState, Payment, PaymentMethod, Refund
from .payment_options import stripe_unit
from .payment_settings import payment_methods_for, stripe_types

logger = logging.getLogger(__name__)

# The library retries timeouts, 409s and 5xx with the same Idempotency-Key.
MAX_NETWORK_RETRIES = 2
# Seconds to connect, then to read: a buyer waits on the session call.
TIMEOUT = (5, 30)
CHECKOUT_SESSION_ID = "{CHECKOUT_SESSION_ID}"


class PaymentProviderError(ValidationError):
    """Stripe refused the request or could not be reached; the message is fit for the page."""

    def __str__(self) -> str:
        # Plain text, not ValidationError's list repr: refund_create notes str(error).
        return " ".join(self.messages)


def to_minor_units(money: Money) -> int:
    """19800 for USD 198.00, 1980 for JPY 1980, 50000 for ISK 500: what Stripe calls `amount`.

    The amount is rounded to the shop's minor unit first (the one the order's totals use)."""
    units = quantize(money.amount, money.currency) / stripe_unit(money.currency)
    if units != units.to_integral_value():
        # The shop counts finer than Stripe does in this currency: charging a rounded amount
        # would not pay the order's total.
        raise PaymentProviderError(
            _("This amount cannot be charged online in %(currency)s.")
            % {"currency": money.currency},
            code="amount",
        )
    return int(units)


def from_minor_units(units: int, currency: str) -> Money:
    currency = currency.upper()
    return Money(Decimal(units) * stripe_unit(currency), currency)


def payment_method_types(order: Order) -> list[str]:
    """The Stripe methods Checkout offers for `order`: those allowed for its delivery country
    and its currency now, else a card (a rule changed since the order was placed). Known
    limit: a rule changed in the moment between a timed-out session call and its retry makes
    Stripe refuse the reused key (PaymentProviderError "idempotency", logged as an error)."""
    codes = payment_methods_for(country=order.ship_country.code, currency=order.currency)
    return stripe_types(codes) or ["card"]


def _http_client() -> stripe.HTTPClient:
    # One client per process, shared like the library's own default; tests install a fake
    # in its place (tests/stripe_fakes.py), which is the HTTP layer, not our functions.
    if stripe.default_http_client is None:
        stripe.default_http_client = stripe.RequestsClient(timeout=TIMEOUT)
    return stripe.default_http_client


def _client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentProviderError(
            _("Card payment is not available at the moment: pay by bank transfer instead."),
            code="unconfigured",
        )
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        http_client=_http_client(),
        max_network_retries=MAX_NETWORK_RETRIES,
    )


def _call(what: str, request):
    """Run `request(client)` and return the answer as plain dicts."""
    try:
        answer = request(_client())
    except stripe.APIConnectionError as error:
        logger.warning("stripe %s: no answer: %s", what, error)
        raise PaymentProviderError(
            _("We could not reach the card payment service. Please try again in a minute."),
            code="unreachable",
        ) from error
    except stripe.IdempotencyError as error:
        # Our parameters for one key changed between two calls: a bug to look at, not the
        # buyer's fault.
        logger.error("stripe %s: idempotency key reused with other parameters: %s", what, error)
        raise PaymentProviderError(
            _("The card payment service refused the request. Please contact us."),
            code="idempotency",
        ) from error
    except stripe.StripeError as error:
        logger.warning("stripe %s failed: %r", what, error)
        if error.http_status == 404:
            raise PaymentProviderError(
                _("The card payment service does not know this payment."), code="missing"
            ) from error
        if error.http_status == 409:
            # Another request with the same key is still running at Stripe (a double click).
            raise PaymentProviderError(
                _("Your payment is being prepared. Please try again in a moment."),
                code="busy",
            ) from error
        raise PaymentProviderError(
            _("The card payment service refused the request: %(reason)s")
            % {"reason": error.user_message or _("no reason given")},
            code="refused",
        ) from error
    return answer.to_dict()


def _next_generation(key: str) -> str:
    """order-W100001-card → order-W100001-card-g2 → …-g3: the key of a replacement session."""
    match = re.fullmatch(r"(?P<base>.+)-g(?P<n>\d+)", key)
    if match is None:
        return f"{key}-g2"
    return f"{match['base']}-g{int(match['n']) + 1}"


def _session_params(order: Order, *, success_url: str, cancel_url: str) -> dict:
    metadata = {"order_number": order.number, "order_id": str(order.pk)}
    # The shop's language, not the visitor's: a retry must send exactly the same parameters.
    with translation.override(settings.LANGUAGE_CODE):
        name = _("Order %(number)s") % {"number": order.number}
    return {
        "mode": "payment",
        "payment_method_types": payment_method_types(order),
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": order.currency.lower(),
                    "unit_amount": to_minor_units(order.money("grand_total")),
                    "product_data": {"name": name},
                },
            }
        ],
        "customer_email": order.email,
        "client_reference_id": order.number,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata, "description": name},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": "auto",
    }


def checkout_session_url(*, order: Order, success_url: str, cancel_url: str) -> str:
    """Where to send the buyer to pay `order` by card: its open Checkout Session, or a new one.

    `success_url` should carry "{CHECKOUT_SESSION_ID}", which Stripe fills in. Many requests
    at once for one order get one session: they all send the same Idempotency-Key. A session
    that expired unpaid is replaced under the next generation of the key. If the session was
    already paid, returns `success_url` for it, which reconciles and shows the order.
    """
    payment = Payment.objects.filter(order=order, method=PaymentMethod.CARD).first()
    if (
        payment is None
        or order.state != OrderState.PENDING_PAYMENT
        or payment.status != Payment.Status.PENDING
    ):
        raise PaymentProviderError(
            _("Order %(number)s is not awaiting a card payment.") % {"number": order.number},
            code="state",
        )
    key = payment.idempotency_key or f"order-{order.number}-{PaymentMethod.CARD}"
    if payment.provider_id:
        session = session_retrieve(payment.provider_id)
        if session["status"] == "open" and session.get("url"):
            return session["url"]
        if session["status"] == "complete":
            return success_url.replace(CHECKOUT_SESSION_ID, session["id"])
        key = _next_generation(key)
    params = _session_params(order, success_url=success_url, cancel_url=cancel_url)
    session = _call(
        "checkout session create",
        lambda client: client.v1.checkout.sessions.create(params, {"idempotency_key": key}),
    )
    # Only over the session we started from (or ours, stored by a request racing this one):
    # a request that saw an older state overwrites nothing.
    stored = (
        Payment.objects.filter(pk=payment.pk)
        .filter(Q(provider_id=payment.provider_id) | Q(provider_id=session["id"]))
        .update(provider_id=session["id"], idempotency_key=key, updated_at=timezone.now())
    )
    if not stored:
        logger.warning("order %s: session %s not stored, another one is", order.number, key)
    return session["url"]


def session_expire(session_id: str) -> bool:
    """Close an open Checkout Session so it can no longer be paid (its order was cancelled).

    Called after the cancelling transaction commits. Never raises: a session that is already
    complete or expired, or Stripe being unreachable, is logged; a payment that still arrives
    is recorded on the cancelled order for finance (orders.lifecycle.payment_succeeded).
    Returns whether Stripe expired it.
    """
    try:
        _call(
            "checkout session expire",
            lambda client: client.v1.checkout.sessions.expire(
                session_id, options={"idempotency_key": f"expire-{session_id}"}
            ),
        )
    except PaymentProviderError as error:
        logger.warning("checkout session %s not expired: %s", session_id, error)
        return False
    return True


def session_retrieve(session_id: str) -> dict:
    return _call(
        "checkout session retrieve",
        lambda client: client.v1.checkout.sessions.retrieve(session_id),
    )


def payment_intent_retrieve(intent_id: str) -> dict:
    """The PaymentIntent as Stripe has it now, with its latest charge (refunded amounts)."""
    return _call(
        "payment intent retrieve",
        lambda client: client.v1.payment_intents.retrieve(intent_id, {"expand": ["latest_charge"]}),
    )


def refund_send(refund: Refund) -> str:
    """Ask Stripe to give `refund` back on the payment's PaymentIntent; returns the Stripe
    refund id. Passed as `send=` to orders.lifecycle.refund_create, which reserved the amount
    and settles it with this answer. The refund's own key makes a retried call one refund."""
    payment = refund.payment
    if not payment.intent_id:
        raise PaymentProviderError(
            _("This card payment has no Stripe payment to refund."), code="no_intent"
        )
    params = {
        "payment_intent": payment.intent_id,
        "amount": to_minor_units(Money(refund.amount, refund.currency)),
        "metadata": {
            "order_number": refund.order.number,
            "order_id": str(refund.order_id),
            "refund_id": str(refund.pk),
        },
    }
    answer = _call(
        "refund create",
        lambda client: client.v1.refunds.create(
            params, {"idempotency_key": refund.idempotency_key}
        ),
    )
    if answer.get("status") in {"failed", "canceled"}:
        raise PaymentProviderError(
            _("Stripe did not make the refund (%(status)s).") % {"status": answer["status"]},
            code="refused",
        )
    return answer["id"]
