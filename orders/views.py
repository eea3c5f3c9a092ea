from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .forms import CartAddForm, CartLineForm, QuickOrderForm
from .membership import level_discount_for, level_line


def _safe_next(request) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("orders:cart")


def _error_messages(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _render_cart(request, *, status=200, line_errors=None):
    view = selectors.cart_view(member=request.user)
    return render(
        request,
        "orders/cart.html",
        {
            "cart": view,
            "cart_count": view.line_count,  # the header's count, without asking again
            "order_refusal": selectors.order_refusal(member=request.user),
            "level_line": level_line(view.goods_total_shown, level_discount_for(request.user)),
            "line_errors": line_errors or {},
        },
        status=status,
    )


@login_required
@require_GET
def cart(request):
    return _render_cart(request)


@login_required
@require_POST
def cart_add(request, slug):
    """The product page's order grid posts here; back to the product (or the cart) after."""
    target = _safe_next(request)
    form = CartAddForm(request.POST)
    if not form.is_valid():
        _error_messages(request, ValidationError(form.non_field_errors()))
        return redirect(target)
    try:
        result = services.cart_add_lines(
            member=request.user, product_slug=slug, quantities=form.cleaned_data["quantities"]
        )
    except ValidationError as error:
        _error_messages(request, error)
        return redirect(target)
    added = ", ".join(f"{line.added} × {line.label}" for line in result.lines)
    messages.success(
        request,
        _("Added to your cart: %(added)s of %(name)s.")
        % {"added": added, "name": result.product_name},
    )
    for problem in result.problems:
        messages.warning(request, problem)
    return redirect(target)


@login_required
@require_POST
def cart_line(request, line_id):
    """Change the quantity of a line, or remove it. Another member's line id is a 404."""
    line = selectors.access_cart_line(member=request.user, line_id=line_id)
    form = CartLineForm(request.POST)
    if not form.is_valid():
        return _render_cart(request, status=400, line_errors={line.pk: _form_errors(form)})
    if form.cleaned_data["action"] == "remove":
        removed = services.cart_remove_line(member=request.user, line_id=line.pk)
        messages.success(
            request, _("Removed %(sku)s from your cart.") % {"sku": removed.variant.sku}
        )
        return redirect("orders:cart")
    try:
        services.cart_update_line(
            member=request.user, line_id=line.pk, quantity=form.cleaned_data["quantity"]
        )
    except ValidationError as error:
        return _render_cart(request, status=400, line_errors={line.pk: " ".join(error.messages)})
    messages.success(request, _("Quantity of %(sku)s updated.") % {"sku": line.variant.sku})
    return redirect("orders:cart")


def _form_errors(form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def quick_order(request):
    refusal = selectors.order_refusal(member=request.user)
    form = QuickOrderForm(request.POST or None, request.FILES or None)
    context = {"form": form, "order_refusal": refusal, "outcomes": None}
    if request.method != "POST":
        return render(request, "orders/quick_order.html", context)
    if refusal:
        return render(request, "orders/quick_order.html", context, status=403)
    if not form.is_valid():
        return render(request, "orders/quick_order.html", context, status=400)
    outcomes = services.cart_quick_order(member=request.user, entries=form.cleaned_data["entries"])
    accepted = sum(1 for outcome in outcomes if outcome.accepted)
    if accepted:
        messages.success(
            request,
            _("%(accepted)s of %(total)s lines added to your cart.")
            % {"accepted": accepted, "total": len(outcomes)},
        )
    else:
        messages.error(request, _("No line could be added: see the reasons below."))
    # Lines already added must not be posted twice; when none was, the buyer fixes the text.
    retry = "" if accepted else request.POST.get("lines", "")
    context.update(outcomes=outcomes, form=QuickOrderForm(initial={"lines": retry}))
    return render(request, "orders/quick_order.html", context, status=200 if accepted else 400)
