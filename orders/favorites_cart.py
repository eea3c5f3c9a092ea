""" "Add all to cart" from the favorites page: each saved product's minimum order, in whole packs.

For each favorite the cart is brought up to the product's MOQ rounded up to its order increment
(pack size), counting what the cart already holds of the product; a product already there at
least that much is left alone, so a second click adds nothing. The units go on the first active
variant with stock (then the next ones, when the first holds fewer), and each product goes
through the cart's own service (`services.cart_add_lines`: its transaction, cart lock and stock
checks). A product that cannot be added is skipped with the reason; the others still go in.

This lives in orders, not members: members may not import orders.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _

from catalog.models import Product, Variant
from members.favorites import favorite_product_ids

from . import rules, selectors, services
from .models import CartLine

_PRODUCT_HEAVY = ("search_document", "description")


@dataclass(frozen=True)
class FavoriteAdded:
    product_name: str
    added: int  # units added now; 0 when skipped
    reason: str = ""  # why nothing was added, "" when added or already in the cart
    already: bool = False  # the cart held the minimum order already


def _target(product: Product) -> int:
    """The product's minimum order, rounded up to whole packs."""
    increment = max(product.order_increment, 1)
    return -(-max(product.moq, 1) // increment) * increment


def _spread(product: Product, variants: list[Variant], in_cart: dict[int, int], units: int):
    """{variant id: units} putting `units` on the first variants with room, or None when the
    active variants together cannot take them (stock, or the cart's per-line maximum)."""
    plan = {}
    for variant in variants:
        held = in_cart.get(variant.pk, 0)
        room = rules.MAX_QUANTITY - held
        if not product.made_to_order:
            room = min(room, variant.stock - held)
        take = min(room, units)
        if take > 0:
            plan[variant.pk] = take
            units -= take
        if units == 0:
            return plan
    return None


def _not_enough(product: Product, variants: list[Variant], in_cart: dict, wanted: int) -> str:
    available = sum(max(0, v.stock - in_cart.get(v.pk, 0)) for v in variants)
    if not available:
        return _("%(name)s is out of stock: it was not added.") % {"name": product.name}
    return _(
        "Only %(available)s more units of %(name)s are in stock, short of the %(wanted)s its "
        "minimum order needs: it was not added."
    ) % {"available": available, "name": product.name, "wanted": wanted}


def cart_add_favorites(*, member) -> list[FavoriteAdded]:
    """Add each of the member's favorites to their cart, as far as possible; one result per
    favorite, newest first. ValidationError (nothing added) when the member may not order."""
    refusal = selectors.order_refusal(member=member)
    if refusal:
        raise ValidationError(refusal, code="cannot_order")
    ids = favorite_product_ids(member)
    products = Product.objects.defer(*_PRODUCT_HEAVY).prefetch_related(
        Prefetch(
            "variants",
            queryset=Variant.objects.filter(is_active=True).order_by("position", "pk"),
        )
    )
    by_id = {product.pk: product for product in products.filter(pk__in=ids)}
    # Read outside the cart's lock: should the cart or the stock change meanwhile,
    # cart_add_lines refuses under its lock and the result gives its reason.
    in_cart: dict[int, int] = dict(
        CartLine.objects.filter(cart__member=member, variant__product_id__in=ids).values_list(
            "variant_id", "quantity"
        )
    )
    results = []
    for product_id in ids:
        product = by_id.get(product_id)
        if product is None:  # deleted since the ids were read
            continue
        results.append(_add_one(member, product, in_cart))
    return results


def _add_one(member, product: Product, in_cart: dict[int, int]) -> FavoriteAdded:
    variants = list(product.variants.all())
    if not product.is_published or product.price_from is None or not variants:
        return FavoriteAdded(
            product.name,
            0,
            _("%(name)s is no longer sold: it was not added.") % {"name": product.name},
        )
    target = _target(product)
    held = sum(in_cart.get(v.pk, 0) for v in variants)
    if held >= target:
        return FavoriteAdded(product.name, 0, already=True)
    wanted = target - held
    plan = _spread(product, variants, in_cart, wanted)
    if plan is None:
        return FavoriteAdded(product.name, 0, _not_enough(product, variants, in_cart, wanted))
    try:
        services.cart_add_lines(member=member, product_slug=product.slug, quantities=plan)
    except ValidationError as error:
        return FavoriteAdded(product.name, 0, " ".join(error.messages))
    except Http404:
        return FavoriteAdded(
            product.name,
            0,
            _("%(name)s is no longer sold: it was not added.") % {"name": product.name},
        )
    return FavoriteAdded(product.name, wanted)
