from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from members.models import address_lines
from wholesale.ledger import AppendOnly, AppendOnlyQuerySet
from wholesale.money import Money
from wholesale.singleton import forget

from .payment_options import OPTIONS
from .rules import MAX_QUANTITY
from .shipping import RateTerms


class Cart(models.Model):
    """A member's cart, kept in the database so it survives logout and follows them to any device.

    It holds variants and quantities only: prices are recomputed from the catalog on every read.
    The row is created on the first addition; every change to the cart locks it first.
    """

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="cart",
        verbose_name=_("member"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")

    def __str__(self):
        return _("Cart of %(member)s") % {"member": self.member}


class CartLine(models.Model):
    cart = models.ForeignKey(
        Cart, on_delete=models.CASCADE, related_name="lines", verbose_name=_("cart")
    )
    variant = models.ForeignKey(
        "catalog.Variant", on_delete=models.PROTECT, related_name="+", verbose_name=_("variant")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cartline_unique_variant"),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0) & models.Q(quantity__lte=MAX_QUANTITY),
                name="cartline_quantity_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.variant_id}"


class ShippingZone(models.Model):
    """Countries priced alike. A country may sit in several zones: the first active one by
    position serves it, so staff can carve a country out of a wider zone by ordering."""

    name = models.CharField(_("name"), max_length=100)
    countries = CountryField(_("countries"), multiple=True, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("shipping zone")
        verbose_name_plural = _("shipping zones")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name


class ShippingMethod(models.Model):
    name = models.CharField(
        _("name"), max_length=100, help_text=_("E.g. economy post, express courier, sea freight.")
    )
    code = models.SlugField(_("code"), max_length=50, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("shipping method")
        verbose_name_plural = _("shipping methods")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name


def _money_field(verbose_name, **kwargs):
    return models.DecimalField(
        verbose_name,
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
        **kwargs,
    )


class ShippingRate(models.Model):
    """What one method costs to one zone, in the base currency: the first weight, then each
    started additional weight step (orders.shipping.freight)."""

    zone = models.ForeignKey(
        ShippingZone, on_delete=models.CASCADE, related_name="rates", verbose_name=_("zone")
    )
    method = models.ForeignKey(
        ShippingMethod, on_delete=models.PROTECT, related_name="rates", verbose_name=_("method")
    )
    first_weight_grams = models.PositiveIntegerField(
        _("first weight (g)"), validators=[MinValueValidator(1)]
    )
    first_price = _money_field(_("first weight price"))
    additional_weight_grams = models.PositiveIntegerField(
        _("additional weight step (g)"), validators=[MinValueValidator(1)]
    )
    additional_price = _money_field(
        _("price per additional step"), help_text=_("Charged for each started step.")
    )
    free_above = _money_field(
        _("free from goods amount"),
        null=True,
        blank=True,
        help_text=_("Goods value, in the base currency, from which this method ships free."),
    )
    min_days = models.PositiveIntegerField(_("minimum days"))
    max_days = models.PositiveIntegerField(_("maximum days"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("shipping rate")
        verbose_name_plural = _("shipping rates")
        ordering = ["zone", "method"]
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "method"],
                name="shippingrate_unique_zone_method",
                violation_error_message=_("This zone already has a rate for this method."),
            ),
            models.CheckConstraint(
                condition=models.Q(first_weight_grams__gt=0)
                & models.Q(additional_weight_grams__gt=0),
                name="shippingrate_weights_positive",
                violation_error_message=_("Weights must be more than 0 g."),
            ),
            models.CheckConstraint(
                condition=models.Q(first_price__gte=0)
                & models.Q(additional_price__gte=0)
                & (models.Q(free_above__isnull=True) | models.Q(free_above__gte=0)),
                name="shippingrate_prices_not_negative",
                violation_error_message=_("Prices must not be negative."),
            ),
            models.CheckConstraint(
                condition=models.Q(min_days__lte=models.F("max_days")),
                name="shippingrate_days_ordered",
                violation_error_message=_("The minimum days must not exceed the maximum days."),
            ),
        ]

    def __str__(self):
        return f"{self.zone_id} × {self.method_id}"

    def terms(self) -> RateTerms:
        currency = settings.WHOLESALE_BASE_CURRENCY
        return RateTerms(
            first_weight_grams=self.first_weight_grams,
            first_price=Money(self.first_price, currency),
            additional_weight_grams=self.additional_weight_grams,
            additional_price=Money(self.additional_price, currency),
            free_above=None if self.free_above is None else Money(self.free_above, currency),
            min_days=self.min_days,
            max_days=self.max_days,
        )


# --- Orders -----------------------------------------------------------------------------------


class OrderState(models.TextChoices):
    """The life of an order (DESIGN.md); orders.states says which moves are allowed."""

    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    PAID = "paid", _("Paid")
    PROCESSING = "processing", _("Processing")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")
    DISPUTED = "disputed", _("Disputed")


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Card (Stripe)")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer (T/T)")


def _amount_field(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


class Order(models.Model):
    """A placed order: what was bought, at which prices, shipped where, and its state.

    Everything the buyer saw at checkout is copied here (address, method, prices, tiers), so
    later changes to the catalog, the address book or the shipping templates never change it.
    Amounts are in the order's `currency` (what the buyer is charged); `exchange_rate` converts
    the base currency into it and `grand_total_base` keeps the total in the base currency.
    `state` changes only through orders.services.order_transition, which writes an OrderEvent.
    """

    number = models.CharField(_("number"), max_length=20, unique=True, null=True, editable=False)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("member"),
    )
    email = models.EmailField(_("email"))
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=OrderState.choices,
        default=OrderState.PENDING_PAYMENT,
        db_index=True,
    )
    payment_method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices
    )
    # A token rendered into the checkout form: posting the same form twice finds this order.
    checkout_key = models.UUIDField(_("checkout key"), editable=False)

    currency = models.CharField(_("currency"), max_length=3)
    base_currency = models.CharField(_("base currency"), max_length=3)
    exchange_rate = models.DecimalField(
        _("exchange rate"),
        max_digits=18,
        decimal_places=8,
        default=Decimal(1),
        help_text=_("Units of the order currency per unit of the base currency."),
    )
    goods_total = _amount_field(_("goods"))
    discount_total = _amount_field(_("discounts"), default=Decimal(0))
    # Of the discounts: the member level's percentage off the goods, and points redeemed.
    level_name = models.CharField(_("level"), max_length=60, blank=True)
    level_discount_percent = models.DecimalField(
        _("level discount (%)"), max_digits=5, decimal_places=2, default=Decimal(0)
    )
    level_discount_total = _amount_field(_("level discount"), default=Decimal(0))
    points_redeemed = models.PositiveIntegerField(_("points redeemed"), default=0)
    points_discount_total = _amount_field(_("points discount"), default=Decimal(0))
    shipping_total = _amount_field(_("shipping"))
    insurance_total = _amount_field(_("insurance"), default=Decimal(0))
    fee_total = _amount_field(_("fees"), default=Decimal(0))
    grand_total = _amount_field(_("total"))
    grand_total_base = _amount_field(_("total in base currency"))
    refunded_total = _amount_field(_("refunded"), default=Decimal(0))
    # The total net of refunds in the base currency (refunds are in the order's currency),
    # kept by the database: the reports sum and rank it over a year of orders.
    net_base = models.GeneratedField(
        expression=models.F("grand_total_base")
        - models.F("refunded_total") / models.F("exchange_rate"),
        output_field=models.DecimalField(max_digits=14, decimal_places=2),
        db_persist=True,
        verbose_name=_("net total in base currency"),
    )

    shipping_method_code = models.CharField(_("shipping method code"), max_length=50)
    shipping_method_name = models.CharField(_("shipping method"), max_length=100)
    delivery_min_days = models.PositiveIntegerField(_("delivery from (days)"))
    delivery_max_days = models.PositiveIntegerField(_("delivery to (days)"))
    weight_grams = models.PositiveIntegerField(_("weight (g)"))
    is_insured = models.BooleanField(_("insured"), default=True)
    is_dropship = models.BooleanField(
        _("dropship"),
        default=False,
        help_text=_("Shipped to the buyer's own customer in a blind parcel: no prices, no shop."),
    )
    ship_name = models.CharField(_("recipient"), max_length=200)
    ship_company = models.CharField(_("company"), max_length=200, blank=True)
    ship_line1 = models.CharField(_("address line 1"), max_length=200)
    ship_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    ship_city = models.CharField(_("city"), max_length=100)
    ship_region = models.CharField(_("region"), max_length=100, blank=True)
    ship_postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    ship_country = CountryField(_("country"), db_index=True)
    ship_phone = models.CharField(_("phone"), max_length=40, blank=True)
    buyer_note = models.TextField(_("note from the buyer"), blank=True, max_length=1000)
    # Who the invoice is made out to, as it was when the order was placed: the buyer's own
    # address (a dropship order's parcel goes to someone else), one line per row.
    bill_address = models.TextField(_("billing address"), blank=True)
    bill_tax_number = models.CharField(_("tax / VAT number"), max_length=50, blank=True)

    # Whether the order still holds its stock: cleared, once, when the stock goes back.
    holds_stock = models.BooleanField(_("holds stock"), default=True, editable=False)
    placed_at = models.DateTimeField(_("placed"), default=timezone.now, db_index=True)
    pay_by = models.DateTimeField(_("pay by"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-pk"]
        permissions = [
            ("confirm_payment", _("Can confirm bank transfers")),
            ("refund_order", _("Can refund orders")),
            ("ship_order", _("Can add shipments")),
        ]
        indexes = [
            models.Index(fields=["member", "-placed_at"], name="order_member_placed"),
            models.Index(
                fields=["pay_by"],
                condition=models.Q(state="pending_payment"),
                name="order_unpaid_pay_by",
            ),
            # The reports read a period's sales by the day they were paid, and a buyer's
            # sales in order (analytics).
            models.Index(fields=["paid_at"], name="order_paid_at"),
            models.Index(fields=["member", "paid_at"], name="order_member_paid"),
            # A year of sales read from the index alone (amount and buyer included), without
            # the wide order rows (the id too, which the reports count): the sales, markets and
            # order-value reports.
            models.Index(
                fields=["paid_at"],
                include=["net_base", "member", "id"],
                condition=models.Q(
                    state__in=[
                        "paid",
                        "processing",
                        "shipped",
                        "delivered",
                        "completed",
                        "disputed",
                    ]
                ),
                name="order_sale_cover",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "checkout_key"], name="order_unique_checkout_key"
            ),
            models.CheckConstraint(
                condition=models.Q(grand_total__gte=0)
                & models.Q(refunded_total__gte=0)
                & models.Q(refunded_total__lte=models.F("grand_total")),
                name="order_amounts_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(exchange_rate__gt=0), name="order_exchange_rate_positive"
            ),
        ]

    def __str__(self):
        return self.number or f"#{self.pk}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("buyer_orders:detail", args=[self.number])

    def money(self, field: str) -> Money:
        return Money(getattr(self, field), self.currency)

    @property
    def is_unpaid(self) -> bool:
        return self.state == OrderState.PENDING_PAYMENT

    def bill_lines(self) -> list[str]:
        return [line for line in self.bill_address.splitlines() if line.strip()]

    def ship_lines(self) -> list[str]:
        return address_lines(
            name=self.ship_name,
            company=self.ship_company,
            line1=self.ship_line1,
            line2=self.ship_line2,
            city=self.ship_city,
            region=self.ship_region,
            postal_code=self.ship_postal_code,
            country=self.ship_country,
            phone=self.ship_phone,
        )


class OrderLine(models.Model):
    """One variant of an order, as it was sold: names, SKU, tier and prices copied at placing."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    variant = models.ForeignKey(
        "catalog.Variant", on_delete=models.PROTECT, related_name="+", verbose_name=_("variant")
    )
    product_id_snapshot = models.PositiveIntegerField(_("product id"))
    product_name = models.CharField(_("product"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64)
    variant_label = models.CharField(_("variant"), max_length=200, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    tier_min_quantity = models.PositiveIntegerField(_("tier from"))
    tier_max_quantity = models.PositiveIntegerField(_("tier to"), null=True, blank=True)
    unit_price_base = _amount_field(_("unit price (base currency)"))
    unit_price = _amount_field(_("unit price"))
    line_total = _amount_field(_("line total"))
    weight_grams = models.PositiveIntegerField(_("unit weight (g)"), default=0)
    refunded_quantity = models.PositiveIntegerField(_("refunded quantity"), default=0)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "variant"], name="orderline_unique_variant"),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0)
                & models.Q(refunded_quantity__lte=models.F("quantity")),
                name="orderline_quantities_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.sku}"


class OrderEvent(AppendOnly):
    """The order's history: one row per state change, payment, shipment, refund or note, with
    who did it (a staff member, the buyer, or the system), when and why. Append-only."""

    class Kind(models.TextChoices):
        PLACED = "placed", _("Placed")
        TRANSITION = "transition", _("State change")
        PAYMENT = "payment", _("Payment")
        SHIPMENT = "shipment", _("Shipment")
        REFUND = "refund", _("Refund")
        NOTE = "note", _("Note")

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    from_state = models.CharField(_("from"), max_length=20, choices=OrderState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=OrderState.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_label = models.CharField(
        _("by (label)"),
        max_length=100,
        help_text=_("Who acted, kept even if the account goes: an email, “system”, “stripe”."),
    )
    reason = models.TextField(_("why"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.order_id}: {self.kind} {self.from_state}→{self.to_state}"


class Payment(models.Model):
    """A way an order is being paid: one row per order and method.

    For a card, `provider_id` is the Stripe Checkout Session and `intent_id` its PaymentIntent;
    for a bank transfer, `reference` is what finance read on the bank statement and
    `confirmed_by` who confirmed it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="payments", verbose_name=_("order")
    )
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    amount = _amount_field(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    provider_id = models.CharField(_("provider id"), max_length=255, blank=True)
    intent_id = models.CharField(_("payment intent"), max_length=255, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    failure_reason = models.CharField(_("failure"), max_length=255, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    succeeded_at = models.DateTimeField(_("succeeded"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "method"], name="payment_one_per_method"),
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status="succeeded"),
                name="payment_one_succeeded_per_order",
            ),
            models.UniqueConstraint(
                fields=["provider_id"],
                condition=~models.Q(provider_id=""),
                name="payment_unique_provider_id",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_gt_0"),
        ]

    def __str__(self):
        return f"{self.get_method_display()} {self.amount} {self.currency} ({self.status})"


class Refund(models.Model):
    """Money given back on a paid order: the whole order or some of its lines."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("order")
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment")
    )
    amount = _amount_field(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    provider_id = models.CharField(_("provider id"), max_length=255, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_gt_0"),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency}"


class RefundLine(models.Model):
    refund = models.ForeignKey(
        Refund, on_delete=models.CASCADE, related_name="lines", verbose_name=_("refund")
    )
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("order line")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    amount = _amount_field(_("amount"))

    class Meta:
        verbose_name = _("refunded line")
        verbose_name_plural = _("refunded lines")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="refundline_quantity_gt_0"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.order_line_id}"


class TrackingStatus(models.TextChoices):
    """Where a parcel is, as the carrier tells it (orders.tracking maps each carrier to these)."""

    INFO_RECEIVED = "info_received", _("Information received")
    IN_TRANSIT = "in_transit", _("In transit")
    CUSTOMS = "customs", _("In customs")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Problem with the delivery")


class Shipment(models.Model):
    """A parcel sent for an order, with its carrier and tracking number."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="shipments", verbose_name=_("order")
    )
    carrier = models.CharField(_("carrier"), max_length=100)
    tracking_number = models.CharField(_("tracking number"), max_length=100)
    tracking_url = models.URLField(_("tracking link"), blank=True)
    shipped_at = models.DateTimeField(_("shipped"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    status = models.CharField(
        _("tracking status"),
        max_length=20,
        choices=TrackingStatus.choices,
        default=TrackingStatus.INFO_RECEIVED,
    )
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["shipped_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"], name="shipment_unique_tracking"
            ),
        ]
        indexes = [
            # The sweep reads only parcels still on their way: once most are delivered, this
            # keeps its scan proportional to the open ones.
            models.Index(
                fields=["last_checked_at"],
                condition=~models.Q(status="delivered"),
                name="shipment_open_idx",
            ),
        ]

    def __str__(self):
        return f"{self.carrier} {self.tracking_number}"


class TrackingEvent(models.Model):
    """One scan of a parcel reported by the carrier. Unique on (shipment, carrier event id), so
    a sweep run twice, at once or after a crash, stores each scan once."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="tracking_events", verbose_name=_("order")
    )
    shipment = models.ForeignKey(
        Shipment, on_delete=models.PROTECT, related_name="events", verbose_name=_("shipment")
    )
    carrier_event_id = models.CharField(_("carrier event id"), max_length=100)
    occurred_at = models.DateTimeField(_("when"))
    status = models.CharField(_("status"), max_length=20, choices=TrackingStatus.choices)
    location = models.CharField(_("where"), max_length=200, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "carrier_event_id"], name="trackingevent_unique_carrier_id"
            ),
        ]
        indexes = [models.Index(fields=["shipment", "occurred_at"])]

    def __str__(self):
        return f"{self.shipment_id} {self.status} {self.occurred_at:%Y-%m-%d %H:%M}"


class TrackingRun(models.Model):
    """The log of one tracking sweep (orders.tracking.tracking_update) with its counts."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        PARTIAL = "partial", _("Some batches failed")
        FAILED = "failed", _("Failed")

    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    provider = models.CharField(_("provider"), max_length=30, blank=True)
    shipments_checked = models.PositiveIntegerField(_("shipments checked"), default=0)
    events_added = models.PositiveIntegerField(_("events added"), default=0)
    errors = models.TextField(_("errors"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RUNNING
    )

    class Meta:
        verbose_name = _("tracking run")
        verbose_name_plural = _("tracking runs")
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}"


class WebhookEvent(models.Model):
    """A payment provider's event we handled, kept by its id so a replay changes nothing."""

    provider = models.CharField(_("provider"), max_length=20, default="stripe")
    event_id = models.CharField(_("event id"), max_length=255)
    type = models.CharField(_("type"), max_length=100)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="webhookevent_unique_event"
            ),
        ]

    def __str__(self):
        return f"{self.provider} {self.type} {self.event_id}"


# --- Payment settings -------------------------------------------------------------------------

PAYMENT_SETTINGS_CACHE_KEY = "orders:payment-settings"


class PaymentSettings(models.Model):
    """How buyers may pay, set by the super admin only: one row (pk 1). Until the row exists
    the ``WHOLESALE_PAYMENT_METHODS`` and ``WHOLESALE_BANK_DETAILS`` settings apply
    (orders.payment_settings reads either, cached)."""

    card_enabled = models.BooleanField(
        _("card payments"),
        default=True,
        help_text=_("Offered to buyers only while the Stripe keys are configured."),
    )
    bank_transfer_enabled = models.BooleanField(_("bank transfer"), default=True)
    bank_details = models.TextField(
        _("bank details"),
        blank=True,
        help_text=_(
            "Shown to buyers who pay by bank transfer, on their order and in the order email: "
            "beneficiary, bank, account number, SWIFT code."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("payment settings")
        verbose_name_plural = _("payment settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="paymentsettings_one_row"),
            models.CheckConstraint(
                condition=models.Q(card_enabled=True) | models.Q(bank_transfer_enabled=True),
                name="paymentsettings_some_method",
                violation_error_message=_("Keep at least one payment method on."),
            ),
        ]

    def __str__(self):
        return str(_("Payment settings"))

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        forget(PAYMENT_SETTINGS_CACHE_KEY)

    def delete(self, *args, **kwargs):
        deleted = super().delete(*args, **kwargs)
        forget(PAYMENT_SETTINGS_CACHE_KEY)
        return deleted

    def clean(self):
        # Both off is refused by the "some method" constraint, with its own message.
        errors = {}
        if self.card_enabled and not self.bank_transfer_enabled and not settings.STRIPE_SECRET_KEY:
            errors["bank_transfer_enabled"] = _(
                "Card payments need the Stripe keys, which are not configured: without bank "
                "transfer buyers could not pay at all."
            )
        if self.bank_transfer_enabled and not self.bank_details.strip():
            errors["bank_details"] = _("Buyers paying by bank transfer need the bank details.")
        if errors:
            raise ValidationError(errors)


PAYMENT_COUNTRIES_CACHE_KEY = "orders:payment-countries"


def _known_payment_options(value):
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Choose at least one payment method."), code="required")
    unknown = [code for code in value if code not in OPTIONS]
    if unknown:
        raise ValidationError(
            _("Unknown payment methods: %(codes)s.") % {"codes": ", ".join(map(str, unknown))},
            code="invalid",
        )


def _currency_limits(value):
    if not isinstance(value, dict):
        raise ValidationError(
            _('Write {"method": ["currency", ...]}, e.g. {"bank_transfer": ["USD", "EUR"]}.'),
            code="invalid",
        )
    for code, currencies in value.items():
        if code not in OPTIONS:
            raise ValidationError(
                _("Unknown payment method: %(code)s.") % {"code": code}, code="invalid"
            )
        valid = isinstance(currencies, list) and all(
            isinstance(c, str) and len(c) == 3 and c.isalpha() and c.isupper() for c in currencies
        )
        if not valid:
            raise ValidationError(
                _('%(code)s: list currencies as ISO codes, e.g. ["USD", "EUR"].') % {"code": code},
                code="invalid",
            )


class CountryPaymentMethods(models.Model):
    """Which payment methods buyers in one country are offered, set by the super admin only.

    The row without a country is the rule for every country that has no row of its own. Without
    any row checkout offers what PaymentSettings (or the settings file) says, as before. A rule
    only narrows: a method switched off in PaymentSettings, a card without Stripe keys, or a
    method in a currency it cannot take (orders.payment_options) is not offered whatever the
    rule says (orders.payment_settings.payment_methods_for).
    """

    country = CountryField(
        _("country"),
        blank=True,
        unique=True,
        help_text=_("Leave empty for the rule that applies to every country without its own."),
    )
    methods = models.JSONField(
        _("payment methods"),
        default=list,
        validators=[_known_payment_options],
        help_text=_("Each is offered only in the currencies it can take (iDEAL: euros)."),
    )
    currencies = models.JSONField(
        _("only in these currencies"),
        default=dict,
        blank=True,
        validators=[_currency_limits],
        help_text=_(
            'Optional limits per method, e.g. {"bank_transfer": ["USD", "EUR"]} where the bank '
            "accounts are in dollars and euros. A method not listed: any currency it can take."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("payment methods of a country")
        verbose_name_plural = _("payment methods per country")
        ordering = ["country"]

    def __str__(self):
        return str(self.country.name) if self.country else str(_("Every other country"))

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        forget(PAYMENT_COUNTRIES_CACHE_KEY)

    def delete(self, *args, **kwargs):
        deleted = super().delete(*args, **kwargs)
        forget(PAYMENT_COUNTRIES_CACHE_KEY)
        return deleted


# --- ERP exports ------------------------------------------------------------------------------


class ExportProfile(models.Model):
    """Which orders go to the ERP, with which columns, in which format, to where and when.

    Run by orders.exports.export_run. An incremental profile exports the orders changed since
    its last successful run: `last_cursor` is the (updated_at, pk) of the last order exported,
    moved only in the transaction that marks a run succeeded.
    """

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSON = "json", "JSON"
        XML = "xml", "XML"
        XLSX = "xlsx", _("Excel (XLSX)")

    class Schedule(models.TextChoices):
        MANUAL = "manual", _("On demand only")
        HOURLY = "hourly", _("Every hour")
        DAILY = "daily", _("Every day")

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    states = models.JSONField(
        _("order states"),
        default=list,
        blank=True,
        help_text=_("Only orders in these states; none chosen exports every state."),
    )
    date_from = models.DateField(_("placed from"), null=True, blank=True)
    date_to = models.DateField(_("placed until"), null=True, blank=True)
    incremental = models.BooleanField(
        _("only new and changed orders"),
        default=True,
        help_text=_("Each run exports the orders changed since the last successful run."),
    )
    fields = models.JSONField(
        _("columns"),
        default=list,
        help_text=_("The columns in order, each a source field and the column name."),
    )
    format = models.CharField(_("format"), max_length=10, choices=Format.choices, default="csv")
    folder = models.CharField(
        _("folder"),
        max_length=200,
        blank=True,
        help_text=_("A folder under the export root; leave empty to send to an endpoint."),
    )
    endpoint_url = models.URLField(
        _("endpoint URL"),
        blank=True,
        help_text=_("The file is POSTed here with the secret in the X-Export-Secret header."),
    )
    endpoint_secret = models.CharField(_("endpoint secret"), max_length=200, blank=True)
    schedule = models.CharField(
        _("schedule"), max_length=10, choices=Schedule.choices, default=Schedule.MANUAL
    )
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_cursor = models.CharField(_("last cursor"), max_length=60, blank=True, editable=False)

    class Meta:
        verbose_name = _("export profile")
        verbose_name_plural = _("export profiles")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from .exports import profile_errors

        errors = profile_errors(self)
        if errors:
            raise ValidationError(errors)


class ExportRun(models.Model):
    """One run of an export profile: the batch of orders (cursor_from, cursor_to], its file and
    row count, or its error. Unique per (profile, cursor_from): a retried batch reuses its row
    and its upper bound, so it exports the same orders again and never twice over."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    profile = models.ForeignKey(
        ExportProfile, on_delete=models.CASCADE, related_name="runs", verbose_name=_("profile")
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RUNNING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    file = models.CharField(_("file"), max_length=500, blank=True)
    error = models.TextField(_("error"), blank=True)
    cursor_from = models.CharField(_("from"), max_length=60, blank=True)
    cursor_to = models.CharField(_("to"), max_length=60, blank=True)
    upper_bound = models.DateTimeField(_("changed until"))

    class Meta:
        verbose_name = _("export run")
        verbose_name_plural = _("export runs")
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "cursor_from"], name="exportrun_unique_batch"
            )
        ]

    def __str__(self):
        return f"{self.profile_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"
