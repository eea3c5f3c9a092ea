"""Favorites over HTTP: the favorites page, saving and removing (POST, then back to a page of
ours), and the member's saved ids as JSON for the catalog's "♥ Saved" marks.

Catalog pages are cached and shared by every member of an audience, so their "♡ Save" button
cannot know who is looking: it is a GET form to `favorite_add`, which shows a one-button
confirmation (after the login, for a guest). static/js/favorites.js turns it, for a logged-in
member, into a direct POST and marks the saved products from `favorite_ids`.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import favorites
from .selectors import member_can_order


def _safe_next(request, default: str) -> str:
    """The `next` page posted or asked for, when it is one of ours; else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@require_GET
def favorite_list(request):
    items = favorites.favorites_page(request.user)
    on_sale = [("product", item.product_id) for item in items if item.on_sale]
    return render(
        request,
        "members/favorites.html",
        {
            "items": items,
            "can_order": member_can_order(request.user),
            # The kit page offers these as a selection to trim (orders.kit_views).
            "kit_url": f"{reverse('kits:list')}?{urlencode(on_sale)}" if on_sale else "",
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def favorite_add(request, product_id):
    """POST saves the product and goes back to `next`. GET (a catalog button without the
    script, or the way back from the login page) asks to confirm: a GET changes nothing."""
    product = favorites.favorite_product_for(product_id)
    target = _safe_next(request, product.get_absolute_url())
    if request.method != "POST":
        return render(
            request,
            "members/favorite_confirm.html",
            {
                "product": product,
                "next": target,
                "saved": favorites.favorite_is_saved(member=request.user, product_id=product.pk),
            },
        )
    if favorites.favorite_add(member=request.user, product_id=product.pk):
        messages.success(
            request, _("%(name)s is saved in your favorites.") % {"name": product.name}
        )
    else:
        messages.info(
            request, _("%(name)s was already in your favorites.") % {"name": product.name}
        )
    return redirect(target)


@login_required
@require_POST
def favorite_remove(request, product_id):
    target = _safe_next(request, reverse("members:favorites"))
    if favorites.favorite_remove(member=request.user, product_id=product_id):
        messages.success(request, _("Removed from your favorites."))
    else:
        messages.info(request, _("That product was not in your favorites."))
    return redirect(target)


@never_cache
@require_GET
def favorite_ids(request):
    """The ids of the member's saved products, for static/js/favorites.js. Private: never
    cached by a browser or a proxy (never_cache sends Cache-Control: private, no-store)."""
    if not request.user.is_authenticated:
        response = JsonResponse({"error": _("Log in to see your favorites.")}, status=403)
    else:
        response = JsonResponse({"ids": favorites.favorite_product_ids(request.user)})
    return response
