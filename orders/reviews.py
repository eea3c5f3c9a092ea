"""Who may review which product, and writing the review: the ordering side decides, because
only it knows what a buyer received. catalog.reviews keeps and shows the reviews.

"Received" means: a line of one of the member's own orders for the product, not wholly
refunded, in an order that is delivered or completed, or shipped for at least
``WHOLESALE_REVIEW_AFTER_SHIPPED_DAYS`` days (30 by default: a buyer whose order nobody marked
delivered may still review it once the parcel has surely arrived). Orders awaiting payment,
paid, processing, disputed, cancelled or refunded give no right to review.

A second review of the same product rewrites the first one, which goes back to moderation
(catalog.reviews.review_save); it is never a second row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product, Review
from catalog.reviews import review_save

from .models import Order, OrderLine, OrderState, Shipment

RECEIVED_STATES = (OrderState.DELIVERED, OrderState.COMPLETED)


def _shipped_counts_after() -> timedelta:
    return timedelta(days=getattr(settings, "WHOLESALE_REVIEW_AFTER_SHIPPED_DAYS", 30))


def received_lines(member, *, now=None) -> QuerySet[OrderLine]:
    """The lines of the member's orders whose goods they have received (see the module)."""
    if not member.is_authenticated:
        return OrderLine.objects.none()
    now = now or timezone.now()
    shipped_long_ago = Shipment.objects.filter(
        order=OuterRef("order"), shipped_at__lte=now - _shipped_counts_after()
    )
    return OrderLine.objects.filter(
        Q(order__state__in=RECEIVED_STATES)
        | (Q(order__state=OrderState.SHIPPED) & Q(Exists(shipped_long_ago))),
        order__member=member,
        order__number__isnull=False,
        refunded_quantity__lt=F("quantity"),
    )


def review_eligible_products(member) -> QuerySet[Product]:
    """The published products the member has received and so may review (or review again),
    by name. One query."""
    received = received_lines(member).filter(product_id_snapshot=OuterRef("pk"))
    return Product.objects.published().filter(Exists(received)).order_by("name", "pk")


def review_may_write(*, member, product: Product) -> bool:
    return received_lines(member).filter(product_id_snapshot=product.pk).exists()


def reviewable_product(*, member, product_slug: str) -> Product:
    """The published product by slug (Http404 if there is none); whether the member may
    review it is checked apart, so the page can say why not."""
    product = Product.objects.published().filter(slug=product_slug).first()
    if product is None:
        raise Http404(_("No such product."))
    return product


def not_received_error() -> ValidationError:
    return ValidationError(
        _(
            "You can review a product once you have received it: it must be in one of your "
            "orders that has been delivered."
        ),
        code="not_received",
    )


def review_write(
    *,
    member,
    product_slug: str,
    rating,
    title: str = "",
    text: str,
    photos: Sequence | None = None,
) -> Review:
    """Write (or rewrite) the member's review of a product they received; it waits for
    moderation. Raises ValidationError, with nothing written, for a product that is not on
    sale or that they have not received, and for bad fields or photos (catalog.reviews)."""
    product = Product.objects.published().filter(slug=product_slug).first()
    if product is None:
        raise ValidationError(_("There is no such product in our catalog."), code="no_product")
    if not review_may_write(member=member, product=product):
        raise not_received_error()
    return review_save(
        member=member, product=product, rating=rating, title=title, text=text, photos=photos
    )


def order_received(order: Order, *, first_shipped_at=None, now=None) -> bool:
    """Whether the order's goods count as received (see the module); pure, no query.
    `first_shipped_at`: when its first parcel left, for a shipped order."""
    if order.state in RECEIVED_STATES:
        return True
    if order.state != OrderState.SHIPPED or first_shipped_at is None:
        return False
    return first_shipped_at <= (now or timezone.now()) - _shipped_counts_after()


@dataclass(frozen=True)
class ReviewableProduct:
    product: Product
    review_id: int | None
    review_status: str | None

    @property
    def review_status_label(self) -> str:
        return Review.Status(self.review_status).label if self.review_status else ""


def order_reviewable_products(
    *, member, order: Order, lines: Sequence[OrderLine], first_shipped_at=None
) -> list[ReviewableProduct]:
    """For the order's page (which has its lines and shipments at hand): each received,
    published product of the order, once, with the member's review of it if any. No query
    for an order not received yet, one otherwise."""
    if order.member_id != member.pk or not order_received(order, first_shipped_at=first_shipped_at):
        return []
    ids = {line.product_id_snapshot for line in lines if line.refunded_quantity < line.quantity}
    if not ids:
        return []
    mine = Review.objects.filter(member=member, product=OuterRef("pk"))
    products = (
        Product.objects.published()
        .filter(pk__in=ids)
        .annotate(
            my_review_id=Subquery(mine.values("pk")[:1]),
            my_review_status=Subquery(mine.values("status")[:1]),
        )
        .only("id", "name", "slug")
        .order_by("name", "pk")
    )
    return [
        ReviewableProduct(
            product=product, review_id=product.my_review_id, review_status=product.my_review_status
        )
        for product in products
    ]
