"""Writes to the catalog."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, IntegerField, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from wholesale.redis import key as redis_key
from wholesale.redis import redis_client

from . import pricing
from .cache import bump_catalog_version, bump_stock_versions
from .locks import lock_variants
from .models import (
    CartAddition,
    PriceTier,
    Product,
    ProductView,
    SearchLog,
    StockMovement,
    Variant,
)
from .translations import search_config, translation_languages

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

logger = logging.getLogger(__name__)

_SEARCH_DOCUMENT_SQL = """
UPDATE catalog_product AS p SET search_document =
    setweight(to_tsvector('english', coalesce(p.name, '')), 'A')
    || setweight(to_tsvector('simple', coalesce((
        SELECT string_agg(v.sku || ' ' || v.barcode, ' ')
        FROM catalog_variant AS v WHERE v.product_id = p.id
    ), '')), 'A')
    || setweight(to_tsvector('english', coalesce(p.description, '')), 'C')
    {translations}
WHERE p.id = ANY(%s)
"""
# One translation of the product: its name stemmed in its language and also word for word (a
# buyer on the English page may type the Spanish name), its description stemmed, weighted as
# the base name and description are.
_TRANSLATION_SQL = """|| coalesce((
        SELECT setweight(to_tsvector(%s::regconfig, t.name), 'A')
            || setweight(to_tsvector('simple', t.name), 'A')
            || setweight(to_tsvector(%s::regconfig, t.description), 'C')
        FROM catalog_producttranslation AS t WHERE t.product_id = p.id AND t.language = %s
    ), '')"""


def product_search_refresh(*, product_ids: Iterable[int]) -> None:
    """Rebuild the products' search documents: name, SKUs, barcodes and description, and
    their translations (each stemmed in its own language). PostgreSQL only; elsewhere search
    reads the columns themselves."""
    ids = list(product_ids)
    if not ids or connection.vendor != "postgresql":
        return
    params: list = []
    parts = []
    for language, _name in translation_languages():
        config = search_config(language)
        parts.append(_TRANSLATION_SQL)
        params += [config, config, language]
    with connection.cursor() as cursor:
        cursor.execute(
            _SEARCH_DOCUMENT_SQL.format(translations="\n    ".join(parts)), [*params, ids]
        )


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
        product_search_refresh(product_ids=ids)
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
    views, searches, additions = [], [], []
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
        elif event["kind"] == "cart_add":
            additions.append(
                CartAddition(product_id=event["product"], member_id=event["member"], added_at=at)
            )
    with transaction.atomic():
        if views or additions:
            # A product deleted since the view was buffered is skipped, not an error.
            wanted = {v.product_id for v in views} | {a.product_id for a in additions}
            existing = set(Product.objects.filter(pk__in=wanted).values_list("pk", flat=True))
            ProductView.objects.bulk_create(
                [v for v in views if v.product_id in existing], batch_size=1000
            )
            CartAddition.objects.bulk_create(
                [a for a in additions if a.product_id in existing], batch_size=1000
            )
        if searches:
            SearchLog.objects.bulk_create(searches, batch_size=1000)


def catalog_events_flush(*, batch: int = 5000) -> int:
    """Move buffered views, searches and cart additions from Redis into the database; returns
    how many.

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


def cart_addition_record(*, member_id: int | None, product_id: int) -> None:
    """Note a product put in a cart (the funnel's middle step); never costs the buyer the add."""
    _event_record(
        {
            "kind": "cart_add",
            "product": product_id,
            "member": member_id,
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


# --- stock ------------------------------------------------------------------------------------
# Variant.stock changes only here, each change with its StockMovement in the same transaction
# and under the variant's row lock (catalog.locks), so stock always equals the sum of the
# movements (catalog.selectors.stock_mismatches checks it). Made-to-order products are not
# stock-tracked: taking or releasing their stock records nothing and never fails.


@dataclass(frozen=True)
class Shortage:
    variant: Variant
    requested: int
    available: int


class OutOfStock(Exception):
    """Some variants hold less than asked. Raised before anything changes: nothing was taken.

    ``shortages`` lists every short variant (in pk order); ``variant``, ``requested`` and
    ``available`` are those of the first, for callers that ask for one variant at a time.
    """

    def __init__(self, shortages: Iterable[Shortage]):
        self.shortages: tuple[Shortage, ...] = tuple(shortages)
        if not self.shortages:
            raise ValueError("OutOfStock needs at least one shortage.")
        super().__init__(*self.shortages)

    @property
    def variant(self) -> Variant:
        return self.shortages[0].variant

    @property
    def requested(self) -> int:
        return self.shortages[0].requested

    @property
    def available(self) -> int:
        return self.shortages[0].available

    def __str__(self) -> str:
        lines = [
            gettext("%(sku)s: %(requested)d asked, %(available)d left")
            % {"sku": s.variant.sku, "requested": s.requested, "available": s.available}
            for s in self.shortages
        ]
        return gettext("Not enough stock. %(lines)s") % {"lines": "; ".join(lines)}


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_reason(reason: str) -> None:
    if reason not in StockMovement.Reason.values:
        raise ValueError(f"Unknown stock movement reason: {reason!r}.")


def _check_quantities(quantities: Mapping[int, int]) -> dict[int, int]:
    checked = {}
    for variant_id, quantity in quantities.items():
        if not _is_count(quantity) or quantity <= 0:
            raise ValueError(f"Quantity for variant {variant_id} must be a positive whole number.")
        checked[int(variant_id)] = quantity
    return checked


def _lock(variant_ids: Iterable[int]) -> dict[int, Variant]:
    ids = set(variant_ids)
    variants = lock_variants(ids)
    missing = ids - variants.keys()
    if missing:
        raise Variant.DoesNotExist(f"No variant with id {', '.join(map(str, sorted(missing)))}.")
    return variants


def _add_to_stock(deltas: Mapping[int, int]) -> None:
    """Add each delta to its variant's stock in one UPDATE. On PostgreSQL the deltas travel as
    a VALUES list (building the ORM's CASE costs 1.5 ms more for ten variants, per order)."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Variant._meta.db_table)
        rows = ", ".join(["(%s, %s)"] * len(deltas))
        params = [value for pk, delta in sorted(deltas.items()) for value in (pk, delta)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS v SET stock = v.stock + d.delta "  # noqa: S608 - our table name, values are parameters
                f"FROM (VALUES {rows}) AS d(id, delta) WHERE v.id = d.id",
                params,
            )
        return
    Variant.objects.filter(pk__in=list(deltas)).update(
        stock=Case(
            *(When(pk=pk, then=F("stock") + Value(delta)) for pk, delta in deltas.items()),
            default=F("stock"),
            output_field=IntegerField(),
        )
    )


def _apply(
    variants: list[Variant],
    deltas: Mapping[int, int],
    *,
    reason: str,
    reference: str,
    note: str = "",
    by=None,
) -> list[StockMovement]:
    """Change the stock of `variants` by `deltas` ({pk: units}) and record the movements.

    Caller holds the row locks on `variants` (catalog.locks), so their `stock` is current and
    each movement's balance is the one written. One UPDATE for all of them and one INSERT for
    the movements, whatever their number: placing an order of 25 lines costs what 1 costs.
    Returns the movements in the order of `variants` (pk order when they come from _lock).
    """
    if not variants:
        return []
    _add_to_stock({variant.pk: deltas[variant.pk] for variant in variants})
    movements = []
    for variant in variants:
        variant.stock += deltas[variant.pk]
        movements.append(
            StockMovement(
                variant=variant,
                delta=deltas[variant.pk],
                balance_after=variant.stock,
                reason=reason,
                reference=reference,
                note=note,
                created_by=by,
            )
        )
    # Only these products' pages show the stock: the rest of the catalog cache stays warm.
    bump_stock_versions({variant.product.slug for variant in variants})
    return StockMovement.objects.bulk_create(movements)


def stock_adjust(
    *,
    variant_id: int,
    delta: int,
    reason: str,
    by: AbstractBaseUser | None = None,
    reference: str = "",
    note: str = "",
) -> StockMovement:
    """Add (or, negative, remove) `delta` units, recorded as one movement.

    Raises OutOfStock if the stock would go below zero, ValueError on a zero delta or an
    unknown reason, Variant.DoesNotExist for an unknown id. Made-to-order variants are
    adjusted too: whatever the stock field holds stays in the ledger.
    """
    _check_reason(reason)
    if not _is_count(delta) or delta == 0:
        raise ValueError("A stock adjustment changes the stock by a non-zero whole number.")
    with transaction.atomic():
        variant = _lock([variant_id])[variant_id]
        if variant.stock + delta < 0:
            raise OutOfStock([Shortage(variant, -delta, variant.stock)])
        [movement] = _apply(
            [variant], {variant.pk: delta}, reason=reason, reference=reference, note=note, by=by
        )
    return movement


def stock_set(
    *,
    variant_id: int,
    quantity: int,
    by: AbstractBaseUser | None = None,
    note: str = "",
) -> StockMovement | None:
    """A stocktake: the variant holds `quantity` now. Records the difference as a "count"
    movement, or nothing (and returns None) when the stock already matches."""
    if not _is_count(quantity) or quantity < 0:
        raise ValueError("Counted stock is a whole number, zero or more.")
    with transaction.atomic():
        variant = _lock([variant_id])[variant_id]
        delta = quantity - variant.stock
        if delta == 0:
            return None
        [movement] = _apply(
            [variant],
            {variant.pk: delta},
            reason=StockMovement.Reason.COUNT,
            reference="",
            note=note,
            by=by,
        )
    return movement


def stock_take(
    *,
    quantities: Mapping[int, int],
    reason: str,
    reference: str,
    by: AbstractBaseUser | None = None,
) -> list[StockMovement]:
    """Take `quantities` ({variant id: units}) all together, or nothing at all.

    Locks the variants in pk order (whatever the order of `quantities`), so checkouts holding
    the same variants never deadlock. Raises OutOfStock listing every short variant, before
    changing anything. Returns one movement per stock-tracked variant, in pk order.
    """
    _check_reason(reason)
    wanted = _check_quantities(quantities)
    with transaction.atomic():
        variants = _lock(wanted)
        tracked = [variants[pk] for pk in sorted(wanted) if not variants[pk].product.made_to_order]
        shortages = [
            Shortage(variant, wanted[variant.pk], variant.stock)
            for variant in tracked
            if variant.stock < wanted[variant.pk]
        ]
        if shortages:
            raise OutOfStock(shortages)
        movements = _apply(
            tracked,
            {pk: -units for pk, units in wanted.items()},
            reason=reason,
            reference=reference,
            by=by,
        )
    return movements


def stock_release(
    *,
    quantities: Mapping[int, int],
    reason: str,
    reference: str,
    by: AbstractBaseUser | None = None,
) -> list[StockMovement]:
    """Put `quantities` back (a cancelled order, a return): the reverse of stock_take."""
    _check_reason(reason)
    given = _check_quantities(quantities)
    with transaction.atomic():
        variants = _lock(given)
        tracked = [variants[pk] for pk in sorted(given) if not variants[pk].product.made_to_order]
        movements = _apply(tracked, given, reason=reason, reference=reference, by=by)
    return movements
