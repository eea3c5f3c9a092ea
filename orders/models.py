from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .rules import MAX_QUANTITY


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
