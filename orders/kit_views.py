"""The buyer's product kit page (/account/kits/): their kits with status and progress, a
form for their suggested retail markup, and the requests for a product, selection, category
or this week's new arrivals kit. Thin: orders.kits does the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from catalog.models import Category, Product, ProductKit
from members.selectors import distributor_for, member_can_order

from . import kits
from .kit_forms import RetailMarkupForm


def _refused(request):
    messages.error(
        request,
        _("Product kits are for approved distributors; your account is not approved yet."),
    )
    return redirect("members:account")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_GET
def kit_list(request):
    if not member_can_order(request.user):
        return _refused(request)
    member_kits = kits.kits_of(request.user)
    # ?product=1 offers that product's kit; several (the new-arrival email, the favorites
    # page) offer them as a selection the buyer may trim.
    product_ids = {pk for pk in map(_int, request.GET.getlist("product")) if pk is not None}
    offered = (
        list(
            Product.objects.published()
            .filter(pk__in=sorted(product_ids)[: kits.SELECTION_LIMIT])
            .order_by("name", "pk")
            .only("pk", "name", "slug")
        )
        if product_ids
        else []
    )
    category_id = _int(request.GET.get("category"))
    context = {
        "kits": member_kits,
        "working": any(kit.is_working for kit in member_kits),
        "markup_form": RetailMarkupForm(instance=distributor_for(request.user)),
        "offer_product": offered[0] if len(offered) == 1 else None,
        "offer_selection": offered if len(offered) > 1 else [],
        "offer_category": (
            Category.objects.filter(pk=category_id, is_active=True).first() if category_id else None
        ),
    }
    return render(request, "orders/kits/list.html", context)


@login_required
@require_POST
def kit_markup(request):
    if not member_can_order(request.user):
        return _refused(request)
    form = RetailMarkupForm(request.POST, instance=distributor_for(request.user))
    if form.is_valid():
        form.save()
        messages.success(request, _("Your suggested retail markup is saved."))
        return redirect("kits:list")
    member_kits = kits.kits_of(request.user)
    return render(
        request,
        "orders/kits/list.html",
        {
            "kits": member_kits,
            "working": any(kit.is_working for kit in member_kits),
            "markup_form": form,
        },
        status=400,
    )


@login_required
@require_POST
def kit_new(request):
    if not member_can_order(request.user):
        return _refused(request)
    kind = request.POST.get("kind", "")
    category = None
    if kind == ProductKit.Kind.CATEGORY:
        category_id = _int(request.POST.get("category"))
        category = Category.objects.filter(pk=category_id, is_active=True).first()
    product_ids = [pk for pk in map(_int, request.POST.getlist("product")) if pk is not None]
    try:
        kit = kits.kit_request(
            member=request.user, kind=kind, product_ids=product_ids, category=category
        )
    except kits.KitRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("kits:list")
    if kit.status == ProductKit.Status.READY:
        messages.success(request, _("Your kit is ready to download."))
    elif kit.status == ProductKit.Status.FAILED:
        messages.error(request, _("Your kit could not be built. Please try again later."))
    else:
        messages.success(request, _("Your kit is being built; this page shows its progress."))
    return redirect("kits:list")


@login_required
@require_GET
def kit_download(request, kit_id):
    kit = kits.kit_of(request.user, kit_id)
    if not kit.file.name:
        raise Http404
    return FileResponse(
        kit.file.open("rb"), as_attachment=True, filename=f"product-kit-{kit.pk}.zip"
    )
