"""Changes to carts. Every change runs in a transaction that first locks the member's cart row,
so two requests of one member (two tabs, two devices) are applied one after the other.

What refuses a change (nothing is written, a ValidationError or Http404 says why): a member
who may not order, a quantity that is not a whole number from 1 to rules.MAX_QUANTITY, an
unknown, inactive or unpublished variant (404 when posted by id), more than the variant's
stock (made-to-order products have no stock limit). What only has to be fixed before checkout
(below the MOQ, not a whole number of packs, below the minimum order amount) is reported by
selectors.cart_view, never refused here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Variant
from catalog.services import cart_addition_record

from . import rules, selectors
from .models import Cart, CartLine
from .quick_order import QuickOrderEntry

_VARIANT_HEAVY = ("product__search_document", "product__description")


@dataclass(frozen=True)
class AddedLine:
    sku: str
    label: str
    added: int
    in_cart: int


@dataclass(frozen=True)
class CartAddResult:
    product_name: str
    lines: list[AddedLine]
    problems: list[str]  # what the product still needs before checkout (MOQ, packs)


@dataclass(frozen=True)
class QuickOrderOutcome:
    line_no: int
    sku: str
    quantity: int | None
    accepted: bool
    reason: str


def _checked_quantity(quantity: int, *, allow_zero: bool = False) -> int:
    try:
        return rules.check_quantity(quantity, allow_zero=allow_zero)
    except rules.QuantityError as exc:
        raise ValidationError(str(exc), code="quantity") from None


def _require_can_order(member) -> None:
    refusal = selectors.order_refusal(member=member)
    if refusal:
        raise ValidationError(refusal, code="cannot_order")


def _lock_cart(member) -> Cart:
    """The member's cart, created if missing, with its row locked until the transaction ends.

    One INSERT .. ON CONFLICT DO UPDATE: it creates the cart or touches updated_at, and either
    way holds the row lock, so concurrent first additions cannot create two carts.
    """
    cart = Cart(member=member)
    Cart.objects.bulk_create(
        [cart], update_conflicts=True, unique_fields=["member"], update_fields=["updated_at"]
    )
    return cart


def _write_lines(cart: Cart, quantities: Mapping[int, int]) -> None:
    """Set the quantity of each variant's line (caller holds the cart lock, quantities valid)."""
    CartLine.objects.bulk_create(
        [
            CartLine(cart=cart, variant_id=variant_id, quantity=quantity)
            for variant_id, quantity in sorted(quantities.items())
        ],
        update_conflicts=True,
        unique_fields=["cart", "variant"],
        update_fields=["quantity"],
    )


def _addition_refusal(variant: Variant, *, in_cart: int, added: int) -> str | None:
    total = in_cart + added
    if total > rules.MAX_QUANTITY:
        return _("%(sku)s: at most %(max)s units per line (%(in_cart)s already in your cart).") % {
            "sku": variant.sku,
            "max": f"{rules.MAX_QUANTITY:,}",
            "in_cart": in_cart,
        }
    if variant.product.made_to_order:
        return None
    return rules.stock_refusal(sku=variant.sku, stock=variant.stock, in_cart=in_cart, wanted=total)


def cart_add_lines(*, member, product_slug: str, quantities: Mapping[int, int]) -> CartAddResult:
    """Add units of one product's variants (variant id -> units; 0 means none), all or nothing.

    The quantities are added to what the cart already holds. An id that is not an active
    variant of this published product raises Http404 and nothing is added.
    """
    _require_can_order(member)
    wanted = {}
    for variant_id, quantity in quantities.items():
        if _checked_quantity(quantity, allow_zero=True):
            wanted[variant_id] = quantity
    if not wanted:
        raise ValidationError(_("Enter a quantity for at least one variant."), code="empty")
    with transaction.atomic():
        cart = _lock_cart(member)
        variants = list(
            Variant.objects.select_related("product")
            .defer(*_VARIANT_HEAVY)
            .filter(pk__in=list(wanted), product__slug=product_slug)
            .order_by("position", "pk")
        )
        if len(variants) != len(wanted) or not all(
            selectors.variant_available(v) for v in variants
        ):
            raise Http404(_("No such product or variant on sale."))
        product = variants[0].product
        in_cart = dict(
            CartLine.objects.filter(
                cart=cart, variant__product=product, variant__is_active=True
            ).values_list("variant_id", "quantity")
        )
        refusals = [
            refusal
            for v in variants
            if (refusal := _addition_refusal(v, in_cart=in_cart.get(v.pk, 0), added=wanted[v.pk]))
        ]
        if refusals:
            raise ValidationError(refusals, code="refused")
        totals = {v.pk: in_cart.get(v.pk, 0) + wanted[v.pk] for v in variants}
        _write_lines(cart, totals)
    cart_addition_record(member_id=member.pk, product_id=product.pk)
    product_quantity = sum({**in_cart, **totals}.values())
    return CartAddResult(
        product_name=product.name,
        lines=[AddedLine(v.sku, v.label, wanted[v.pk], totals[v.pk]) for v in variants],
        problems=rules.product_problems(
            name=product.name,
            quantity=product_quantity,
            moq=product.moq,
            increment=product.order_increment,
        ),
    )


def cart_quick_order(*, member, entries: Sequence[QuickOrderEntry]) -> list[QuickOrderOutcome]:
    """Add the lines that can be added, in one transaction, and say for each line why not.

    SKUs match as typed or in upper case. The same SKU on several lines adds up.
    """
    _require_can_order(member)
    readable = [entry for entry in entries if entry.error is None]
    outcomes: dict[int, QuickOrderOutcome] = {
        entry.line_no: QuickOrderOutcome(entry.line_no, entry.sku, None, False, entry.error)
        for entry in entries
        if entry.error is not None
    }
    if readable:
        with transaction.atomic():
            cart = _lock_cart(member)
            skus = {entry.sku for entry in readable} | {entry.sku.upper() for entry in readable}
            by_sku = {
                v.sku: v
                for v in Variant.objects.select_related("product")
                .defer(*_VARIANT_HEAVY)
                .filter(sku__in=skus)
            }
            in_cart = dict(
                CartLine.objects.filter(cart=cart, variant__sku__in=skus).values_list(
                    "variant_id", "quantity"
                )
            )
            totals: dict[int, int] = {}
            for entry in readable:
                variant = by_sku.get(entry.sku) or by_sku.get(entry.sku.upper())
                reason = _quick_order_refusal(entry, variant, in_cart, totals)
                if reason is None:
                    held = totals.get(variant.pk, in_cart.get(variant.pk, 0))
                    totals[variant.pk] = held + entry.quantity
                    reason = _("Added %(n)s × %(label)s of %(name)s.") % {
                        "n": entry.quantity,
                        "label": variant.label,
                        "name": variant.product.name,
                    }
                    outcomes[entry.line_no] = QuickOrderOutcome(
                        entry.line_no, variant.sku, entry.quantity, True, reason
                    )
                else:
                    outcomes[entry.line_no] = QuickOrderOutcome(
                        entry.line_no, entry.sku, entry.quantity, False, reason
                    )
            if totals:
                _write_lines(cart, totals)
    return [outcomes[entry.line_no] for entry in entries]


def _quick_order_refusal(
    entry: QuickOrderEntry,
    variant: Variant | None,
    in_cart: Mapping[int, int],
    totals: Mapping[int, int],
) -> str | None:
    if variant is None:
        return _("Unknown SKU “%(sku)s”.") % {"sku": entry.sku}
    if not selectors.variant_available(variant):
        return _("%(sku)s is no longer sold.") % {"sku": variant.sku}
    held = totals.get(variant.pk, in_cart.get(variant.pk, 0))
    return _addition_refusal(variant, in_cart=held, added=entry.quantity)


def cart_update_line(*, member, line_id: int, quantity: int) -> CartLine:
    """Set a line's quantity. Raises Http404 for a line not in the member's cart."""
    with transaction.atomic():
        if not Cart.objects.filter(member=member).update(updated_at=timezone.now()):
            raise Http404(_("No such cart line."))
        line = selectors.access_cart_line(member=member, line_id=line_id, lock=True)
        _require_can_order(member)
        _checked_quantity(quantity)
        variant = line.variant
        if not selectors.variant_available(variant):
            raise ValidationError(
                _("%(sku)s is no longer sold: remove it from your cart.") % {"sku": variant.sku},
                code="unavailable",
            )
        if not variant.product.made_to_order:
            refusal = rules.stock_refusal(
                sku=variant.sku, stock=variant.stock, in_cart=0, wanted=quantity
            )
            if refusal:
                raise ValidationError(refusal, code="stock")
        if quantity != line.quantity:
            line.quantity = quantity
            line.save(update_fields=["quantity"])
    return line


def cart_remove_line(*, member, line_id: int) -> CartLine:
    """Remove a line from the member's cart; Http404 for a line not in it. Returns the line."""
    with transaction.atomic():
        if not Cart.objects.filter(member=member).update(updated_at=timezone.now()):
            raise Http404(_("No such cart line."))
        line = selectors.access_cart_line(member=member, line_id=line_id, lock=True)
        CartLine.objects.filter(pk=line.pk).delete()
    return line
