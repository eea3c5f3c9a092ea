"""Checkout pages: two server-rendered steps, delivery then shipping and payment.

The views are transport: they read the choice, ask orders.checkout for the quote, and place the
order through orders.checkout.order_place, which prices everything again from the database.
No amount posted by a browser is ever read. The delivery choice of step 1 is kept in the session;
step 2 posts back the address it showed, so two tabs each place what they display.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from members.models import Address
from members.points import points_balance
from members.selectors import address_for, addresses_for, distributor_for
from members.services import address_create
from wholesale.currencies import charge_terms, terms_token
from wholesale.visitor import chosen_country

from . import selectors
from .checkout import (
    CheckoutQuote,
    cart_fingerprint,
    checkout_quote,
    delivery_problem,
    dropship_fee,
    insurance_price,
    order_place,
)
from .forms import NEW_ADDRESS, CheckoutAddressForm, DeliveryForm, ReviewForm
from .membership import level_discount_for, level_line
from .models import Order, PaymentMethod
from .order_selectors import orders_of
from .payment_settings import payment_choices, payment_methods_for, shop_methods
from .selectors import CartView

SESSION_KEY = "checkout"
# A second tab posting an emptied cart is sent to the order the first tab placed this recently.
RECENT_ORDER = timedelta(minutes=15)
# Reads the insurance box as the form will, before the form exists (it needs the quote first).
_INSURED_WIDGET = forms.CheckboxInput()


def _cart_or_redirect(request) -> tuple[CartView | None, HttpResponse | None]:
    """The member's cart when it can be checked out; else where to send them, and why."""
    if selectors.order_refusal(member=request.user):
        messages.error(request, _("Checkout is open to approved trade accounts only."))
        return None, redirect("orders:cart")
    cart = selectors.cart_view(member=request.user)
    if cart.is_empty:
        messages.info(request, _("Your cart is empty: add some products first."))
        return None, redirect("orders:cart")
    if not cart.ready_for_checkout:
        messages.error(request, _("Your cart is not ready for checkout yet: see what to fix."))
        return None, redirect("orders:cart")
    return cart, None


def _initial_address(book: list[Address], choice: dict) -> str:
    ids = {address.pk for address in book}
    if choice.get("address_id") in ids:
        return str(choice["address_id"])
    own = [address for address in book if not address.is_end_customer]
    if own:
        return str(next((a for a in own if a.is_default), own[0]).pk)
    return NEW_ADDRESS


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def delivery(request):
    """Step 1: a saved address or a new one (saved to the book); or a dropship order to an end
    customer's address."""
    cart, stop = _cart_or_redirect(request)
    if stop:
        return stop
    member = request.user
    book = list(addresses_for(member))
    choice = request.session.get(SESSION_KEY) or {}
    status = 200
    if request.method == "POST":
        form = DeliveryForm(request.POST)
        new_form = CheckoutAddressForm(request.POST, prefix=NEW_ADDRESS)
        address = None
        if form.is_valid():
            dropship = form.cleaned_data["dropship"]
            if form.cleaned_data["address"] == NEW_ADDRESS:
                if new_form.is_valid():
                    address = address_create(
                        member=member,
                        data={**new_form.address_data(), "is_end_customer": dropship},
                    )
            else:
                address = address_for(member, form.cleaned_data["address"])
                problem = delivery_problem(address, dropship=dropship)
                if problem:
                    form.add_error("address", problem)
                    address = None
        if address is not None:
            request.session[SESSION_KEY] = {"address_id": address.pk, "dropship": dropship}
            return redirect("checkout:review")
        status = 400
        if not (form.is_valid() and form.cleaned_data["address"] == NEW_ADDRESS):
            # The new address was not chosen: its empty fields are not errors to show.
            new_form = CheckoutAddressForm(
                prefix=NEW_ADDRESS, initial=_new_address_initial(request)
            )
    else:
        form = DeliveryForm(
            initial={
                "address": _initial_address(book, choice),
                "dropship": bool(choice.get("dropship")),
            }
        )
        new_form = CheckoutAddressForm(prefix=NEW_ADDRESS, initial=_new_address_initial(request))
    return render(
        request,
        "orders/checkout_delivery.html",
        {
            "cart": cart,
            "cart_count": cart.line_count,
            "form": form,
            "new_form": new_form,
            "selected": str(form["address"].value() or ""),
            "own": [address for address in book if not address.is_end_customer],
            "end_customers": [address for address in book if address.is_end_customer],
            "dropship_fee": dropship_fee(),
            # On the goods as checkout charges them, so the lines shown add up.
            "level_line": level_line(cart.goods_total_shown, level_discount_for(member)),
            "step": 1,
        },
        status=status,
    )


def _new_address_initial(request) -> dict:
    """The new address starts in the "Ship to" country the buyer chose, else their business's
    country, else the country they browse from (request.country)."""
    distributor = distributor_for(request.user)
    own = distributor.country.code if distributor and distributor.country else ""
    country = chosen_country(request) or own or str(getattr(request, "country", ""))
    return {"country": country} if country else {}


def _quote(
    cart: CartView,
    address: Address,
    *,
    method_code,
    insured,
    dropship,
    level,
    terms: tuple[str, Decimal],
    points=0,
    balance=0,
) -> CheckoutQuote:
    """The quote for the chosen method, or for the cheapest when none (or a bad one) is chosen,
    in the currency and at the rate of `terms` (wholesale.currencies.charge_terms)."""
    currency, rate = terms
    choice = {
        "cart": cart,
        "currency": currency,
        "rate": rate,
        "country": address.country.code,
        "insured": insured,
        "dropship": dropship,
        "level": level,
        "points": points,
        "points_balance": balance,
    }
    quote = checkout_quote(method_code=method_code, **choice)
    if quote.method is None and quote.options:
        quote = checkout_quote(method_code=quote.options[0].method_code, **choice)
    return quote


def _points_asked(request) -> int:
    """The points the review form asks to use; anything but a whole number ≥ 0 is 0 here (the
    form reports it)."""
    raw = str(request.POST.get("points", "")).strip()[:12]
    return int(raw) if raw.isdigit() else 0


def _recently_placed(member) -> Order | None:
    return (
        orders_of(member)
        .filter(placed_at__gte=timezone.now() - RECENT_ORDER)
        .only("pk", "number")
        .order_by("-placed_at", "-pk")
        .first()
    )


def _place_as_shown(request, terms: tuple[str, Decimal]) -> tuple[HttpResponse | None, int]:
    """ "Place order" on a page whose choices are still the ones its totals were shown for:
    order_place prices the cart again under its lock and refuses a cart that changed since,
    so the page's own pricing is not needed. Returns the response when the order is placed
    (or the form must go back a step); otherwise (None, status) and the page is shown again:
    status 0 when the choices changed or the payment method is not offered (the page's own
    checks say so), 200 when the cart or the rate changed meanwhile, 400 when the order was
    refused (the reasons are in messages). The order is charged in `terms` (currency, rate).
    """
    member = request.user
    if selectors.order_refusal(member=member):
        return None, 0
    try:
        address_id = int(request.POST.get("address_id", ""))
    except ValueError:
        raise Http404(_("No such address.")) from None
    dropship = request.POST.get("dropship") == "1"
    form = ReviewForm(
        request.POST,
        method_codes=[str(request.POST.get("shipping_method", ""))[:50]],
        # Which of them the address's country and the currency allow, order_place decides.
        payment_methods=PaymentMethod.values,
    )
    if not form.is_valid() or form.shown_choice_changed:
        return None, 0
    currency, rate = terms
    shown_terms = request.POST.get("quoted_terms")
    if shown_terms is not None and shown_terms != terms_token(currency, rate):
        # The page showed another currency or rate: show it again at today's.
        messages.warning(
            request, _("The exchange rate changed since this page was shown: check the totals.")
        )
        return None, 200
    try:
        order = order_place(
            member=member,
            checkout_key=form.cleaned_data["checkout_key"],
            address_id=address_id,
            method_code=form.cleaned_data["shipping_method"],
            payment_method=form.cleaned_data["payment_method"],
            insured=form.cleaned_data["insured"],
            dropship=dropship,
            note=form.cleaned_data["note"],
            cart_fingerprint=str(request.POST.get("quoted_cart", ""))[:64],
            points=form.cleaned_data["points"] or 0,
            currency=currency,
            rate=rate,
        )
    except ValidationError as error:
        codes = {e.code for e in error.error_list}
        if "empty" in codes:
            # Most likely this very form, placed a moment ago in another tab or by a double
            # click: go to that order.
            return _place_with_empty_cart(request), 0
        if "delivery" in codes:
            messages.error(request, error.messages[0])
            return redirect("checkout:delivery"), 0
        if "payment" in codes:
            # The page, shown again, offers the methods allowed and says why.
            return None, 0
        if "cart_changed" in codes:
            messages.warning(
                request, _("Your cart changed since this page was shown: check the new totals.")
            )
            return None, 200
        for message in error.messages:
            messages.error(request, message)
        return None, 400
    request.session.pop(SESSION_KEY, None)
    return _after_payment_choice(order), 0


def _after_payment_choice(order: Order) -> HttpResponse:
    if order.payment_method == PaymentMethod.CARD:
        return redirect(reverse("payments:card_start", args=[order.number]))
    return redirect(order.get_absolute_url())


def _place_with_empty_cart(request) -> HttpResponse:
    """The cart was emptied, most likely by this very form placed in another tab or a double
    click: go to that order rather than saying the cart is empty."""
    order = _recently_placed(request.user)
    if order is not None:
        messages.info(request, _("This order is already placed."))
        return redirect(order.get_absolute_url())
    messages.info(request, _("Your cart is empty: add some products first."))
    return redirect("orders:cart")


def _form_errors(form) -> list[str]:
    return [str(message) for errors in form.errors.values() for message in errors]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def review(request):
    """Step 2: shipping method, insurance, payment method and a note, with the totals priced by
    the server; "Place order" places it, "Update totals" prices another choice."""
    member = request.user
    posted = request.method == "POST"
    placing = posted and request.POST.get("action") == "place"
    terms = charge_terms(request)
    status = 200
    if placing:
        placed, outcome = _place_as_shown(request, terms)
        if placed is not None:
            return placed
        if outcome:
            # Refused, or the cart changed: the page is priced and shown again below.
            placing, status = False, outcome
    cart, stop = _cart_or_redirect(request)
    if stop:
        return stop
    if posted:
        # The address this page showed, looked up among the member's own: anyone else's is 404.
        address = address_for(member, request.POST.get("address_id"))
        dropship = request.POST.get("dropship") == "1"
        problem = delivery_problem(address, dropship=dropship)
        if problem:
            messages.error(request, problem)
            return redirect("checkout:delivery")
        insured = _INSURED_WIDGET.value_from_datadict(request.POST, request.FILES, "insured")
        method_code = str(request.POST.get("shipping_method", ""))[:50]
        payment_method = request.POST.get("payment_method")
        note = str(request.POST.get("note", ""))[:1000]
    else:
        choice = request.session.get(SESSION_KEY) or {}
        address = addresses_for(member).filter(pk=choice.get("address_id") or 0).first()
        if address is None:
            return redirect("checkout:delivery")
        dropship = bool(choice.get("dropship"))
        insured, method_code, payment_method, note = True, None, None, ""
    quote = _quote(
        cart,
        address,
        method_code=method_code,
        insured=insured,
        dropship=dropship,
        level=level_discount_for(member),
        points=_points_asked(request) if posted else 0,
        balance=points_balance(member),
        terms=terms,
    )
    # What this buyer may pay with: the rule for the delivery country, in the currency the
    # order is charged in (orders.payment_settings.payment_methods_for).
    payment_codes = payment_methods_for(country=address.country.code, currency=terms[0])
    payment_methods = shop_methods(payment_codes)
    if payment_method not in payment_methods:
        payment_method = payment_methods[0] if payment_methods else ""
    errors = []
    if posted:
        form = ReviewForm(
            request.POST,
            method_codes=[option.method_code for option in quote.options],
            payment_methods=payment_methods,
        )
        if not form.is_valid():
            status, errors = 400, _form_errors(form)
        elif placing and not quote.ready:
            status = 400
        elif placing and form.shown_choice_changed:
            messages.info(request, _("The totals changed with your choice: check them first."))
    return render(
        request,
        "orders/checkout_review.html",
        {
            "cart": cart,
            "cart_count": cart.line_count,
            "quote": quote,
            "totals": quote.totals,
            "address": address,
            "dropship": dropship,
            "insurance_price": insurance_price(cart.goods_total),
            "payment_choices": payment_choices(payment_codes),
            "payment_method": payment_method,
            "note": note,
            "errors": errors,
            # A new key per page shown: posting this page twice places one order.
            "checkout_key": uuid.uuid4(),
            "cart_fingerprint": cart_fingerprint(cart),
            "quoted_terms": terms_token(*terms),
            "step": 2,
        },
        status=status,
    )
