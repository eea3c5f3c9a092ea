"""Card payment by Stripe Checkout: send the buyer to Stripe's hosted page, take them back,
and receive Stripe's webhook. Thin: orders.stripe_gateway talks to Stripe, orders.webhooks
decides what a payment means for the order."""

from __future__ import annotations

import logging
import re

import stripe
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import states, stripe_gateway, webhooks
from .models import Order, OrderState, PaymentMethod
from .order_selectors import order_for

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")


def _own_card_order(request, number: str) -> Order:
    """The signed-in member's card order `number`; a plain 404 for anyone else's."""
    order = order_for(member=request.user, number=number)
    if order.payment_method != PaymentMethod.CARD:
        raise Http404(_("No such order."))
    return order


def _to_order(request, order: Order, level: int, text: str) -> HttpResponse:
    messages.add_message(request, level, text)
    return redirect(order.get_absolute_url())


@login_required
@require_GET
def card_start(request, number):
    """Send the buyer to Stripe's page for their unpaid card order (303 to the session)."""
    order = _own_card_order(request, number)
    if order.state in states.PAID_STATES:
        return _to_order(request, order, messages.INFO, _("This order is already paid."))
    if order.state != OrderState.PENDING_PAYMENT:
        return _to_order(
            request,
            order,
            messages.ERROR,
            _("This order is %(state)s: it can no longer be paid.")
            % {"state": order.get_state_display().lower()},
        )
    return_url = reverse("payments:card_return", args=[order.number])
    try:
        url = stripe_gateway.checkout_session_url(
            order=order,
            success_url=request.build_absolute_uri(return_url)
            + f"?session_id={stripe_gateway.CHECKOUT_SESSION_ID}",
            cancel_url=request.build_absolute_uri(order.get_absolute_url()),
        )
    except stripe_gateway.PaymentProviderError as error:
        return _to_order(request, order, messages.ERROR, error.messages[0])
    response = HttpResponseRedirect(url, status=303)
    add_never_cache_headers(response)
    return response


@login_required
@require_GET
def card_return(request, number):
    """Stripe sends the buyer back here after paying: confirm with Stripe, then show the
    order. The webhook may have done it already, or may be doing it right now."""
    order = _own_card_order(request, number)
    session_id = request.GET.get("session_id", "")
    if not SESSION_ID.fullmatch(session_id):
        return _to_order(
            request, order, messages.ERROR, _("This payment link is incomplete: no session.")
        )
    try:
        webhooks.card_return_reconcile(order=order, session_id=session_id)
    except stripe_gateway.PaymentProviderError:
        return _to_order(
            request,
            order,
            messages.WARNING,
            _("We could not confirm your payment with Stripe yet: we will email you."),
        )
    order.refresh_from_db(fields=["state"])
    if order.state in states.PAID_STATES:
        return _to_order(
            request, order, messages.SUCCESS, _("Thank you: your card payment was received.")
        )
    return _to_order(
        request,
        order,
        messages.INFO,
        _("Your card payment is not confirmed yet: we will email you when it is."),
    )


@csrf_exempt  # the only exempt view: Stripe signs the body instead (checked below)
@require_POST
def stripe_webhook(request):
    try:
        event = stripe.Webhook.construct_event(
            request.body,
            request.headers.get("Stripe-Signature"),
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
        )
    except stripe.SignatureVerificationError:
        return HttpResponseBadRequest("Invalid signature.", content_type="text/plain")
    except (ValueError, TypeError, AttributeError):
        return HttpResponseBadRequest("Invalid payload.", content_type="text/plain")
    data = event.to_dict()
    if not data.get("id") or not data.get("type"):
        return HttpResponseBadRequest("Not an event.", content_type="text/plain")
    try:
        result = webhooks.stripe_event_handle(event=data)
    except stripe_gateway.PaymentProviderError as error:
        # Nothing was written: Stripe delivers the event again later.
        logger.warning("stripe event %s not applied yet: %s", data["id"], error.messages[0])
        return HttpResponse("Stripe unreachable, retry.", status=503, content_type="text/plain")
    return JsonResponse({"received": True, "result": result})
