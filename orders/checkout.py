"""Checkout: pricing the cart for delivery (a selector) and placing the order (a service).

Placing an order is one transaction: the member's cart row is locked (so two submits of one
cart run one after the other, and the second finds the order the first placed), the cart is
priced again from the database, stock is taken for every line with row locks in pk order, the
order and its lines are written with the prices and tiers of this moment, and the cart is
emptied. The member's level discount (orders.membership) comes off the goods as its own
line; the minimum order amount, free shipping and insurance are reckoned on the goods before
it, as the cart shows them. Anything refused raises a ValidationError (or Http404 for an
address that is not the member's) and leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import StockMovement
from catalog.services import OutOfStock, stock_take
from members.models import Address
from members.points import (
    RedeemLimits,
    points_balance,
    points_redeem,
    points_value,
    redeem_limits,
)
from wholesale.money import Money

from . import emails, selectors, shipping
from .membership import LevelDiscount, level_discount_for
from .models import (
    Cart,
    CartLine,
    Order,
    OrderEvent,
    OrderLine,
    OrderState,
    Payment,
    PaymentMethod,
)
from .payment_settings import payment_methods_for, shop_methods
from .selectors import CartView, ShippingOption
from .totals import LineAmount, OrderTotals, order_totals


def payment_methods_offered(
    *, country: str | None = None, currency: str | None = None
) -> list[str]:
    """The payment methods (PaymentMethod values) buyers may choose, in the configured order:
    the super admin's payment settings, else the settings file, narrowed by the rule for
    `country` and what `currency` allows (orders.payment_settings.payment_methods_for). A card
    needs Stripe. Without a country, the shop-wide methods."""
    return shop_methods(payment_methods_for(country=country, currency=currency))


def dropship_fee() -> Money:
    return Money(settings.WHOLESALE_DROPSHIP_FEE, settings.WHOLESALE_BASE_CURRENCY).quantized()


def unpaid_deadline(payment_method: str, *, placed_at=None):
    hours = (
        settings.WHOLESALE_UNPAID_CARD_HOURS
        if payment_method == PaymentMethod.CARD
        else settings.WHOLESALE_UNPAID_TRANSFER_HOURS
    )
    return (placed_at or timezone.now()) + timedelta(hours=hours)


def insurance_price(goods: Money) -> Money:
    """What shipping insurance costs for `goods` (base currency), whether taken or not."""
    return shipping.insurance(
        goods=goods,
        percent=settings.WHOLESALE_INSURANCE_PERCENT,
        minimum=Money(settings.WHOLESALE_INSURANCE_MINIMUM, settings.WHOLESALE_BASE_CURRENCY),
    )


def delivery_problem(address: Address, *, dropship: bool) -> str | None:
    """A blind parcel goes to an end customer; a parcel with prices goes to the buyer."""
    if dropship and not address.is_end_customer:
        return _(
            "For a dropship order choose one of your end customers' addresses, or enter a new one."
        )
    if not dropship and address.is_end_customer:
        return _(
            "This is an end customer's address: tick “Dropship order” to send them a blind "
            "parcel, or choose one of your own addresses."
        )
    return None


@dataclass(frozen=True)
class CheckoutQuote:
    cart: CartView
    country: str
    weight_grams: int
    options: list[ShippingOption]
    method: ShippingOption | None
    insured: bool
    insurance_base: Money
    dropship: bool
    totals: OrderTotals | None  # None until a shipping method serves the order
    level: LevelDiscount | None = None
    problems: list[str] = field(default_factory=list)
    points: int = 0  # points redeemed on the order
    points_limits: RedeemLimits | None = None  # what the member may redeem on it

    @property
    def ready(self) -> bool:
        return self.totals is not None and not self.problems


def _orderable_lines(cart: CartView):
    """(product, line) for every line that can be bought now, in the cart's order."""
    for product in cart.products:
        if product.price is None:
            continue
        for line in product.lines:
            if line.unit_price is not None:
                yield product, line


def checkout_quote(
    *,
    cart: CartView,
    country: str,
    method_code: str | None,
    insured: bool = True,
    dropship: bool = False,
    currency: str | None = None,
    rate: Decimal = Decimal(1),
    level: LevelDiscount | None = None,
    points: int = 0,
    points_balance: int = 0,
) -> CheckoutQuote:
    """What the cart costs delivered to `country` by `method_code`, with the member's
    `level` discount off the goods and `points` redeemed (from a balance of `points_balance`,
    within the points rules). One query (the rates), two more with points (rules, nothing
    else: the balance is the caller's)."""
    base = settings.WHOLESALE_BASE_CURRENCY
    currency = currency or base
    zero = Money(Decimal(0), base)
    lines = list(_orderable_lines(cart))
    weight = sum(line.quantity * line.weight_grams for _product, line in lines)
    problems = list(cart.problems)
    if cart.is_empty:
        problems.append(_("Your cart is empty."))
    options = (
        selectors.shipping_options(country=country, weight_grams=weight, goods=cart.goods_total)
        if country and lines
        else []
    )
    method = next((option for option in options if option.method_code == method_code), None)
    if country and lines and not options:
        problems.append(
            _("We do not ship to this country yet: write to us and we will quote the freight.")
        )
    elif options and method is None and method_code:
        problems.append(_("Choose one of the shipping methods offered."))
    insurance = insurance_price(cart.goods_total) if insured and lines else zero
    level_percent = level.percent if level else Decimal(0)
    limits, points_off = None, zero
    if points_balance or points:
        # The cap applies to the goods after the level discount.
        after_level = cart.goods_total.amount * (100 - level_percent) / 100
        limits = redeem_limits(balance=points_balance, goods_base=after_level)
        problem = _points_problem(points, limits)
        if problem:
            problems.append(problem)
        elif points:
            points_off = Money(points_value(points), base)
    totals = None
    if method is not None:
        totals = order_totals(
            lines=[LineAmount(line.quantity, line.unit_price) for _product, line in lines],
            shipping=method.price,
            insurance=insurance,
            fee=dropship_fee() if dropship else zero,
            discount=points_off,
            level_percent=level_percent,
            currency=currency,
            rate=rate,
        )
    return CheckoutQuote(
        cart=cart,
        country=country,
        weight_grams=weight,
        options=options,
        method=method,
        insured=insured,
        insurance_base=insurance,
        dropship=dropship,
        totals=totals,
        problems=problems,
        level=level,
        points=points if points_off.amount else 0,
        points_limits=limits,
    )


def _points_problem(points: int, limits: RedeemLimits) -> str | None:
    """Why `points` cannot be redeemed on this order, or None (B4: a clear message)."""
    if not points:
        return None
    if points < 0:
        return _("Points to use cannot be negative.")
    if points > limits.balance:
        return _("You hold %(balance)d points.") % {"balance": limits.balance}
    if points < limits.minimum:
        return _("Use at least %(minimum)d points at a time.") % {"minimum": limits.minimum}
    if points > limits.maximum:
        return _("This order can take at most %(maximum)d points.") % {"maximum": limits.maximum}
    return None


def cart_fingerprint(cart: CartView) -> str:
    """What the cart holds (its variants and quantities, not its prices), as a short token a
    page carries, so placing can tell that the cart changed since the page was shown."""
    held = sorted((line.variant_id, line.quantity) for p in cart.products for line in p.lines)
    return hashlib.sha256(repr(held).encode()).hexdigest()[:20]


def _next_number(order: Order) -> str:
    return f"{settings.WHOLESALE_ORDER_NUMBER_PREFIX}{100000 + order.pk}"


def order_place(
    *,
    member,
    checkout_key: uuid.UUID,
    address_id: int,
    method_code: str,
    payment_method: str,
    insured: bool = True,
    dropship: bool = False,
    note: str = "",
    currency: str | None = None,
    rate: Decimal = Decimal(1),
    cart_fingerprint: str | None = None,
    points: int = 0,
) -> Order:
    """Place the member's cart as an order, or return the order this checkout already placed.

    `checkout_key` identifies one checkout form: posting it again (a double click, a retry,
    a second tab) returns the same order. A dropship order goes to one of the member's end
    customers, any other order to one of their own addresses (else code "delivery"); it is paid
    by a method offered for the address's country in `currency` (else code "payment"). With
    `cart_fingerprint` (what the page showed, see cart_fingerprint()), a cart changed since
    is refused with code "cart_changed"; an empty cart with code "empty". Raises
    ValidationError with the reasons when the cart cannot be ordered as it is, Http404 for
    an address that is not the member's.
    """
    refusal = selectors.order_refusal(member=member)
    if refusal:
        raise ValidationError(refusal, code="cannot_order")
    try:
        with transaction.atomic():
            order = _place(
                member=member,
                checkout_key=checkout_key,
                address_id=address_id,
                method_code=method_code,
                payment_method=payment_method,
                insured=insured,
                dropship=dropship,
                note=note,
                currency=currency,
                rate=rate,
                expected_cart=cart_fingerprint,
                points=points,
            )
    except OutOfStock as exc:
        raise ValidationError(
            [
                ValidationError(
                    _("Only %(available)s left of %(sku)s: lower the quantity in your cart.")
                    % {"available": max(shortage.available, 0), "sku": shortage.variant.sku},
                    code="out_of_stock",
                )
                for shortage in exc.shortages
            ]
        ) from None
    return order


def _place(
    *,
    member,
    checkout_key,
    address_id,
    method_code,
    payment_method,
    insured,
    dropship,
    note,
    currency,
    rate,
    expected_cart,
    points=0,
) -> Order:
    cart = Cart.objects.select_for_update().filter(member=member).first()
    placed = Order.objects.filter(member=member, checkout_key=checkout_key).first()
    if placed is not None:
        return placed
    address = Address.objects.filter(pk=address_id, member=member).first()
    if address is None:
        raise Http404(_("No such address."))
    problem = delivery_problem(address, dropship=dropship)
    if problem:
        raise ValidationError(problem, code="delivery")
    if payment_method not in payment_methods_offered(
        country=address.country.code, currency=currency
    ):
        raise ValidationError(_("Choose one of the payment methods offered."), code="payment")
    if cart is None:
        raise ValidationError(_("Your cart is empty."), code="empty")
    view = selectors.cart_view(member=member)
    if view.is_empty:
        raise ValidationError(_("Your cart is empty."), code="empty")
    if expected_cart is not None and expected_cart != cart_fingerprint(view):
        raise ValidationError(
            _("Your cart changed since this page was shown: check the new totals."),
            code="cart_changed",
        )
    quote = checkout_quote(
        cart=view,
        country=address.country.code,
        method_code=method_code,
        insured=insured,
        dropship=dropship,
        currency=currency,
        rate=rate,
        level=level_discount_for(member),
        points=points,
        points_balance=points_balance(member) if points else 0,
    )
    if quote.problems:
        raise ValidationError([ValidationError(problem, code="cart") for problem in quote.problems])
    if quote.totals is None:
        raise ValidationError(_("Choose a shipping method."), code="shipping")
    totals = quote.totals
    now = timezone.now()
    distributor = getattr(member, "distributor", None)
    billing = address
    if address.is_end_customer or dropship:
        billing = (
            Address.objects.filter(member=member, is_end_customer=False)
            .order_by("-is_default", "-updated_at", "-pk")
            .first()
        )
    order = Order.objects.create(
        member=member,
        email=member.email,
        company_name=distributor.company_name if distributor else "",
        payment_method=payment_method,
        checkout_key=checkout_key,
        currency=totals.currency,
        base_currency=settings.WHOLESALE_BASE_CURRENCY,
        exchange_rate=totals.rate,
        goods_total=totals.goods.amount,
        discount_total=totals.discount.amount,
        level_name=quote.level.name if quote.level else "",
        level_discount_percent=totals.level_percent,
        level_discount_total=totals.level_discount.amount,
        points_redeemed=quote.points,
        points_discount_total=totals.other_discount.amount,
        shipping_total=totals.shipping.amount,
        insurance_total=totals.insurance.amount,
        fee_total=totals.fee.amount,
        grand_total=totals.grand_total.amount,
        grand_total_base=totals.grand_total_base.amount,
        shipping_method_code=quote.method.method_code,
        shipping_method_name=quote.method.method_name,
        delivery_min_days=quote.method.min_days,
        delivery_max_days=quote.method.max_days,
        weight_grams=quote.weight_grams,
        is_insured=insured,
        is_dropship=dropship,
        ship_name=address.name,
        ship_company=address.company,
        ship_line1=address.line1,
        ship_line2=address.line2,
        ship_city=address.city,
        ship_region=address.region,
        ship_postal_code=address.postal_code,
        ship_country=address.country,
        ship_phone=address.phone,
        buyer_note=note[:1000],
        bill_address="\n".join(billing.lines()) if billing else "",
        bill_tax_number=distributor.tax_number if distributor else "",
        placed_at=now,
        pay_by=unpaid_deadline(payment_method, placed_at=now),
    )
    order.number = _next_number(order)
    Order.objects.filter(pk=order.pk).update(number=order.number)
    if quote.points:
        # Under the member's points row lock: a second checkout spending the same points
        # waits here and is refused, and this whole order with it.
        points_redeem(
            member=member,
            points=quote.points,
            goods_base=view.goods_total.amount - totals.level_discount_base.amount,
            order_id=order.pk,
            order_number=order.number,
        )
    lines = []
    charged = iter(totals.lines)
    for position, (product, line) in enumerate(_orderable_lines(view)):
        amounts = next(charged)
        lines.append(
            OrderLine(
                order=order,
                variant_id=line.variant_id,
                product_id_snapshot=product.product_id,
                product_name=product.name,
                sku=line.sku,
                variant_label=line.label,
                quantity=line.quantity,
                tier_min_quantity=product.price.tier_min_quantity,
                tier_max_quantity=product.price.tier_max_quantity,
                unit_price_base=amounts.unit_price_base.amount,
                unit_price=amounts.unit_price.amount,
                line_total=amounts.total.amount,
                weight_grams=line.weight_grams,
                position=position,
            )
        )
    # Stock first: the variants' row locks (in pk order) come before any row that references
    # them, so no foreign-key check ever waits on a lock held by another checkout.
    stock_take(
        quantities={line.variant_id: line.quantity for line in lines},
        reason=StockMovement.Reason.ORDER,
        reference=f"order:{order.number}",
        by=member,
    )
    OrderLine.objects.bulk_create(lines)
    Payment.objects.create(
        order=order,
        method=payment_method,
        amount=order.grand_total,
        currency=order.currency,
        idempotency_key=f"order-{order.number}-{payment_method}",
    )
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.PLACED,
        to_state=OrderState.PENDING_PAYMENT,
        actor=member,
        actor_label=member.email,
        reason=_("Placed by the buyer."),
    )
    CartLine.objects.filter(cart=cart).delete()
    order_id = order.pk
    emails.send_later("order_received", order_id=order_id)
    return order
