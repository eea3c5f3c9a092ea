"""The emails an order sends its buyer: received, payment confirmed, shipped.

Each is called after the transaction that caused it commits (transaction.on_commit, robust),
so a rolled-back change sends nothing and a mail server that is down never undoes an order.
Bodies come from templates under templates/orders/email/ (a text part and an HTML part).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import Order, Shipment

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
        "bank_details": settings.WHOLESALE_BANK_DETAILS,
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
