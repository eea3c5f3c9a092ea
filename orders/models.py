from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from wholesale.money import Money

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
