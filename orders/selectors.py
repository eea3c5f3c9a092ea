"""Reads of carts: what a member's cart holds, what it costs now, and what blocks checkout;
and the shipping methods that serve a country, priced for a parcel."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Subquery
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from catalog.models import PriceTier, Product, Variant
from catalog.pricing import Tier
from catalog.selectors import product_name_in_language
from members.selectors import distributor_for, member_can_order
from wholesale.currencies import display, display_line_total
from wholesale.money import Money

from . import pricing, rules, shipping
from .models import Cart, CartLine, ShippingRate, ShippingZone

# Columns of a product the cart never needs; the search vector is the big one.
_PRODUCT_HEAVY = ("variant__product__search_document", "variant__product__description")
# What pricing and showing a cart reads, and nothing more: a cart is read on every cart page
# and again when the order is placed.
_CART_LINE_FIELDS = (
    "quantity",
    "added_at",
    "variant__sku",
    "variant__option1",
    "variant__option2",
    "variant__option3",
    "variant__weight_grams",
    "variant__stock",
    "variant__price",
    "variant__position",
    "variant__is_active",
    "variant__product__name",
    "variant__product__slug",
    "variant__product__status",
    "variant__product__published_at",
    "variant__product__moq",
    "variant__product__order_increment",
    "variant__product__made_to_order",
    "variant__product__lead_time_days",
    "variant__product__price_from",
)


def cart_for(*, member) -> Cart | None:
    """The member's cart, or None until they first add something."""
    if not member.is_authenticated:
        return None
    return Cart.objects.filter(member=member).first()


def cart_line_count(*, member) -> int:
    """How many lines (variants) the member's cart holds, in one query; 0 for guests."""
    if not member.is_authenticated:
        return 0
    return CartLine.objects.filter(cart__member=member).count()


def access_cart_line(*, member, line_id: int, lock: bool = False) -> CartLine:
    """One of the member's own cart lines, with its variant and product; 404 for anyone else's.

    With `lock`, the caller is inside a transaction and the line's row is locked.
    """
    if not member.is_authenticated:
        raise Http404(_("No such cart line."))
    queryset = CartLine.objects.select_related("variant__product").defer(*_PRODUCT_HEAVY)
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    line = queryset.filter(pk=line_id, cart__member=member).first()
    if line is None:
        raise Http404(_("No such cart line."))
    return line


def order_refusal(*, member) -> str | None:
    """Why `member` may not add to a cart, or None when they may."""
    if member_can_order(member):
        return None
    distributor = distributor_for(member)
    if distributor is not None and distributor.status == distributor.Status.PENDING:
        return _(
            "Your trade account is waiting for approval. You can order as soon as we approve "
            "it; we will email you."
        )
    return _(
        "Only approved trade accounts can order. Complete your company profile on your "
        "account page, or write to us."
    )


def variant_available(variant: Variant) -> bool:
    """Whether a variant may be ordered now: active, its product published and priced."""
    product = variant.product
    return variant.is_active and product.is_published and product.price_from is not None


def minimum_order_amount() -> Money:
    return Money(settings.WHOLESALE_MIN_ORDER_AMOUNT, settings.WHOLESALE_BASE_CURRENCY)


def _shown_sum(lines) -> Money:
    shown = (line.total_shown for line in lines)
    return sum((total for total in shown if total is not None), display(Money.base(0)))


@dataclass(frozen=True)
class CartLineView:
    id: int
    sku: str
    label: str
    quantity: int
    unit_price: Money | None
    total: Money | None
    problem: str | None
    variant_id: int = 0
    weight_grams: int = 0

    @property
    def total_shown(self) -> Money | None:
        """The line's total in the visitor's currency as checkout charges it: the unit price
        converted, times the quantity (converting `total` instead can miss it by a cent)."""
        if self.total is None or self.unit_price is None:
            return None
        return display_line_total(self.unit_price, self.quantity)


@dataclass(frozen=True)
class CartProductView:
    product_id: int
    name: str
    slug: str
    made_to_order: bool
    lead_time_days: int | None
    lines: list[CartLineView]
    price: pricing.ProductPrice | None  # None when nothing of the product can be ordered
    problems: list[str]
    # The name in the page's language where an editor translated it; the order keeps `name`.
    local_name: str = ""

    @property
    def shown_name(self) -> str:
        return self.local_name or self.name

    @property
    def subtotal_shown(self) -> Money | None:
        """The product's subtotal in the visitor's currency, as checkout charges it: the sum of
        its lines converted one by one."""
        return _shown_sum(self.lines) if self.price is not None else None

    @property
    def url(self) -> str:
        # Built when a page shows it: placing an order reads carts without linking them.
        return reverse("catalog:product", kwargs={"slug": self.slug})


@dataclass(frozen=True)
class CartView:
    products: list[CartProductView]
    goods_total: Money
    minimum: Money
    missing: Money | None
    problems: list[str] = field(default_factory=list)

    @property
    def goods_total_shown(self) -> Money:
        """The goods total in the visitor's currency as checkout charges it: each line's unit
        price converted, times its quantity, added up (converting the base total instead can
        miss the lines' sum by a cent)."""
        return _shown_sum(line for product in self.products for line in product.lines)

    @property
    def line_count(self) -> int:
        return sum(len(p.lines) for p in self.products)

    @property
    def is_empty(self) -> bool:
        return not self.products

    @property
    def ready_for_checkout(self) -> bool:
        return bool(self.products) and not self.problems


def cart_view(*, member) -> CartView:
    """The member's cart priced now, grouped by product, with what to fix before checkout.

    Two queries whatever the number of lines: the lines with their variants and products, and
    the price tiers of those products.
    """
    currency = settings.WHOLESALE_BASE_CURRENCY
    lines = list(
        CartLine.objects.filter(cart__member=member)
        # The product's name in the page's language, in the same query.
        .annotate(local_name=product_name_in_language("variant__product_id"))
        .select_related("variant__product")
        .only(*_CART_LINE_FIELDS)
        .order_by("added_at", "pk")
    )
    tiers_by_product: dict[int, list[Tier]] = defaultdict(list)
    if lines:
        product_ids = {line.variant.product_id for line in lines}
        for row in PriceTier.objects.filter(product_id__in=product_ids).values_list(
            "product_id", "min_quantity", "unit_price"
        ):
            tiers_by_product[row[0]].append(Tier(row[1], row[2]))

    grouped: dict[int, list[CartLine]] = {}
    for line in lines:
        grouped.setdefault(line.variant.product_id, []).append(line)

    products = []
    for product_lines in grouped.values():
        product_lines.sort(key=lambda line: (line.variant.position, line.variant.pk))
        products.append(
            _product_view(
                product_lines[0].variant.product,
                product_lines,
                tiers_by_product[product_lines[0].variant.product_id],
                currency,
            )
        )

    goods_total = pricing.sum_money(
        (p.price.subtotal for p in products if p.price is not None), currency
    )
    minimum = minimum_order_amount()
    problems = [problem for p in products for problem in p.problems]
    problems += [line.problem for p in products for line in p.lines if line.problem]
    below_minimum = rules.minimum_order_problem(goods_total=goods_total, minimum=minimum)
    if products and below_minimum:
        problems.append(below_minimum)
    return CartView(
        products=products,
        goods_total=goods_total,
        minimum=minimum,
        missing=pricing.amount_missing(total=goods_total, minimum=minimum),
        problems=problems,
    )


def _product_view(
    product: Product, lines: list[CartLine], tiers: list[Tier], currency: str
) -> CartProductView:
    problems: list[str] = []
    problem_of: dict[int, str] = {}
    orderable: list[CartLine] = []
    product_sold = product.is_published and bool(tiers)
    for line in lines:
        variant = line.variant
        if not product_sold or not variant.is_active:
            problem_of[line.pk] = _("No longer available: remove it.")
            continue
        orderable.append(line)
        if not product.made_to_order:
            refusal = rules.stock_refusal(
                sku=variant.sku, stock=variant.stock, in_cart=0, wanted=line.quantity
            )
            if refusal:
                problem_of[line.pk] = (
                    _("%(reason)s Lower the quantity or remove it.") % {"reason": refusal}
                    if variant.stock > 0
                    else _("%(reason)s Remove it.") % {"reason": refusal}
                )

    price = None
    if orderable:
        price = pricing.product_price(
            tiers,
            [pricing.LineToPrice(line.pk, line.quantity, line.variant.price) for line in orderable],
            currency,
        )
        problems += rules.product_problems(
            name=product.name,
            quantity=price.quantity,
            moq=product.moq,
            increment=product.order_increment,
        )
    priced = {p.key: p for p in price.lines} if price else {}
    views = []
    for line in lines:
        priced_line = priced.get(line.pk)
        views.append(
            CartLineView(
                id=line.pk,
                sku=line.variant.sku,
                label=line.variant.label,
                quantity=line.quantity,
                unit_price=priced_line.unit_price if priced_line else None,
                total=priced_line.total if priced_line else None,
                problem=problem_of.get(line.pk),
                variant_id=line.variant_id,
                weight_grams=line.variant.weight_grams,
            )
        )
    return CartProductView(
        product_id=product.pk,
        name=product.name,
        local_name=lines[0].local_name or "",
        slug=product.slug,
        made_to_order=product.made_to_order,
        lead_time_days=product.lead_time_days,
        lines=views,
        price=price,
        problems=problems,
    )


@dataclass(frozen=True)
class ShippingOption:
    method_name: str
    method_code: str
    price: Money
    min_days: int
    max_days: int
    is_free: bool


def shipping_zone_filter(country: str):
    """The first active zone (by position) that lists `country`, as a subquery of its pk.

    A multiple CountryField is stored as comma-separated two-letter codes, so a containment
    test on an exact two-letter code cannot match across a comma.
    """
    return Subquery(
        ShippingZone.objects.filter(is_active=True, countries__contains=country)
        .order_by("position", "pk")
        .values("pk")[:1]
    )


def shipping_options(*, country: str, weight_grams: int, goods: Money) -> list[ShippingOption]:
    """The methods that ship a parcel of `weight_grams` holding `goods` to `country`, cheapest
    first, each with its price in the base currency and its delivery estimate; empty when no
    active zone serves the country. One query.
    """
    code = (country or "").strip().upper()
    if len(code) != 2 or not code.isalpha():
        return []
    rates = (
        ShippingRate.objects.filter(
            zone=shipping_zone_filter(code), is_active=True, method__is_active=True
        )
        .select_related("method")
        .order_by()
    )
    options: list[tuple[int, int, ShippingOption]] = []
    for rate in rates:
        terms = rate.terms()
        options.append(
            (
                rate.method.position,
                rate.method.pk,
                ShippingOption(
                    method_name=rate.method.name,
                    method_code=rate.method.code,
                    price=shipping.freight(weight_grams=weight_grams, goods=goods, rate=terms),
                    min_days=rate.min_days,
                    max_days=rate.max_days,
                    is_free=shipping.ships_free(goods=goods, rate=terms),
                ),
            )
        )
    # Equal prices: the faster method first, then the staff's order of methods.
    options.sort(key=lambda row: (row[2].price.amount, row[2].max_days, row[0], row[1]))
    return [option for _position, _pk, option in options]
