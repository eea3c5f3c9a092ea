"""Reports 2, 3 and 14: products, categories and new arrivals.

They read the daily rollups (analytics.rollups: ProductSalesDay for sales per product, category
and buyer group, ProductActivityDay for views and cart additions), so a page costs a few
aggregate queries over small tables whatever the number of order lines. The products report,
when not narrowed to some buyers, reads the whole calendar months of its period from the
monthly rollups (ProductSalesMonth, VariantSalesMonth) and only the days at its edges from the
daily ones.

A product's category is the one it had when its days were last rebuilt; the buyer's country,
salesperson and level likewise (analytics.sources: a buyer's figures follow their record).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import Category, Product, Variant

from ..access import Audience
from ..models import (
    ProductActivityDay,
    ProductSalesDay,
    ProductSalesMonth,
    RollupRun,
    VariantSalesDay,
    VariantSalesMonth,
)
from ..periods import Grain, Period, bucket_label, buckets, whole_months
from ..query import ReportQuery
from ..registry import Filter, report
from ..results import Card, Chart, Column, Kind, ReportResult, Series

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
TENTH = Decimal("0.1")
TOP = 20  # rows per list in the products report
MOST_VIEWED = 50  # products looked at for "viewed a lot, rarely bought"
MIN_VIEWS = 20  # fewer views than this say nothing about conversion
FALLING = Decimal(-10)  # a category is falling below this change against the comparison, in %
CHART_GROUPS = 8  # top-level categories drawn on their own; the rest are "other"
SIGNIFICANT_SHARE = Decimal(5)  # % of revenue from which a category's launches are judged


# Reading the rollups ----------------------------------------------------------------------------


def sales_days(query: ReportQuery, period: Period | None = None) -> QuerySet[ProductSalesDay]:
    """Daily rollup rows per product of the period (the query's, or `period`) for the buyers
    and categories the query's filters and its viewer allow (a salesperson's own customers
    only)."""
    period = period or query.period
    rows = ProductSalesDay.objects.filter(day__gte=period.start, day__lte=period.end).order_by()
    rows = _narrowed(rows, query)
    if query.category_ids:
        rows = rows.filter(category_id__in=query.category_ids)
    return rows


def sales_parts(
    query: ReportQuery, period: Period | None = None, *, variants: bool = False
) -> list[QuerySet]:
    """The rollup rows holding the period's sales per product (or variant) for the buyers
    and categories the query allows, as one or two querysets: unless the query narrows the
    buyers, the whole months from the monthly rollup and the edge days from the daily one;
    otherwise every day from the daily one. An item may have rows in both."""
    period = period or query.period
    day_model, month_model = (
        (VariantSalesDay, VariantSalesMonth) if variants else (ProductSalesDay, ProductSalesMonth)
    )
    months, edges = whole_months(period) if not buyer_narrowed(query) else (None, [])
    parts = []
    if months:
        parts.append(month_model.objects.filter(month__gte=months[0], month__lte=months[1]))
    else:
        edges = [(period.start, period.end)]
    if edges:
        within = Q()
        for first, last in edges:
            within |= Q(day__gte=first, day__lte=last)
        parts.append(_narrowed(day_model.objects.filter(within), query))
    if query.category_ids:
        parts = [rows.filter(category_id__in=query.category_ids) for rows in parts]
    return [rows.order_by() for rows in parts]


def sales_per_item(
    query: ReportQuery, period: Period | None = None, *, variants: bool = False
) -> dict[int, dict]:
    """{product id (or variant id): its revenue, units and orders} in the period, for the
    buyers and categories the query allows, from sales_parts: two queries at most."""
    item = "variant_id" if variants else "product_id"
    found: dict[int, dict] = {}
    for rows in sales_parts(query, period, variants=variants):
        for row in rows.values(item).annotate(
            revenue=Sum("revenue"), units=Sum("units"), orders=Sum("orders")
        ):
            held = found.setdefault(
                row[item], {item: row[item], "revenue": ZERO, "units": 0, "orders": 0}
            )
            held["revenue"] += row["revenue"] or ZERO
            held["units"] += row["units"] or 0
            held["orders"] += row["orders"] or 0
    return found


def _narrowed(rows: QuerySet, query: ReportQuery) -> QuerySet:
    """Daily rollup rows limited to the query's buyer group (country, salesperson, level)."""
    if query.country:
        rows = rows.filter(country=query.country)
    if query.salesperson_id:
        rows = rows.filter(salesperson_id=query.salesperson_id)
    if query.level_id:
        rows = rows.filter(level_id=query.level_id)
    return rows


def activity_days(query: ReportQuery) -> QuerySet[ProductActivityDay]:
    """Views and cart additions of the period, of the query's category: everyone's, as a view
    is not tied to a buyer's country, salesperson or level."""
    period = query.period
    rows = ProductActivityDay.objects.filter(day__gte=period.start, day__lte=period.end).order_by()
    if query.category_ids:
        rows = rows.filter(product__category_id__in=query.category_ids)
    return rows


def buyer_narrowed(query: ReportQuery) -> bool:
    return bool(query.country or query.salesperson_id or query.level_id)


SALES_AS_OF = _("Sales, views and cart additions as of %(at)s (the rollups refresh hourly).")


def refreshed_note(as_of=SALES_AS_OF) -> str:
    """When the rollups were last brought up to date (one query), in `as_of`'s words (a
    text with %(at)s) saying what the page read from them."""
    run = RollupRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()
    if run is None:
        return gettext(
            "The daily rollups have not been built yet: run “manage.py rollups_refresh”."
        )
    return str(as_of) % {"at": timezone.localtime(run.finished_at).strftime("%Y-%m-%d %H:%M")}


def _money(value) -> Decimal:
    return (value or ZERO).quantize(ZERO)


def _percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part or 0) * HUNDRED / Decimal(whole)).quantize(TENTH, ROUND_HALF_UP)


def _change(now: Decimal, before: Decimal | None) -> Decimal | None:
    if not before:
        return None
    return ((now - before) * HUNDRED / abs(before)).quantize(TENTH, ROUND_HALF_UP)


# The category tree, read once per page -------------------------------------------------------


@dataclass(frozen=True)
class Tree:
    names: dict[int, str]
    paths: dict[int, tuple[int, ...]]  # from the top-level category down to the category

    @classmethod
    def load(cls) -> Tree:
        rows = list(Category.objects.order_by().values_list("id", "name", "parent_id"))
        names = {cid: name for cid, name, _parent in rows}
        parents = {cid: parent for cid, _name, parent in rows}
        paths = {}
        for cid in names:
            path = [cid]
            # A cycle typed into the admin stops the walk instead of looping.
            while parents.get(path[0]) is not None and parents[path[0]] not in path:
                path.insert(0, parents[path[0]])
            paths[cid] = tuple(path)
        return cls(names, paths)

    def group_of(self, category_id: int | None, base: int | None) -> int | None:
        """The category a report groups `category_id` under: its top-level category (no
        `base`), or the child of `base` on its way down (`base` itself for `base`); None when
        it is not under `base`."""
        path = self.paths.get(category_id)
        if path is None:
            return None
        if base is None:
            return path[0]
        if base not in path:
            return None
        below = path.index(base) + 1
        return path[below] if below < len(path) else base

    def name(self, category_id: int | None) -> str:
        return self.names.get(category_id, gettext("(deleted category)"))

    def path_name(self, category_id: int) -> str:
        return " › ".join(self.name(cid) for cid in self.paths.get(category_id, (category_id,)))


# Report 2: products ----------------------------------------------------------------------------


def _products_totals(per_product: dict[int, dict]) -> dict:
    rows = per_product.values()
    return {
        "revenue": _money(sum((row["revenue"] for row in rows), ZERO)),
        "units": sum(row["units"] for row in rows),
        "orders": sum(row["orders"] for row in rows),
        "products": len(per_product),
    }


def _top(per_item: dict[int, dict], item: str) -> list[dict]:
    return sorted(per_item.values(), key=lambda r: (-r["revenue"], -r["units"], r[item]))[:TOP]


def _product_names(ids: Iterable[int]) -> dict[int, dict]:
    return {
        row["pk"]: row
        for row in Product.objects.filter(pk__in=list(ids)).values("pk", "name", "category__name")
    }


def _top_variants(query: ReportQuery) -> list[dict]:
    """The TOP variants by revenue, named with one more small query."""
    top = _top(sales_per_item(query, variants=True), "variant_id")
    names = {
        row["pk"]: row
        for row in Variant.objects.filter(pk__in=[row["variant_id"] for row in top]).values(
            "pk",
            "sku",
            "option1",
            "option2",
            "option3",
            "product__name",
            "product__category__name",
        )
    }
    return [{**names.get(row["variant_id"], {}), **row} for row in top]


def _variant_label(row: dict) -> str:
    options = [row.get(f"option{n}") for n in (1, 2, 3) if row.get(f"option{n}")]
    return " / ".join(options) or row.get("sku", "")


def _rarely_bought(query: ReportQuery, sold: dict[int, dict], totals: dict) -> list[dict]:
    """Among the most viewed products (with MIN_VIEWS at least), those bought in fewer than
    half the orders per view of the shop as a whole, by views."""
    activity = activity_days(query)
    shop_views = activity.aggregate(views=Sum("views"))["views"] or 0
    if not shop_views:
        return []
    shop_rate = Decimal(totals["orders"]) / shop_views
    viewed = list(
        activity.values("product_id")
        .annotate(views=Sum("views"), cart_adds=Sum("cart_adds"))
        .filter(views__gte=MIN_VIEWS)
        .order_by("-views", "product_id")[:MOST_VIEWED]
    )
    found = []
    for row in viewed:
        bought = sold.get(row["product_id"], {})
        orders = bought.get("orders") or 0
        if Decimal(orders) / row["views"] < shop_rate / 2:
            found.append(
                {
                    **row,
                    "revenue": bought.get("revenue") or ZERO,
                    "units": bought.get("units") or 0,
                    "orders": orders,
                }
            )
    return found[:TOP]


def _product_row(
    section: str, row: dict, total_revenue, activity: dict | None, rates: bool, names: dict
):
    """One table row: a product (named from `names`) or a variant (named already)."""
    if "variant_id" in row:
        product, category = row.get("product__name"), row.get("product__category__name")
    else:
        named = names.get(row["product_id"], {})
        product, category = named.get("name"), named.get("category__name")
    views = activity.get("views", 0) if activity is not None else None
    cart_adds = activity.get("cart_adds", 0) if activity is not None else None
    return {
        "section": section,
        "product": product,
        "variant": _variant_label(row) if "variant_id" in row else "",
        "category": category,
        "revenue": _money(row["revenue"]),
        "units": int(row["units"] or 0),
        "orders": row["orders"] or 0,
        "share": _percent(row["revenue"], total_revenue),
        "views": views,
        "cart_adds": cart_adds,
        "cart_rate": _percent(cart_adds, views) if rates and views is not None else None,
        "order_rate": _percent(row["orders"], views) if rates and views is not None else None,
    }


@report(
    number=2,
    slug="products",
    title=_("Products"),
    summary=_(
        "Top products and variants by revenue and units; views → cart → purchase per product; "
        "products viewed a lot but rarely bought."
    ),
    audiences={Audience.FINANCE, Audience.SALES},
    filters={Filter.COUNTRY, Filter.CATEGORY, Filter.SALESPERSON, Filter.LEVEL},
)
def products_report(query: ReportQuery) -> ReportResult:
    per_product = sales_per_item(query)
    totals = _products_totals(per_product)
    before = _products_totals(sales_per_item(query, query.compare)) if query.compare else None
    top = _top(per_product, "product_id")
    activity = {
        row["product_id"]: row
        for row in activity_days(query)
        .filter(product_id__in=[row["product_id"] for row in top])
        .values("product_id")
        .annotate(views=Sum("views"), cart_adds=Sum("cart_adds"))
    }
    # Views count everyone; set against one group's orders they would mislead.
    rates = not buyer_narrowed(query)
    variants = _top_variants(query)
    rarely = _rarely_bought(query, per_product, totals) if rates else []
    names = _product_names({row["product_id"] for row in (*top, *rarely)})
    revenue = totals["revenue"]
    rows = [
        _product_row(
            gettext("Top product"), row, revenue, activity.get(row["product_id"], {}), rates, names
        )
        for row in top
    ]
    rows += [
        _product_row(gettext("Top variant"), row, revenue, None, rates, names) for row in variants
    ]
    rows += [
        _product_row(gettext("Viewed a lot, rarely bought"), row, revenue, row, rates, names)
        for row in rarely
    ]
    notes = [
        gettext(
            "The table lists the top %(top)s products and the top %(top)s variants by revenue"
            " (units net of refunds, at the price paid in the base currency before order"
            " discounts)."
        )
        % {"top": TOP}
    ]
    if rates:
        notes.append(
            gettext(
                "Viewed a lot, rarely bought: among the %(most)s most viewed products (with at"
                " least %(min)s views), those in fewer than half as many orders per 100 views as"
                " the shop as a whole."
            )
            % {"most": MOST_VIEWED, "min": MIN_VIEWS}
        )
    else:
        notes.append(
            gettext(
                "Views and cart additions count every visitor of the shop, whoever looks after"
                " them: they are not narrowed by country, salesperson or level. With those"
                " filters (and for a salesperson) they are shown for context only, without the"
                " conversion rates and the “viewed a lot, rarely bought” list, which would set"
                " some buyers' orders against everyone's views."
            )
        )
    notes.append(refreshed_note())

    def card(label, key, kind):
        return Card(label, totals[key], kind, before[key] if before else None)

    chart_rows = top[:10]
    return ReportResult(
        columns=[
            Column("section", _("List"), Kind.TEXT),
            Column("product", _("Product"), Kind.TEXT),
            Column("variant", _("Variant"), Kind.TEXT),
            Column("category", _("Category"), Kind.TEXT),
            Column("revenue", _("Revenue"), Kind.MONEY),
            Column("units", _("Units"), Kind.INT),
            Column("orders", _("Orders"), Kind.INT),
            Column("share", _("Share of revenue"), Kind.PERCENT),
            Column("views", _("Views (all visitors)"), Kind.INT),
            Column("cart_adds", _("Cart additions (all visitors)"), Kind.INT),
            Column("cart_rate", _("Cart additions per 100 views"), Kind.PERCENT),
            Column("order_rate", _("Orders per 100 views"), Kind.PERCENT),
        ],
        rows=rows,
        cards=[
            card(_("Revenue"), "revenue", Kind.MONEY),
            card(_("Units"), "units", Kind.INT),
            card(_("Products sold"), "products", Kind.INT),
        ],
        chart=Chart(
            "hbar",
            [names.get(row["product_id"], {}).get("name", "") for row in chart_rows],
            [Series(gettext("Revenue"), [_money(row["revenue"]) for row in chart_rows])],
            money=True,
        ),
        notes=notes,
    )


# Report 3: categories --------------------------------------------------------------------------


def _bucketed(rows: QuerySet[ProductSalesDay], grain: Grain):
    if grain == Grain.WEEK:
        return rows.annotate(bucket=TruncWeek("day"))
    if grain == Grain.MONTH:
        return rows.annotate(bucket=TruncMonth("day"))
    return rows.annotate(bucket=F("day"))


def _revenue_by_category(rows: QuerySet[ProductSalesDay]) -> dict[int, dict]:
    return {
        row["category_id"]: row
        for row in rows.values("category_id").annotate(revenue=Sum("revenue"), units=Sum("units"))
    }


def _category_row(group: str, category: str, now: dict, before: dict | None, total) -> dict:
    revenue = _money(now.get("revenue"))
    previous = _money(before.get("revenue")) if before is not None else None
    change = _change(revenue, previous) if previous is not None else None
    return {
        "group": group,
        "category": category,
        "revenue": revenue,
        "share": _percent(revenue, total),
        "units": int(now.get("units") or 0),
        "revenue_before": previous,
        "change": change,
        "falling": gettext("falling") if change is not None and change < FALLING else "",
    }


def _summed(rows: Iterable[dict]) -> dict:
    rows = list(rows)
    return {
        "revenue": sum((row.get("revenue") or ZERO for row in rows), ZERO),
        "units": sum(int(row.get("units") or 0) for row in rows),
    }


@report(
    number=3,
    slug="categories",
    title=_("Categories"),
    summary=_("Revenue share and trend per category, and the categories whose sales are falling."),
    audiences={Audience.FINANCE},
    filters={Filter.GRAIN, Filter.COUNTRY, Filter.SALESPERSON, Filter.LEVEL},
)
def categories_report(query: ReportQuery) -> ReportResult:
    tree = Tree.load()
    current = sales_days(query)
    now = _revenue_by_category(current)
    before = _revenue_by_category(sales_days(query, query.compare)) if query.compare else None
    total = sum((row["revenue"] or ZERO for row in now.values()), ZERO)
    # Every category sold in either period, under its top-level category.
    groups: dict[int, list[int]] = {}
    for category_id in {*now, *(before or {})}:
        groups.setdefault(tree.group_of(category_id, None) or category_id, []).append(category_id)

    def revenue_of(ids, found):
        return _summed(found.get(cid, {}) for cid in ids)

    ordered = sorted(
        groups.items(),
        key=lambda item: (
            -revenue_of(item[1], now)["revenue"],
            -revenue_of(item[1], before or {})["revenue"],
            tree.name(item[0]),
        ),
    )
    rows = []
    falling_top = falling = 0
    for top_id, ids in ordered:
        name = tree.name(top_id)
        head = _category_row(
            name,
            gettext("(all)"),
            revenue_of(ids, now),
            revenue_of(ids, before) if before is not None else None,
            total,
        )
        falling_top += bool(head["falling"])
        rows.append(head)
        for cid in sorted(ids, key=lambda c: (-_money(now.get(c, {}).get("revenue")), c)):
            row = _category_row(
                name,
                tree.path_name(cid),
                now.get(cid, {}),
                before.get(cid, {}) if before is not None else None,
                total,
            )
            falling += bool(row["falling"])
            rows.append(row)

    # The chart: revenue per bucket, stacked by top-level category (the largest on their own).
    chart_ids = [top_id for top_id, _ids in ordered[:CHART_GROUPS]]
    days = buckets(query.period, query.grain)
    values = {key: {} for key in [*chart_ids, None]}
    for row in (
        _bucketed(current, query.grain).values("bucket", "category_id").annotate(r=Sum("revenue"))
    ):
        top_id = tree.group_of(row["category_id"], None) or row["category_id"]
        key = top_id if top_id in values else None
        values[key][row["bucket"]] = values[key].get(row["bucket"], ZERO) + row["r"]
    series = [
        Series(tree.name(top_id), [_money(values[top_id].get(day)) for day in days])
        for top_id in chart_ids
    ]
    if values[None]:
        series.append(Series(gettext("Other"), [_money(values[None].get(day)) for day in days]))

    notes = [
        gettext(
            "Each top-level category (“(all)”) sums the categories below it; a category's own"
            " row counts the products placed directly in it."
        )
    ]
    if query.compare:
        notes.append(
            gettext("Falling: revenue down more than %(limit)s %% against the comparison period.")
            % {"limit": -FALLING}
        )
    else:
        notes.append(gettext("Choose a comparison period to see which categories are falling."))
    notes.append(refreshed_note())
    previous_total = (
        sum((row["revenue"] or ZERO for row in before.values()), ZERO) if before else None
    )
    cards = [
        Card(_("Revenue"), _money(total), Kind.MONEY, _money(previous_total) if before else None),
        Card(
            _("Top-level categories selling"),
            sum(1 for _top, ids in ordered if revenue_of(ids, now)["revenue"]),
        ),
    ]
    if query.compare:
        cards += [
            Card(_("Falling top-level categories"), falling_top),
            Card(_("Falling categories"), falling),
        ]
    return ReportResult(
        columns=[
            Column("group", _("Top-level category"), Kind.TEXT),
            Column("category", _("Category"), Kind.TEXT),
            Column("revenue", _("Revenue"), Kind.MONEY),
            Column("share", _("Share of revenue"), Kind.PERCENT),
            Column("units", _("Units"), Kind.INT),
            Column("revenue_before", _("Revenue, comparison"), Kind.MONEY),
            Column("change", _("Change"), Kind.PERCENT),
            Column("falling", _("Falling"), Kind.TEXT),
        ],
        rows=rows,
        cards=cards,
        chart=Chart(
            "stacked", [bucket_label(day, query.grain) for day in days], series, money=True
        ),
        notes=notes,
    )


# Report 14: new arrivals -----------------------------------------------------------------------


def _launches(query: ReportQuery, period: Period) -> QuerySet[Product]:
    start, end = period.bounds()
    products = Product.objects.filter(
        status=Product.Status.PUBLISHED,
        published_at__gte=start,
        published_at__lt=end,
        published_at__lte=timezone.now(),
    ).order_by()
    if query.category_ids:
        products = products.filter(category_id__in=query.category_ids)
    return products


def keeping_up(launch_share: Decimal | None, revenue_share: Decimal | None, launched: int) -> str:
    """A category keeps up when its share of the period's launches is at least half its share
    of revenue; it is ahead when it gets more than twice its share (and at least two)."""
    launch_share = launch_share or Decimal(0)
    revenue_share = revenue_share or Decimal(0)
    if revenue_share >= SIGNIFICANT_SHARE and launch_share < revenue_share / 2:
        return gettext("behind: few launches for its sales")
    if launched >= 2 and launch_share > revenue_share * 2:
        return gettext("ahead: more launches than its sales")
    return gettext("keeping up")


@report(
    number=14,
    slug="new-arrivals",
    title=_("New arrivals"),
    summary=_(
        "Products launched per category per week against the category's sales: is the "
        "launch pace keeping up?"
    ),
    audiences={Audience.FINANCE},
    filters={Filter.CATEGORY},
)
def new_arrivals_report(query: ReportQuery) -> ReportResult:
    tree = Tree.load()
    base = query.category_id
    weeks = Decimal(query.period.days) / 7
    launched = _launches(query, query.period).values("category_id").annotate(n=Count("pk"))
    current = sales_days(query)
    start, end = query.period.bounds()
    sold = _revenue_by_category(current)
    sold_new = _revenue_by_category(
        current.filter(product__published_at__gte=start, product__published_at__lt=end)
    )
    groups: dict[int, dict] = {}

    def group(category_id):
        key = tree.group_of(category_id, base) or category_id
        return groups.setdefault(key, {"launched": 0, "revenue": ZERO, "new_revenue": ZERO})

    for row in launched:
        group(row["category_id"])["launched"] += row["n"]
    for category_id, row in sold.items():
        group(category_id)["revenue"] += row["revenue"] or ZERO
    for category_id, row in sold_new.items():
        group(category_id)["new_revenue"] += row["revenue"] or ZERO
    total_launched = sum(g["launched"] for g in groups.values())
    total_revenue = sum((g["revenue"] for g in groups.values()), ZERO)
    rows = []
    for key, found in groups.items():
        launch_share = _percent(found["launched"], total_launched)
        revenue_share = _percent(found["revenue"], total_revenue)
        rows.append(
            {
                "category": tree.name(key),
                "launched": found["launched"],
                "per_week": (found["launched"] / weeks).quantize(Decimal("0.01")),
                "revenue": _money(found["revenue"]),
                "revenue_week": (found["revenue"] / weeks).quantize(ZERO),
                "launch_share": launch_share,
                "revenue_share": revenue_share,
                "new_revenue": _money(found["new_revenue"]),
                "judgement": keeping_up(launch_share, revenue_share, found["launched"]),
            }
        )
    rows.sort(key=lambda row: (-row["revenue"], -row["launched"], row["category"]))
    behind = gettext("behind: few launches for its sales")
    if query.compare:
        before_launched = _launches(query, query.compare).count()
        before_revenue = _money(sales_days(query, query.compare).aggregate(r=Sum("revenue"))["r"])
    else:
        before_launched = before_revenue = None
    notes = [
        gettext(
            "Launched: products published in the period. Keeping up? compares a category's"
            " share of the launches with its share of revenue: “behind” when it brings %(min)s"
            " %% of revenue or more but gets less than half that share of the launches, “ahead”"
            " when it gets more than twice its share of revenue (two launches at least)."
        )
        % {"min": SIGNIFICANT_SHARE},
        gettext(
            "Sold by new arrivals: revenue in the period from the products launched in it."
            " Categories are grouped under the top-level category, or under the level just"
            " below the chosen category."
        ),
        refreshed_note(),
    ]
    return ReportResult(
        columns=[
            Column("category", _("Category"), Kind.TEXT),
            Column("launched", _("Launched"), Kind.INT),
            Column("per_week", _("Launches per week"), Kind.DECIMAL),
            Column("revenue", _("Revenue"), Kind.MONEY),
            Column("revenue_week", _("Revenue per week"), Kind.MONEY),
            Column("launch_share", _("Share of launches"), Kind.PERCENT),
            Column("revenue_share", _("Share of revenue"), Kind.PERCENT),
            Column("new_revenue", _("Sold by new arrivals"), Kind.MONEY),
            Column("judgement", _("Keeping up?"), Kind.TEXT),
        ],
        rows=rows,
        cards=[
            Card(_("Products launched"), total_launched, Kind.INT, before_launched),
            Card(
                _("Launches per week"),
                (Decimal(total_launched) / weeks).quantize(Decimal("0.01")),
                Kind.DECIMAL,
            ),
            Card(_("Revenue"), _money(total_revenue), Kind.MONEY, before_revenue),
            Card(_("Categories behind"), sum(1 for row in rows if row["judgement"] == behind)),
        ],
        chart=Chart(
            "bar",
            [row["category"] for row in rows],
            [
                Series(
                    gettext("Share of launches (%)"), [row["launch_share"] or 0 for row in rows]
                ),
                Series(
                    gettext("Share of revenue (%)"), [row["revenue_share"] or 0 for row in rows]
                ),
            ],
        ),
        notes=notes,
    )
