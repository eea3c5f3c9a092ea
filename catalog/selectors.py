"""Reads of the catalog: what the storefront lists, finds and shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    CharField,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import pricing
from .cache import catalog_version
from .models import (
    Category,
    PriceTier,
    Product,
    ProductImage,
    ProductTranslation,
    StockMovement,
    Variant,
)
from .translations import content_language, search_config

SORTS = {
    "newest": (_("Newest"), ["-published_at", "-pk"]),
    "best": (_("Best selling"), ["-units_sold", "-published_at", "-pk"]),
    "price": (_("Price: low to high"), [F("price_from").asc(nulls_last=True), "pk"]),
    "-price": (_("Price: high to low"), [F("price_from").desc(nulls_last=True), "pk"]),
}
RELEVANCE = "relevance"


def prices_visible_to(user) -> bool:
    """Whether `user` sees wholesale prices, as WHOLESALE_PRICES_VISIBLE_TO decides."""
    if settings.WHOLESALE_PRICES_VISIBLE_TO == "everyone":
        return True
    if not user.is_authenticated:
        return False
    if settings.WHOLESALE_PRICES_VISIBLE_TO == "members":
        return True
    return bool(getattr(user, "is_approved_buyer", False) or user.is_staff)


@dataclass(frozen=True)
class CategoryNode:
    id: int
    name: str
    slug: str
    parent_id: int | None
    depth: int
    descendant_ids: tuple[int, ...]
    description: str = ""


def _in_language(field: str, language: str | None):
    """`field` of the row's translation into `language` (a FilteredRelation named "local"),
    or the base text where there is none or it was left blank."""
    if language is None:
        return F(field)
    text = TextField()
    return Coalesce(
        NullIf(F(f"local__{field}"), Value(""), output_field=text), F(field), output_field=text
    )


def _with_translation(qs: QuerySet, language: str | None) -> QuerySet:
    """Join each row's translation into `language` (unique per row, so a LEFT JOIN that adds
    no row and no query) as "local"."""
    if language is None:
        return qs
    return qs.annotate(
        local=FilteredRelation("translations", condition=Q(translations__language=language))
    )


def category_tree() -> list[CategoryNode]:
    """All active categories, depth-first, each with the ids below it, named in the active
    language. Cached per version and language."""
    version = catalog_version()
    language = content_language()
    key = f"catalog:tree:{version}:{language or settings.LANGUAGE_CODE}" if version else None
    nodes = cache.get(key) if key else None
    if nodes is not None:
        return nodes
    rows = list(
        _with_translation(Category.objects.filter(is_active=True), language)
        .annotate(
            shown_name=_in_language("name", language),
            shown_description=_in_language("description", language),
        )
        .values_list("id", "shown_name", "slug", "parent_id", "shown_description")
    )
    children: dict[int | None, list[tuple]] = {}
    for row in rows:
        children.setdefault(row[3], []).append(row)
    nodes = []

    def walk(parent_id, depth, trail):
        for cid, name, slug, pid, description in children.get(parent_id, []):
            if cid in trail:  # a cycle typed into the admin: do not loop forever
                continue
            start = len(nodes)
            nodes.append(None)
            walk(cid, depth + 1, (*trail, cid))
            below = tuple(n.id for n in nodes[start + 1 :])
            nodes[start] = CategoryNode(
                cid, name, slug, pid, depth, (cid, *below), description=description
            )

    walk(None, 0, ())
    if key:
        cache.set(key, nodes, timeout=3600)
    return nodes


def category_by_slug(slug: str) -> CategoryNode:
    for node in category_tree():
        if node.slug == slug:
            return node
    raise Http404(_("No such category."))


def category_trail(category_id: int) -> list[CategoryNode]:
    """The breadcrumb from the root down to the category."""
    by_id = {node.id: node for node in category_tree()}
    trail = []
    node = by_id.get(category_id)
    while node is not None and len(trail) < 20:
        trail.append(node)
        node = by_id.get(node.parent_id)
    return list(reversed(trail))


def _translated(qs: QuerySet[Product], *fields: str) -> QuerySet[Product]:
    """Products with `translated_<field>` in the active language (see Product.localized_name),
    read in the same query."""
    language = content_language()
    if language is None:
        return qs
    return _with_translation(qs, language).annotate(
        **{f"translated_{field}": F(f"local__{field}") for field in fields}
    )


def product_name_in_language(product_ref: str) -> Subquery | Value:
    """The translated name of the product whose id is the outer row's `product_ref` (e.g.
    "product_id" on a favorite, "variant__product_id" on a cart line), for annotating rows
    of other apps in their own query; NULL where there is none to show (the base language,
    no translation, a blank name): show the base name then, as Product.localized_name does."""
    language = content_language()
    if language is None:
        return Value(None, output_field=CharField())
    translated = ProductTranslation.objects.filter(
        product_id=OuterRef(product_ref), language=language
    ).exclude(name="")
    return Subquery(translated.values("name")[:1])


def _card_queryset() -> QuerySet[Product]:
    return _translated(
        Product.objects.published()
        .only(
            "id",
            "name",
            "slug",
            "price_from",
            "moq",
            "order_increment",
            "made_to_order",
            "lead_time_days",
            "published_at",
            "units_sold",
            "category_id",
        )
        .prefetch_related(
            Prefetch(
                "images",
                queryset=ProductImage.objects.only(
                    "id", "product_id", "position", "renditions", "alt_text"
                ),
            )
        ),
        "name",
    )


def product_list(*, category: CategoryNode | None = None, sort: str = "newest") -> QuerySet:
    qs = _card_queryset()
    if category is not None:
        qs = qs.filter(category_id__in=category.descendant_ids)
    return qs.order_by(*SORTS.get(sort, SORTS["newest"])[1])


def normalise_term(term: str) -> str:
    """Collapse whitespace, drop control characters (PostgreSQL refuses NUL), cap the length."""
    printable = "".join(ch if ch.isprintable() else " " for ch in term)
    return " ".join(printable.split())[: settings.WHOLESALE_SEARCH_MAX_LENGTH].strip()


def product_search(
    *, term: str, category: CategoryNode | None = None, sort: str = RELEVANCE
) -> QuerySet:
    """Full-text search over name, SKUs and description and their translations (PostgreSQL);
    icontains elsewhere."""
    qs = _card_queryset()
    if category is not None:
        qs = qs.filter(category_id__in=category.descendant_ids)
    if connection.vendor == "postgresql":
        # Names and descriptions are stemmed as English, SKUs and barcodes kept as typed;
        # translations are stemmed in their language, so the page's language stems too.
        query = SearchQuery(term, config="english", search_type="websearch") | SearchQuery(
            term, config="simple", search_type="websearch"
        )
        language = content_language()
        if language is not None and search_config(language) not in ("english", "simple"):
            query |= SearchQuery(term, config=search_config(language), search_type="websearch")
        qs = qs.filter(search_document=query)
        if sort == RELEVANCE or sort not in SORTS:
            return qs.annotate(rank=SearchRank(F("search_document"), query)).order_by(
                "-rank", "-units_sold", "pk"
            )
        return qs.order_by(*SORTS[sort][1])
    sku_match = Variant.objects.filter(product=OuterRef("pk"), sku__iexact=term)
    translation_match = ProductTranslation.objects.filter(
        Q(name__icontains=term) | Q(description__icontains=term), product=OuterRef("pk")
    )
    qs = qs.filter(
        Q(name__icontains=term)
        | Q(description__icontains=term)
        | Exists(sku_match)
        | Exists(translation_match)
    )
    order = SORTS[sort][1] if sort in SORTS else ["-units_sold", "pk"]
    return qs.order_by(*order)


def new_arrivals(*, limit: int = 8) -> list[Product]:
    since = timezone.now() - timedelta(days=settings.WHOLESALE_NEW_ARRIVAL_DAYS)
    return list(
        _card_queryset().filter(published_at__gte=since).order_by("-published_at", "-pk")[:limit]
    )


def best_sellers(*, limit: int = 8) -> list[Product]:
    return list(_card_queryset().order_by("-units_sold", "-pk")[:limit])


@dataclass(frozen=True)
class StockState:
    code: str  # "in_stock", "low", "out", "made_to_order"
    label: str
    quantity: int | None = None


def stock_state(product: Product, variants: list[Variant]) -> StockState:
    if product.made_to_order:
        return StockState(
            "made_to_order",
            _("Made to order: ships %(days)s days after payment")
            % {"days": product.lead_time_days},
        )
    total = sum(v.stock for v in variants)
    if total <= 0:
        return StockState("out", _("Out of stock"), 0)
    if total <= settings.WHOLESALE_LOW_STOCK:
        return StockState("low", _("Only %(n)s left") % {"n": total}, total)
    return StockState("in_stock", _("In stock"), total)


@dataclass
class ProductPage:
    product: Product
    variants: list[Variant]
    images: list[ProductImage]
    tier_rows: list[pricing.TierRow]
    stock: StockState
    trail: list[CategoryNode]
    option_values: list[tuple[str, list[str]]]


def product_page(*, slug: str) -> ProductPage:
    """Everything the product page shows, in a fixed number of queries; 404 if not on sale."""
    try:
        product = _translated(
            Product.objects.published().prefetch_related(
                Prefetch("variants", queryset=Variant.objects.filter(is_active=True)),
                Prefetch("tiers", queryset=PriceTier.objects.order_by("min_quantity")),
                "images",
            ),
            "name",
            "description",
        ).get(slug=slug)
    except Product.DoesNotExist:
        raise Http404(_("No such product.")) from None
    variants = list(product.variants.all())
    currency = settings.WHOLESALE_BASE_CURRENCY
    tiers = [pricing.Tier(t.min_quantity, t.unit_price) for t in product.tiers.all()]
    option_values = []
    for index, name in enumerate(
        (product.option1_name, product.option2_name, product.option3_name), start=1
    ):
        if name:
            values = list(dict.fromkeys(getattr(v, f"option{index}") for v in variants))
            option_values.append((name, [v for v in values if v]))
    return ProductPage(
        product=product,
        variants=variants,
        images=list(product.images.all()),
        tier_rows=pricing.tier_table(tiers, currency),
        stock=stock_state(product, variants),
        trail=category_trail(product.category_id),
        option_values=option_values,
    )


def variant_prices(page: ProductPage) -> dict[int, list[pricing.TierRow]]:
    """Per variant with an own price, its tier table."""
    currency = settings.WHOLESALE_BASE_CURRENCY
    tiers = [pricing.Tier(t.min_quantity, t.unit_price) for t in page.product.tiers.all()]
    return {
        v.pk: pricing.tier_table(tiers, currency, variant_price=v.price)
        for v in page.variants
        if v.price is not None and tiers
    }


def stock_mismatches() -> QuerySet[Variant]:
    """Variants whose stock differs from the sum of their movements, annotated `ledger_stock`.

    Every variant created with stock gets an "initial" movement (catalog.signals, and the
    0005 migration for older rows), so this covers all variants: one without movements must
    hold 0. Anything listed was changed outside catalog.services, or its ledger was tampered.
    """
    ledger = (
        StockMovement.objects.filter(variant=OuterRef("pk"))
        .order_by()
        .values("variant")
        .annotate(total=Sum("delta"))
        .values("total")
    )
    return (
        Variant.objects.annotate(ledger_stock=Coalesce(Subquery(ledger), 0))
        .exclude(stock=F("ledger_stock"))
        .select_related("product")
        .order_by("pk")
    )
