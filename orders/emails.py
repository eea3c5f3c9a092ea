"""The emails an order sends its buyer: received, payment confirmed, shipped.

Services call send_later(), which hands the email to a Celery task once the transaction that
caused it commits: a rolled-back change sends nothing, the buyer's request neither renders
nor waits for the mail server, and a mail server that is down is retried by the task, never
undoing an order. Bodies come from templates under templates/orders/email/ (a text part and
an HTML part).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from wholesale.outbox import enqueue_on_commit

from . import payment_settings
from .models import Order, Shipment, TrackingStatus

logger = logging.getLogger(__name__)


def _send(template: str, order: Order, **extra) -> None:
    site_url = settings.WHOLESALE_SITE_URL.rstrip("/")
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "shop_name": settings.WHOLESALE_SHOP_NAME,
        "order_url": f"{site_url}{order.get_absolute_url()}" if site_url else "",
        "invoice_url": f"{site_url}{reverse('buyer_orders:invoice', args=[order.number])}"
        if site_url
        else "",
        "bank_details": payment_settings.bank_details(),
        **extra,
    }
    # No language is kept per buyer yet: write in the shop's language, not the staff's.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"orders/email/{template}_subject.txt", context)
        text = render_to_string(f"orders/email/{template}.txt", context)
        html = render_to_string(f"orders/email/{template}.html", context)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text, to=[order.email])
    message.attach_alternative(html, "text/html")
    message.send()
    logger.info("%s email sent for order %s", template, order.number)


def order_received(*, order_id: int) -> None:
    _send("order_received", Order.objects.get(pk=order_id))


def payment_confirmed(*, order_id: int) -> None:
    _send("payment_confirmed", Order.objects.get(pk=order_id))


def shipped(*, shipment_id: int) -> None:
    shipment = Shipment.objects.select_related("order").get(pk=shipment_id)
    _send("shipped", shipment.order, shipment=shipment)


def tracking_update(*, shipment_id: int, status: str) -> None:
    """The parcel reached a key status (orders.tracking.KEY_STATUSES)."""
    shipment = Shipment.objects.select_related("order").get(pk=shipment_id)
    events = list(shipment.events.order_by("-occurred_at", "-pk")[:1])
    _send(
        "tracking_update",
        shipment.order,
        shipment=shipment,
        status_label=TrackingStatus(status).label,
        status=status,
        event=events[0] if events else None,
    )


EMAILS = {
    "order_received": order_received,
    "payment_confirmed": payment_confirmed,
    "shipped": shipped,
    "tracking_update": tracking_update,
}


def send_later(kind: str, **ids: int | str) -> None:
    """Send email `kind` (a key of EMAILS, with its ids) from a task, after commit."""
    if kind not in EMAILS:
        raise ValueError(f"No such order email: {kind}")
    from .tasks import order_email_task  # tasks import the services that call this

    enqueue_on_commit(order_email_task, kind, **ids)


def send_now(kind: str, **ids: int) -> None:
    EMAILS[kind](**ids)
