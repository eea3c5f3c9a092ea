"""The emails of subscriptions: the confirmation link (double opt-in) and new-arrival alerts.

Sent by members.tasks.subscription_email_task after the transaction that asked for them
commits. Every one carries the subscription's one-click unsubscribe link in its text, and the
`List-Unsubscribe` / `List-Unsubscribe-Post` headers (RFC 8058) that let a mail client
unsubscribe with one POST. Links must be absolute, so without WHOLESALE_SITE_URL nothing is
sent (and that is logged): an email whose link cannot work is worse than none.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from catalog.models import Product

from .models import Subscription
from .subscriptions import (
    Kind,
    confirm_max_age,
    confirm_token,
    unsubscribe_token,
)

logger = logging.getLogger(__name__)

ONE_CLICK = "List-Unsubscribe=One-Click"


def _absolute(path: str) -> str:
    return settings.WHOLESALE_SITE_URL.rstrip("/") + path


def unsubscribe_url(subscription: Subscription) -> str:
    return _absolute(reverse("subscriptions:unsubscribe", args=[unsubscribe_token(subscription)]))


def unsubscribe_headers(url: str) -> dict[str, str]:
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": ONE_CLICK}


def _send(template: str, subscription: Subscription, context: dict) -> bool:
    if not settings.WHOLESALE_SITE_URL:
        logger.error(
            "Subscription %s: %s email not sent, WHOLESALE_SITE_URL is not set",
            subscription.pk,
            template,
        )
        return False
    url = unsubscribe_url(subscription)
    context = {
        "shop_name": settings.WHOLESALE_SHOP_NAME,
        "subscription": subscription,
        "category_name": subscription.category.name if subscription.category_id else "",
        "is_alert": subscription.kind == Kind.NEW_ARRIVALS,
        "unsubscribe_url": url,
        **context,
    }
    # No language is kept per subscriber: write in the shop's language.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"members/email/{template}_subject.txt", context)
        text = render_to_string(f"members/email/{template}.txt", context)
        html = render_to_string(f"members/email/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[subscription.email],
        headers=unsubscribe_headers(url),
    )
    message.attach_alternative(html, "text/html")
    message.send()
    logger.info("Subscription %s: %s email sent", subscription.pk, template)
    return True


def _subscription(subscription_id: int) -> Subscription | None:
    return Subscription.objects.select_related("category").filter(pk=subscription_id).first()


def confirm(*, subscription_id: int) -> bool:
    """The double opt-in link, unless the subscription was confirmed or ended meanwhile."""
    subscription = _subscription(subscription_id)
    if subscription is None or subscription.confirmed_at or subscription.unsubscribed_at:
        return False
    confirm_url = _absolute(reverse("subscriptions:confirm", args=[confirm_token(subscription)]))
    days = confirm_max_age() // (24 * 3600)
    return _send("subscription_confirm", subscription, {"confirm_url": confirm_url, "days": days})


def kit_url(product_ids) -> str:
    """The buyer's kit page offering a kit of these products (it asks them to log in)."""
    query = urlencode([("product", pk) for pk in product_ids])
    return _absolute(f"{reverse('kits:list')}?{query}")


def new_arrivals(*, subscription_id: int, product_ids: list[int], count: int = 0) -> bool:
    """The new arrivals the beat job chose for this alert (and recorded as sent to its
    address), with a kit link for them; nothing if the subscription ended meanwhile."""
    subscription = _subscription(subscription_id)
    if subscription is None or not subscription.is_live or subscription.category is None:
        return False
    shown = list(
        Product.objects.published()
        .filter(pk__in=product_ids)
        .order_by("-published_at", "-pk")
        .only("name", "slug", "published_at")
    )
    if not shown:
        return False
    category = subscription.category
    context = {
        "products": [{"name": p.name, "url": _absolute(p.get_absolute_url())} for p in shown],
        "count": max(count, len(shown)),
        "more": count > len(shown),
        "kit_url": kit_url(p.pk for p in shown),
        "category_url": _absolute(
            f"{reverse('catalog:list')}?category={category.slug}&sort=newest"
        ),
    }
    return _send("new_arrivals", subscription, context)


EMAILS = {"confirm": confirm, "new_arrivals": new_arrivals}


def send_now(kind: str, **params) -> bool:
    return EMAILS[kind](**params)
