"""Writes to the catalog."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import DateTimeField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import pricing
from .cache import bump_catalog_version
from .models import PriceTier, Product, ProductView, SearchLog, Variant

logger = logging.getLogger(__name__)

_SEARCH_DOCUMENT_SQL = """
UPDATE catalog_product AS p SET search_document =
    setweight(to_tsvector('english', coalesce(p.name, '')), 'A')
    || setweight(to_tsvector('simple', coalesce((
        SELECT string_agg(v.sku || ' ' || v.barcode, ' ')
        FROM catalog_variant AS v WHERE v.product_id = p.id
    ), '')), 'A')
    || setweight(to_tsvector('english', coalesce(p.description, '')), 'C')
WHERE p.id = ANY(%s)
"""


def product_refresh(*, product_ids: Iterable[int]) -> None:
    """Recompute what is denormalised on products: the lowest price and the search document.

    Call after products, their variants or their tiers change (the admin does).
    """
    ids = list(product_ids)
    if not ids:
        return
    tiers: dict[int, list[pricing.Tier]] = {}
    for product_id, min_quantity, unit_price in PriceTier.objects.filter(
        product_id__in=ids
    ).values_list("product_id", "min_quantity", "unit_price"):
        tiers.setdefault(product_id, []).append(pricing.Tier(min_quantity, unit_price))
    own_prices: dict[int, list] = {}
    for product_id, price in Variant.objects.filter(product_id__in=ids, is_active=True).values_list(
        "product_id", "price"
    ):
        own_prices.setdefault(product_id, []).append(price)
    with transaction.atomic():
        products = list(Product.objects.filter(pk__in=ids).only("id", "price_from"))
        for product in products:
            product.price_from = pricing.price_from(
                tiers.get(product.pk, []), own_prices.get(product.pk, [])
            )
        Product.objects.bulk_update(products, ["price_from"], batch_size=1000)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_SEARCH_DOCUMENT_SQL, [ids])
        bump_catalog_version()


def product_publish(*, product_ids: Iterable[int]) -> int:
    """Publish products; those never published before get today's date (new arrivals)."""
    with transaction.atomic():
        count = Product.objects.filter(pk__in=list(product_ids)).update(
            status=Product.Status.PUBLISHED,
            published_at=Coalesce("published_at", Value(timezone.now(), DateTimeField())),
        )
        bump_catalog_version()
    return count


def product_unpublish(*, product_ids: Iterable[int]) -> int:
    """Take products off the shop; their publish date is kept for when they come back."""
    with transaction.atomic():
        count = Product.objects.filter(pk__in=list(product_ids)).update(status=Product.Status.DRAFT)
        bump_catalog_version()
    return count


def _session_key(request) -> str:
    session = getattr(request, "session", None)
    return (session.session_key or "") if session is not None else ""


def _member(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def product_view_record(*, request, product_id: int) -> None:
    """One INSERT, never a read; a failure here must not cost the buyer the page."""
    try:
        ProductView.objects.create(
            product_id=product_id, member=_member(request), session_key=_session_key(request)
        )
    except Exception:
        logger.warning("could not record a product view", exc_info=True)


def search_record(*, request, term: str, results: int) -> None:
    try:
        SearchLog.objects.create(
            term=term.lower(),
            results=results,
            member=_member(request),
            session_key=_session_key(request),
        )
    except Exception:
        logger.warning("could not record a search", exc_info=True)
