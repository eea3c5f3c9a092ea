"""Writes to the catalog."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction
from django.db.models import DateTimeField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from wholesale.redis import key as redis_key
from wholesale.redis import redis_client

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


def _member_id(request) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


# Views and searches are buffered in a Redis list and written in batches by a Celery beat job
# (catalog_events_flush), so a page view costs one RPUSH instead of a committed INSERT.
# Without Redis (the demo), or when Redis does not answer, they are written at once.
EVENTS_KEY = "catalog:events"


def _event_record(event: dict) -> None:
    client = redis_client()
    if client is not None:
        try:
            client.rpush(redis_key(EVENTS_KEY), json.dumps(event, separators=(",", ":")))
            return
        except Exception:
            logger.warning("Redis refused a catalog event; writing it directly", exc_info=True)
    try:
        _events_write([event])
    except Exception:
        logger.warning("could not record a catalog event", exc_info=True)


def _events_write(events: list[dict]) -> None:
    views, searches = [], []
    for event in events:
        at = datetime.fromisoformat(event["at"])
        if event["kind"] == "view":
            views.append(
                ProductView(
                    product_id=event["product"],
                    member_id=event["member"],
                    session_key=event["session"],
                    viewed_at=at,
                )
            )
        elif event["kind"] == "search":
            searches.append(
                SearchLog(
                    term=event["term"],
                    results=event["results"],
                    member_id=event["member"],
                    session_key=event["session"],
                    searched_at=at,
                )
            )
    with transaction.atomic():
        if views:
            # A product deleted since the view was buffered is skipped, not an error.
            existing = set(
                Product.objects.filter(pk__in={v.product_id for v in views}).values_list(
                    "pk", flat=True
                )
            )
            ProductView.objects.bulk_create(
                [v for v in views if v.product_id in existing], batch_size=1000
            )
        if searches:
            SearchLog.objects.bulk_create(searches, batch_size=1000)


def catalog_events_flush(*, batch: int = 5000) -> int:
    """Move buffered views and searches from Redis into the database; returns how many.

    LPOP hands each event to exactly one caller, so two flushes at once never write one twice;
    if writing fails the batch goes back to the head of the list for the next run.
    """
    client = redis_client()
    if client is None:
        return 0
    written = 0
    while True:
        raw = client.lpop(redis_key(EVENTS_KEY), batch)
        if not raw:
            return written
        try:
            _events_write([json.loads(item) for item in raw])
        except Exception:
            client.lpush(redis_key(EVENTS_KEY), *reversed(raw))
            raise
        written += len(raw)
        if len(raw) < batch:
            return written


def product_view_record(*, request, product_id: int) -> None:
    """Note one product page view; never costs the buyer the page."""
    _event_record(
        {
            "kind": "view",
            "product": product_id,
            "member": _member_id(request),
            "session": _session_key(request),
            "at": timezone.now().isoformat(),
        }
    )


def search_record(*, request, term: str, results: int) -> None:
    _event_record(
        {
            "kind": "search",
            "term": term.lower(),
            "results": results,
            "member": _member_id(request),
            "session": _session_key(request),
            "at": timezone.now().isoformat(),
        }
    )
