"""The buyer's order pages: list, detail, cancel, invoice and reorder. Thin: each view reads
through orders.order_selectors (which scope every order to the member, so another member's
number is a 404) or calls one service, then picks a response."""

from __future__ import annotations

from functools import cache

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import lifecycle, order_selectors, payment_settings, reorder

INVOICE_CSS = "orders/orders.css"


@login_required
@require_GET
def order_list(request):
    page = order_selectors.order_list(member=request.user, page=request.GET.get("page"))
    return render(request, "orders/account/list.html", {"page": page})


def _detail_context(detail: order_selectors.OrderDetail) -> dict:
    return {
        "detail": detail,
        "order": detail.order,
        "bank_details": payment_settings.bank_details(),
    }


@login_required
@require_GET
def order_detail(request, number):
    detail = order_selectors.order_detail(member=request.user, number=number)
    return render(request, "orders/account/detail.html", _detail_context(detail))


@login_required
@require_POST
def order_cancel(request, number):
    try:
        order = lifecycle.order_cancel_by_buyer(member=request.user, number=number)
    except lifecycle.TransitionRefused as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Order %(number)s is cancelled; nothing is owed for it.") % {"number": order.number},
        )
    return redirect("buyer_orders:detail", number)


@cache
def _stylesheet() -> str:
    path = finders.find(INVOICE_CSS)
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@login_required
@require_GET
def order_invoice(request, number):
    """The invoice as a page to print (or save as PDF); `?download=1` as a file to keep.

    The downloaded file is opened offline, so it carries its stylesheet with it.
    """
    detail = order_selectors.order_detail(member=request.user, number=number)
    download = request.GET.get("download") == "1"
    context = {
        **_detail_context(detail),
        "seller": order_selectors.invoice_seller(),
        "buyer": order_selectors.invoice_buyer(detail),
        "download": download,
        # Our own static file, never user data.
        "inline_css": mark_safe(_stylesheet()) if download else "",  # noqa: S308
    }
    response = render(request, "orders/account/invoice.html", context)
    if download:
        response["Content-Disposition"] = f'attachment; filename="{detail.order.number}.html"'
    return response


@login_required
@require_POST
def order_reorder(request, number):
    try:
        report = reorder.order_reorder(member=request.user, number=number)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("buyer_orders:detail", number)
    if report.units_added:
        messages.success(
            request,
            _("%(lines)s of the %(total)s lines of order %(number)s were added to your cart.")
            % {"lines": report.lines_added, "total": len(report.lines), "number": report.number},
        )
    else:
        messages.error(
            request,
            _("Nothing from order %(number)s could be added to your cart.")
            % {"number": report.number},
        )
    for note in report.notes:
        messages.warning(request, note)
    return redirect("orders:cart")
