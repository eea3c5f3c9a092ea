"""The emails of inquiries and buyer messages: the salesperson hears of a customer's message,
the customer receives a staff reply.

Services call send_later(), which hands the email to a Celery task once the transaction that
caused it commits: a rolled-back write sends nothing, and a mail server that is down is retried
by the task (staff.tasks). Each email has a text part and an HTML part, rendered from
templates/staff/email/ with autoescaping on in the HTML part (customers' words are data).
A reply to a guest carries the salesperson's address as Reply-To: guests have no message
pages, so their answer goes to the person who wrote to them.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from wholesale.outbox import enqueue_on_commit

from .models import InquiryMessage

logger = logging.getLogger(__name__)


def _message(message_id: int) -> InquiryMessage:
    return InquiryMessage.objects.select_related(
        "inquiry", "inquiry__owner", "inquiry__product", "author"
    ).get(pk=message_id)


def _render(template: str, context: dict) -> tuple[str, str, str]:
    context = {"shop_name": settings.WHOLESALE_SHOP_NAME, **context}
    # No language is kept per customer: write in the shop's language.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"staff/email/{template}_subject.txt", context)
        text = render_to_string(f"staff/email/{template}.txt", context)
        html = render_to_string(f"staff/email/{template}.html", context)
    return " ".join(subject.split()), text, html


def _send(subject, text, html, *, to: str, reply_to: list[str] | None = None) -> None:
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], reply_to=reply_to)
    message.attach_alternative(html, "text/html")
    message.send()


def _site_url(path: str) -> str:
    site_url = settings.WHOLESALE_SITE_URL.rstrip("/")
    return f"{site_url}{path}" if site_url else ""


def customer_wrote(*, message_id: int) -> None:
    """To the conversation's salesperson: a new inquiry, or a customer writing again."""
    message = _message(message_id)
    inquiry = message.inquiry
    if inquiry.owner is None or not inquiry.owner.email:
        return
    context = {
        "inquiry": inquiry,
        "message": message,
        "is_first": not inquiry.messages.filter(created_at__lt=message.created_at).exists(),
        "admin_url": _site_url(reverse("admin:staff_inquiry_change", args=[inquiry.pk])),
    }
    _send(*_render("customer_wrote", context), to=inquiry.owner.email)
    logger.info("Inquiry %s: salesperson %s notified", inquiry.pk, inquiry.owner_id)


def staff_replied(*, message_id: int) -> None:
    """To the customer: a staff reply. A member follows the link to their message pages; a
    guest replies by email, to the salesperson."""
    message = _message(message_id)
    inquiry = message.inquiry
    author = message.author
    is_guest = inquiry.member_id is None
    context = {
        "inquiry": inquiry,
        "message": message,
        "author_name": (author.get_full_name() or author.email) if author else "",
        "is_guest": is_guest,
        "thread_url": ""
        if is_guest
        else _site_url(reverse("staff:message_thread", args=[inquiry.pk])),
    }
    reply_to = [author.email] if is_guest and author is not None and author.email else None
    _send(*_render("staff_replied", context), to=inquiry.email, reply_to=reply_to)
    logger.info("Inquiry %s: reply %s sent to the customer", inquiry.pk, message.pk)


EMAILS = {"customer_wrote": customer_wrote, "staff_replied": staff_replied}


def send_later(kind: str, **ids: int) -> None:
    """Send email `kind` (a key of EMAILS, with its ids) from a task, after commit."""
    if kind not in EMAILS:
        raise ValueError(f"No such inquiry email: {kind}")
    from .tasks import inquiry_email_task  # tasks import this module

    enqueue_on_commit(inquiry_email_task, kind, **ids)


def send_now(kind: str, **ids: int) -> None:
    EMAILS[kind](**ids)
