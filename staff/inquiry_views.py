"""The contact / request-a-quote page (guests and members) and a buyer's message pages.

Thin: each view parses a form, runs the spam checks (staff.inquiry_guard), calls one service
of staff.inquiries and picks a response. A buyer's conversations are read through
`access_member_inquiry`, so another member's id is a 404.
"""

from __future__ import annotations

import logging

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from catalog.models import Product
from members.selectors import distributor_for

from . import inquiry_guard
from .inquiries import (
    Kind,
    access_member_inquiry,
    inquiries_of_member,
    inquiry_create,
    inquiry_message_add,
    inquiry_messages,
)
from .inquiry_forms import HONEYPOT_FIELD, STAMP_FIELD, InquiryForm, MessageForm, ReplyForm

logger = logging.getLogger(__name__)

PAGE_SIZE = 20


def _product_from_query(request) -> Product | None:
    slug = request.GET.get("product", "")[:200]
    if not slug:
        return None
    return Product.objects.published().filter(slug=slug).first()


def _member_initial(user) -> dict:
    if not user.is_authenticated:
        return {}
    distributor = distributor_for(user)
    initial = {"name": user.get_full_name(), "email": user.email}
    if distributor is not None:
        initial.update(
            name=initial["name"] or distributor.contact_name,
            company=distributor.company_name,
            country=distributor.country.code or "",
            phone=distributor.phone,
        )
    return initial


def _fresh_stamp(data) -> dict:
    """The submitted data with a new render stamp, for a form sent back to be sent again."""
    data = data.copy()
    data[STAMP_FIELD] = inquiry_guard.form_stamp()
    return data


def _contact_page(request, form, product, *, status=200):
    return render(
        request,
        "staff/inquiry_contact.html",
        {"form": form, "product": product, "honeypot": form[HONEYPOT_FIELD]},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def contact(request):
    """Contact us / request a quote. `?product=<slug>` shows the product and attaches it."""
    if request.method != "POST":
        product = _product_from_query(request)
        initial = {
            **_member_initial(request.user),
            STAMP_FIELD: inquiry_guard.form_stamp(),
        }
        if product is not None:
            initial.update(
                product=product.slug,
                subject=_("Quote request: %(product)s") % {"product": product.name},
            )
        return _contact_page(request, InquiryForm(initial=initial), product)

    form = InquiryForm(request.POST)
    verdict = form.spam_verdict()
    if verdict == inquiry_guard.HONEYPOT:
        # A robot: answered as if all went well, so it learns nothing; nothing is written.
        logger.info("Inquiry form: honeypot filled, dropped")
        return redirect("staff:contact_thanks")
    valid = form.is_valid()
    product = form.cleaned_data.get("product") if valid else None
    if verdict is not None:
        form = InquiryForm(_fresh_stamp(request.POST))
        form.is_valid()
        reason = (
            _("That was quicker than we expected from a person. Please check and send it again.")
            if verdict == inquiry_guard.TOO_FAST
            else _("This form was open too long. Please check and send it again.")
        )
        form.add_error(None, reason)
        return _contact_page(request, form, product, status=400)
    if not valid:
        return _contact_page(request, form, product, status=400)
    ip = get_adapter(request).get_client_ip(request)
    if inquiry_guard.rate_limited(f"ip:{ip}", limit=inquiry_guard.inquiries_per_hour()):
        form.add_error(
            None, _("We received several messages from you in the last hour. Try again later.")
        )
        return _contact_page(request, form, product, status=429)
    data = form.cleaned_data
    member = request.user if request.user.is_authenticated else None
    inquiry_create(
        kind=Kind.INQUIRY,
        member=member,
        name=data["name"],
        email=data["email"],
        company=data["company"],
        country=data["country"],
        phone=data["phone"],
        subject=data["subject"],
        body=data["message"],
        product=data["product"],
    )
    return redirect("staff:contact_thanks")


@require_safe
def contact_thanks(request):
    return render(request, "staff/inquiry_thanks.html")


@login_required
@require_safe
def message_list(request):
    page = Paginator(inquiries_of_member(member=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "staff/messages_list.html", {"page": page})


def _member_limited(request) -> bool:
    return inquiry_guard.rate_limited(
        f"member:{request.user.pk}", limit=inquiry_guard.member_messages_per_hour()
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def message_new(request):
    """A new conversation with the buyer's salesperson (or the sales team)."""
    if request.method != "POST":
        product = _product_from_query(request)
        form = MessageForm(initial={"product": product.slug} if product else None)
        return render(request, "staff/messages_new.html", {"form": form, "product": product})
    form = MessageForm(request.POST)
    if not form.is_valid():
        return render(request, "staff/messages_new.html", {"form": form}, status=400)
    data = form.cleaned_data
    context = {"form": form, "product": data["product"]}
    if _member_limited(request):
        form.add_error(None, _("You sent many messages in the last hour. Try again later."))
        return render(request, "staff/messages_new.html", context, status=429)
    initial = _member_initial(request.user)
    user = request.user
    try:
        inquiry = inquiry_create(
            kind=Kind.MESSAGE,
            member=user,
            name=initial.get("name") or user.email,
            email=user.email,
            company=initial.get("company", ""),
            country=initial.get("country", ""),
            phone=initial.get("phone", ""),
            subject=data["subject"],
            body=data["message"],
            product=data["product"],
        )
    except ValidationError as error:
        form.add_error(None, error)
        return render(request, "staff/messages_new.html", context, status=400)
    messages.success(request, _("Your message is sent. We will reply here and by email."))
    return redirect("staff:message_thread", inquiry.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def message_thread(request, inquiry_id):
    """One conversation and a box to write in it; another member's id is a 404."""
    inquiry = access_member_inquiry(member=request.user, inquiry_id=inquiry_id)
    form = ReplyForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        elif _member_limited(request):
            form.add_error(None, _("You sent many messages in the last hour. Try again later."))
            status = 429
        else:
            inquiry_message_add(
                inquiry_id=inquiry.pk, member=request.user, body=form.cleaned_data["message"]
            )
            messages.success(request, _("Your message is sent."))
            return redirect("staff:message_thread", inquiry.pk)
    context = {"inquiry": inquiry, "thread": inquiry_messages(inquiry=inquiry), "form": form}
    return render(request, "staff/messages_thread.html", context, status=status)
