"""Follow-up emails sent by staff from an order's page (seed 001's six steps, from the tax
number and declared value to the after-sales visit).

A template's subject and text hold merge fields in braces (`{order_number}`), filled in from
the order by plain substitution: staff-written text is never rendered as a Django template, so
it can neither reach other variables nor run template tags. A merge field outside
MERGE_FIELDS is refused with a ValidationError, which forms show as an error.

`followup_send` records what went out (FollowUpSent, append-only) and a note in the order's
history in one transaction; the email leaves from a Celery task once that commits.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.models import Distributor
from orders.lifecycle import order_note
from orders.models import Order, Shipment
from wholesale.money import format_money
from wholesale.outbox import enqueue_on_commit

from .models import FollowUpSent, FollowUpTemplate
from .tasks import followup_email_task

logger = logging.getLogger(__name__)

# Each merge field and what it becomes; the admin lists them beside the template's text.
MERGE_FIELDS = {
    "customer_name": gettext_lazy("the buyer's contact name"),
    "company": gettext_lazy("the buyer's company"),
    "order_number": gettext_lazy("the order number"),
    "order_total": gettext_lazy("the order total, with its currency"),
    "order_date": gettext_lazy("the day the order was placed"),
    "tracking_number": gettext_lazy("the latest parcel's tracking number"),
    "tracking_url": gettext_lazy("the latest parcel's tracking link"),
    "carrier": gettext_lazy("the latest parcel's carrier"),
    "eta": gettext_lazy("the expected delivery dates"),
    "salesperson_name": gettext_lazy("the buyer's salesperson"),
    "salesperson_email": gettext_lazy("the salesperson's email address"),
    "shop_name": gettext_lazy("the shop's name"),
}

_MERGE_FIELD = re.compile(r"\{(\w+)\}")
SUBJECT_MAX_LENGTH = FollowUpSent._meta.get_field("subject").max_length


def merge_fields_unknown(text: str) -> list[str]:
    """The names in braces in `text` that are not merge fields, each once, in order."""
    unknown = []
    for name in _MERGE_FIELD.findall(text):
        if name not in MERGE_FIELDS and name not in unknown:
            unknown.append(name)
    return unknown


def merge_fields_error(names: list[str]) -> str:
    return _("Unknown merge field %(names)s. Use only: %(known)s.") % {
        "names": ", ".join(f"{{{name}}}" for name in names),
        "known": " ".join(f"{{{name}}}" for name in MERGE_FIELDS),
    }


def _http_url(url: str) -> str:
    # A tracking link is offered to the buyer only if it is a web address.
    return url if url.lower().startswith(("http://", "https://")) else ""


def _day(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")


def followup_values(order: Order) -> dict[str, str]:
    """What each merge field becomes for `order` (the latest parcel for tracking)."""
    distributor = (
        Distributor.objects.select_related("owner").filter(user_id=order.member_id).first()
    )
    owner = distributor.owner if distributor else None
    shipment = Shipment.objects.filter(order=order).order_by("-shipped_at", "-pk").first()
    if shipment is not None:
        earliest = _day(shipment.shipped_at + timedelta(days=order.delivery_min_days))
        latest = _day(shipment.shipped_at + timedelta(days=order.delivery_max_days))
        eta = f"{earliest} – {latest}"
    else:
        eta = _("%(min)s–%(max)s days after dispatch") % {
            "min": order.delivery_min_days,
            "max": order.delivery_max_days,
        }
    return {
        "customer_name": (distributor.contact_name if distributor else "") or order.ship_name,
        "company": order.company_name or (distributor.company_name if distributor else ""),
        "order_number": order.number or "",
        "order_total": format_money(order.money("grand_total")),
        "order_date": _day(order.placed_at),
        "tracking_number": shipment.tracking_number if shipment else "",
        "tracking_url": _http_url(shipment.tracking_url) if shipment else "",
        "carrier": shipment.carrier if shipment else "",
        "eta": eta,
        "salesperson_name": (
            (owner.get_full_name() or owner.email) if owner else settings.WHOLESALE_SHOP_NAME
        ),
        "salesperson_email": owner.email if owner else settings.DEFAULT_FROM_EMAIL,
        "shop_name": settings.WHOLESALE_SHOP_NAME,
    }


def followup_fill(order: Order, *, subject: str, body: str) -> tuple[str, str]:
    """Subject and text with their merge fields filled in for `order`, in the shop's language.

    One pass of substitution: a value that itself contains braces (a company named "{x}") is
    left as it is. Raises ValidationError (per field) for unknown merge fields or a subject
    that ends up too long.
    """
    errors = {}
    for field, text in (("subject", subject), ("body", body)):
        unknown = merge_fields_unknown(text)
        if unknown:
            errors[field] = merge_fields_error(unknown)
    if errors:
        raise ValidationError(errors)
    with translation.override(settings.LANGUAGE_CODE):
        values = followup_values(order)

    def fill(text: str) -> str:
        return _MERGE_FIELD.sub(lambda match: values[match.group(1)], text)

    # A subject is one header line: whatever the values hold, no line breaks in it.
    filled_subject = " ".join(fill(subject).split())
    if len(filled_subject) > SUBJECT_MAX_LENGTH:
        raise ValidationError(
            {
                "subject": _("Filled in, the subject is longer than %(max)d characters.")
                % {"max": SUBJECT_MAX_LENGTH}
            }
        )
    return filled_subject, fill(body)


def followup_render(order: Order, template: FollowUpTemplate) -> tuple[str, str]:
    """The template's subject and text filled in for `order`."""
    return followup_fill(order, subject=template.subject, body=template.body)


def followup_send(
    *, order: Order, template: FollowUpTemplate, subject: str, body: str, by
) -> FollowUpSent:
    """Send the buyer of `order` a follow-up: `subject` and `body` (which may hold
    merge fields) are filled in, recorded exactly as sent, noted in the order's history, and
    emailed after commit. Raises ValidationError for unknown merge fields."""
    subject, body = followup_fill(order, subject=subject, body=body)
    with transaction.atomic():
        sent = FollowUpSent.objects.create(
            order=order,
            template=template,
            sent_by=by,
            to_email=order.email,
            subject=subject,
            body=body,
        )
        order_note(
            order_id=order.pk,
            by=by,
            reason=_("Follow-up sent: %(name)s") % {"name": template.name},
        )
        enqueue_on_commit(followup_email_task, sent.pk)
    return sent


def followup_email_send(*, sent_id: int) -> None:
    """Email a recorded follow-up: its text as the plain part, and the same text, escaped,
    in the shop's HTML layout. Replies go to the member of staff who sent it."""
    sent = FollowUpSent.objects.select_related("order", "sent_by").get(pk=sent_id)
    site_url = settings.WHOLESALE_SITE_URL.rstrip("/")
    order = sent.order
    context = {
        "shop_name": settings.WHOLESALE_SHOP_NAME,
        "subject": sent.subject,
        "body": sent.body,
        "order_url": f"{site_url}{order.get_absolute_url()}" if site_url and order.number else "",
    }
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string("staff/email/followup.html", context)
    message = EmailMultiAlternatives(
        subject=sent.subject,
        body=sent.body,
        to=[sent.to_email],
        reply_to=[sent.sent_by.email],
    )
    message.attach_alternative(html, "text/html")
    message.send()
    logger.info("follow-up %s sent for order %s", sent.pk, order.number)
