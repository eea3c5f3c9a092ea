"""Reports 4, 5, 6 and 8: what buyers search for, how they pay, where they buy from and how
large their orders are.

4. Search: top terms, terms that found nothing, and terms followed by an order. A search "leads
   to an order" when the member who searched places, within SEARCH_ORDER_WINDOW after it, an
   order that became a sale (analytics.sources). Read from the search rollup (SearchDay).
5. Payments: orders placed in the period by payment method and currency, the success and
   failure of their payments (read from the payment rollup, PaymentDay: the buyer's country
   is the one their record had when the day was last rebuilt), and the bank transfers
   waiting now (read live).
6. Markets: revenue, buyers, orders and growth per buyer country, new against returning buyers.
8. Order value: the spread of order sizes in base-currency buckets, the average per segment and
   the median order.

Each page costs a fixed number of queries: every figure is grouped in the database and only the
few rows a table shows come back to Python (the search report reads one row per term searched
in the period, and picks its three lists from them).
"""

from __future__ import annotations

import heapq
from decimal import Decimal
from itertools import pairwise

from django.db import connections
from django.db.models import (
    Aggregate,
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from members.models import BusinessType, Distributor
from orders.models import Order, OrderState, PaymentMethod

from ..access import Audience
from ..models import PaymentDay, SearchDay
from ..periods import Period
from ..query import ReportQuery
from ..registry import Filter, report
from ..results import Card, Chart, Column, Kind, ReportResult, Series
from ..sources import ORDER_NET, SALE_STATES, SEARCH_ORDER_WINDOW, buyer_narrowed, sales_orders
from .products import refreshed_note

ZERO = Decimal("0.00")
TENTH = Decimal("0.1")


def _money(value) -> Decimal:
    return (value or ZERO).quantize(ZERO)


def _percent(part, whole) -> Decimal | None:
    """`part` as a percentage of `whole`, to a tenth; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part or 0) * 100 / Decimal(whole)).quantize(TENTH)


def _average(total, count) -> Decimal | None:
    return (Decimal(total or 0) / count).quantize(ZERO) if count else None


def _country_name(code) -> str:
    return str(countries.name(code)) if code else gettext("Unknown")


# --- 4. Search ---------------------------------------------------------------------------------

SEARCH_LIST_SIZE = 20
SEARCHES_AS_OF = _("Searches and orders as of %(at)s (the rollups refresh hourly).")
SEARCH_CHART_SIZE = 15

# Who searched: a member once whatever their session, a visitor (no member) by their session;
# searches with neither are left out of the count of searchers. Members and visitors are
# counted apart and added up, which avoids a distinct count over a text key built per row.
VISITOR = Q(member_id__isnull=True) & ~Q(session_key="")


def _search_days(period: Period) -> QuerySet[SearchDay]:
    return SearchDay.objects.filter(day__gte=period.start, day__lte=period.end).order_by()


def _search_totals(period: Period) -> dict:
    row = _search_days(period).aggregate(
        searches=Coalesce(Sum("searches"), 0),
        terms=Count("term", distinct=True),
        empty=Coalesce(Sum("no_results"), 0),
    )
    return _with_empty_share(row)


def _with_empty_share(row: dict) -> dict:
    row["empty_share"] = _percent(row["empty"], row["searches"]) or Decimal("0.0")
    return row


def _terms(period: Period) -> list[dict]:
    """One row per term searched in the period with every figure the table shows, in one
    query over the search rollup (analytics.rollups), where whether a search led to an order
    is already counted: joining a year of searches to the orders took most of a second."""
    rows = (
        _search_days(period)
        .values("term")
        .annotate(
            searches=Sum("searches"),
            visitors=Count("session_key", distinct=True, filter=VISITOR),
            no_results=Sum("no_results"),
            members=Count("member_id", distinct=True),
            ordered=Count("member_id", distinct=True, filter=Q(ordered__gt=0)),
        )
    )
    return [{**row, "searchers": row["members"] + row["visitors"]} for row in rows]


def _first(rows, size: int, *, key, only=None) -> list[dict]:
    return heapq.nsmallest(size, filter(only, rows), key=key)


def _term_row(listed: str, row: dict) -> dict:
    return {
        "list": listed,
        "term": row["term"],
        "searches": row["searches"],
        "searchers": row["searchers"],
        "no_results": row["no_results"],
        "members": row["members"],
        "ordered": row["ordered"],
        "conversion": _percent(row["ordered"], row["members"]),
    }


@report(
    number=4,
    slug="search",
    title=_("Search"),
    summary=_(
        "What buyers search for, which searches find nothing, and which searches are followed "
        "by an order."
    ),
    audiences=set(),
)
def search(query: ReportQuery) -> ReportResult:
    terms = _terms(query.period)
    totals = _with_empty_share(
        {
            "searches": sum(row["searches"] for row in terms),
            "terms": len(terms),
            "empty": sum(row["no_results"] for row in terms),
        }
    )
    before = _search_totals(query.compare) if query.compare else None
    size = SEARCH_LIST_SIZE
    top = _first(terms, size, key=lambda r: (-r["searches"], r["term"]))
    empty = _first(
        terms,
        size,
        key=lambda r: (-r["no_results"], -r["searches"], r["term"]),
        only=lambda r: r["no_results"],
    )
    leading = _first(
        terms,
        size,
        key=lambda r: (-r["ordered"], -r["members"], -r["searches"], r["term"]),
        only=lambda r: r["ordered"],
    )
    rows = (
        [_term_row(gettext("Top terms"), row) for row in top]
        + [_term_row(gettext("No results"), row) for row in empty]
        + [_term_row(gettext("Leads to orders"), row) for row in leading]
    )
    shown = top[:SEARCH_CHART_SIZE]

    def card(label, key, kind=Kind.INT):
        return Card(label, totals[key], kind, before[key] if before else None)

    return ReportResult(
        columns=[
            Column("list", _("List"), Kind.TEXT),
            Column("term", _("Term"), Kind.TEXT),
            Column("searches", _("Searches"), Kind.INT),
            Column("searchers", _("Searchers"), Kind.INT),
            Column("no_results", _("Searches with no results"), Kind.INT),
            Column("members", _("Members who searched"), Kind.INT),
            Column("ordered", _("Members who ordered"), Kind.INT),
            Column("conversion", _("Conversion"), Kind.PERCENT),
        ],
        rows=rows,
        cards=[
            card(_("Searches"), "searches"),
            card(_("Distinct terms"), "terms"),
            card(_("Searches with no results"), "empty_share", Kind.PERCENT),
        ],
        chart=Chart(
            "bar",
            [row["term"] for row in shown],
            [Series(gettext("Searches"), [row["searches"] for row in shown])],
        ),
        notes=[
            gettext(
                "Three lists of at most %(size)d terms each: the most searched, those with the "
                "most searches that found nothing, and those after which the most members "
                "ordered."
            )
            % {"size": size},
            gettext(
                "A member ordered after a search when they placed, within %(days)d days of it, "
                "an order that was paid and not refunded as a whole. Conversion is members who "
                "ordered over members who searched; visitors who were not logged in are counted "
                "as searchers only."
            )
            % {"days": SEARCH_ORDER_WINDOW.days},
            refreshed_note(SEARCHES_AS_OF),
        ],
    )


# --- 5. Payments -------------------------------------------------------------------------------

PAYMENTS_AS_OF = _(
    "Orders placed and their payments as of %(at)s (the rollups refresh hourly); the bank "
    "transfers waiting are as of now."
)
ORDER_NAMES = ("orders", "paid", "revenue")
PAYMENT_NAMES = ("payments", "succeeded", "failed")


def _figures(within: Q, suffix: str = "") -> dict:
    return {f"{name}{suffix}": Sum(name, filter=within) for name in (*ORDER_NAMES, *PAYMENT_NAMES)}


def _placed_grouped(query: ReportQuery) -> list[dict]:
    """The payment rollup's rows (analytics.rollups: orders and their payment attempts per
    placing day) of the period or its comparison, narrowed to the query's country and grouped
    by method and currency: each group has the period's figures, and the comparison's under
    the same names ending in "_before". One query over both periods (a period may overlap its
    comparison: each figure filters its own)."""
    period = query.period
    within = Q(day__gte=period.start, day__lte=period.end)
    aggregates = {}
    if query.compare:
        before = Q(day__gte=query.compare.start, day__lte=query.compare.end)
        aggregates = _figures(before, "_before")
        within |= before
    # Last: an aggregate named like its column hides the column from those after it.
    aggregates |= _figures(Q(day__gte=period.start, day__lte=period.end))
    rows = PaymentDay.objects.filter(within).order_by()
    if query.country:
        rows = rows.filter(country=query.country)
    return list(
        rows.values(by_method=F("method"), by_currency=F("currency")).annotate(**aggregates)
    )


def _summed(groups: list[dict], key: str, names: tuple[str, ...], suffix: str = "") -> list[dict]:
    """`groups` added up per `key`, the figures `names` (read with `suffix`); a key none of
    whose rows counted in the period is left out."""
    found: dict = {}
    for group in groups:
        row = found.setdefault(group[key], {"key": group[key], **dict.fromkeys(names, 0)})
        for name in names:
            row[name] += group[name + suffix] or 0
    return [row for row in found.values() if row[names[0]]]


def _payment_totals(by_method: list[dict], tried_by_method: list[dict]) -> dict:
    """The cards' figures, from the rows per method (so revenue is the sum of the table's)."""
    return {
        "orders": sum(row["orders"] for row in by_method),
        "revenue": sum((_money(row["revenue"]) for row in by_method), ZERO),
        "success": _percent(
            sum(row["succeeded"] for row in tried_by_method),
            sum(row["payments"] for row in tried_by_method),
        ),
    }


def _waiting_transfers(query: ReportQuery) -> dict:
    now = timezone.now()
    waiting = Order.objects.filter(
        state=OrderState.PENDING_PAYMENT, payment_method=PaymentMethod.BANK_TRANSFER
    ).order_by()
    row = buyer_narrowed(waiting, query, distributor="member__distributor").aggregate(
        count=Count("pk"),
        amount=Sum("grand_total_base"),
        oldest=Min("placed_at"),
        overdue=Count("pk", filter=Q(pay_by__lt=now)),
    )
    row["amount"] = _money(row["amount"])
    row["days"] = (now - row["oldest"]).days if row["oldest"] else None
    return row


def _payment_rows(breakdown: str, orders: list[dict], payments: list[dict], label) -> list[dict]:
    """One breakdown's rows: `orders` and `payments` are grouped by the same `key`. A key may
    have payments and no order (a buyer who tried a card, then chose a transfer)."""
    placed = {row["key"]: row for row in orders}
    tried = {row["key"]: row for row in payments}
    total_orders = sum(row["orders"] for row in orders)
    total_revenue = sum((_money(row["revenue"]) for row in orders), ZERO)
    rows = []
    for key in sorted(
        placed.keys() | tried.keys(), key=lambda k: (-placed.get(k, {}).get("orders", 0), str(k))
    ):
        made = placed.get(key, {"orders": 0, "paid": 0, "revenue": ZERO})
        attempts = tried.get(key, {"payments": 0, "succeeded": 0, "failed": 0})
        revenue = _money(made["revenue"])
        rows.append(
            {
                "breakdown": breakdown,
                "name": label(key),
                "orders": made["orders"],
                "order_share": _percent(made["orders"], total_orders),
                "paid": made["paid"],
                "revenue": revenue,
                "revenue_share": _percent(revenue, total_revenue),
                "payments": attempts["payments"],
                "succeeded": attempts["succeeded"],
                "failed": attempts["failed"],
                "success": _percent(attempts["succeeded"], attempts["payments"]),
                "failure": _percent(attempts["failed"], attempts["payments"]),
            }
        )
    return rows


def _method_label(value) -> str:
    return str(PaymentMethod(value).label) if value in PaymentMethod.values else str(value)


@report(
    number=5,
    slug="payments",
    title=_("Payments"),
    summary=_(
        "How buyers pay: payment methods and currencies, payments that succeed or fail, and "
        "the bank transfers still waiting."
    ),
    audiences={Audience.FINANCE},
    filters={Filter.COUNTRY},
)
def payments(query: ReportQuery) -> ReportResult:
    groups = _placed_grouped(query)
    by_method = _summed(groups, "by_method", ORDER_NAMES)
    tried_by_method = _summed(groups, "by_method", PAYMENT_NAMES)
    methods = _payment_rows(gettext("Payment method"), by_method, tried_by_method, _method_label)
    currencies = _payment_rows(
        gettext("Currency"),
        _summed(groups, "by_currency", ORDER_NAMES),
        _summed(groups, "by_currency", PAYMENT_NAMES),
        str,
    )
    totals = _payment_totals(by_method, tried_by_method)
    before = None
    if query.compare:
        before = _payment_totals(
            _summed(groups, "by_method", ORDER_NAMES, "_before"),
            _summed(groups, "by_method", PAYMENT_NAMES, "_before"),
        )
    waiting = _waiting_transfers(query)

    def card(label, key, kind=Kind.INT):
        return Card(label, totals[key], kind, before[key] if before else None)

    return ReportResult(
        columns=[
            Column("breakdown", _("By"), Kind.TEXT),
            Column("name", _("Method or currency"), Kind.TEXT),
            Column("orders", _("Orders placed"), Kind.INT),
            Column("order_share", _("Share of orders"), Kind.PERCENT),
            Column("paid", _("Paid orders"), Kind.INT),
            Column("revenue", _("Revenue"), Kind.MONEY),
            Column("revenue_share", _("Share of revenue"), Kind.PERCENT),
            Column("payments", _("Payments"), Kind.INT),
            Column("succeeded", _("Succeeded"), Kind.INT),
            Column("failed", _("Failed"), Kind.INT),
            Column("success", _("Success rate"), Kind.PERCENT),
            Column("failure", _("Failure rate"), Kind.PERCENT),
        ],
        rows=methods + currencies,
        cards=[
            card(_("Orders placed"), "orders"),
            card(_("Revenue"), "revenue", Kind.MONEY),
            card(_("Payment success rate"), "success", Kind.PERCENT),
            Card(_("Bank transfers waiting"), waiting["count"]),
            Card(_("Waiting to be paid"), waiting["amount"], Kind.MONEY),
            Card(_("Oldest waiting"), waiting["days"], Kind.DAYS),
            Card(_("Past their pay-by date"), waiting["overdue"]),
        ],
        chart=Chart(
            "doughnut",
            [row["name"] for row in methods],
            [Series(gettext("Revenue"), [row["revenue"] for row in methods])],
            money=True,
        ),
        notes=[
            gettext(
                "Orders placed in the period, whatever became of them; revenue counts those "
                "paid and not refunded as a whole, net of partial refunds, in the base currency."
            ),
            gettext(
                "Payments are the payment attempts of those orders, one per order and method; "
                "the success and failure rates are shares of all of them. A payment failed "
                "when it was declined and never succeeded, whether its order still waits or "
                "was cancelled; the rest are still pending or were cancelled untried."
            ),
            gettext(
                "Bank transfers waiting are the orders awaiting a bank transfer now, whatever "
                "the period; their amount is in the base currency."
            ),
            refreshed_note(PAYMENTS_AS_OF),
        ],
    )


# --- 6. Markets --------------------------------------------------------------------------------

MARKETS_CHART_SIZE = 15


def per_buyer_sql(orders: QuerySet[Order]) -> tuple[str, tuple]:
    """The SQL and parameters of `orders` summed per buyer: (member_id, revenue, orders).

    The markets and order-value segments group buyers, not orders: summing each buyer's
    orders first leaves a row per buyer to join to their distributor record and group again,
    rather than a join per order and a count of distinct buyers over every order."""
    return (
        orders.values("member_id")
        .annotate(revenue=Sum(ORDER_NET), orders=Count("pk"))
        .query.sql_with_params()
    )


def _returning(start):
    """The buyer of the `buyer` row (the outer query's) made a sale before `start`. Probed per
    buyer, through the (member, paid_at) index, rather than per order."""
    return (
        Order.objects.filter(
            member_id=RawSQL("buyer.member_id", ()), state__in=SALE_STATES, paid_at__lt=start
        )
        .values("pk")
        .order_by()
    )


def _per_country(query: ReportQuery, period: Period) -> list[dict]:
    """Each country's sales in the period, with how many of its buyers first bought in it.
    One query: the buyers' earlier sales are looked up once per buyer, not once per order."""
    start, _end = period.bounds()
    per_buyer, params = per_buyer_sql(sales_orders(query, period))
    earlier, earlier_params = _returning(start).query.sql_with_params()
    with connections[Order.objects.db].cursor() as cursor:
        cursor.execute(  # the inner SQL is the ORM's, its values are parameters
            f"""
            SELECT distributor.country, SUM(buyer.revenue), SUM(buyer.orders), COUNT(*),
                   SUM(CASE WHEN EXISTS ({earlier}) THEN 0 ELSE 1 END)
            FROM ({per_buyer}) AS buyer
            LEFT JOIN {Distributor._meta.db_table} AS distributor
                ON distributor.user_id = buyer.member_id
            GROUP BY distributor.country
            """,  # noqa: S608
            [*earlier_params, *params],
        )
        return [
            {
                "country": country,
                "revenue": Decimal(str(revenue)),
                "orders": int(orders),
                "buyers": int(buyers),
                "new": int(new),
            }
            for country, revenue, orders, buyers, new in cursor.fetchall()
        ]


def _country_totals(rows: list[dict]) -> dict:
    return {
        "revenue": sum((_money(row["revenue"]) for row in rows), ZERO),
        "countries": len(rows),
        "buyers": sum(row["buyers"] for row in rows),
        "new": sum(row["new"] for row in rows),
    }


@report(
    number=6,
    slug="markets",
    title=_("Markets"),
    summary=_(
        "Revenue, buyers and growth per country, and how many of each country's buyers are new."
    ),
    audiences={Audience.FINANCE, Audience.SALES},
    filters={Filter.SALESPERSON, Filter.LEVEL},
)
def markets(query: ReportQuery) -> ReportResult:
    now = _per_country(query, query.period)
    then = _per_country(query, query.compare) if query.compare else []
    totals = _country_totals(now)
    before = _country_totals(then) if query.compare else None
    found = {row["country"]: row for row in now}
    earlier = {row["country"]: _money(row["revenue"]) for row in then}
    rows = []
    for country in found.keys() | earlier.keys():
        row = found.get(country, {"revenue": ZERO, "orders": 0, "buyers": 0, "new": 0})
        revenue = _money(row["revenue"])
        previous = earlier.get(country, ZERO)
        rows.append(
            {
                "country": _country_name(country),
                "code": country or "",
                "revenue": revenue,
                "share": _percent(revenue, totals["revenue"]),
                "orders": row["orders"],
                "buyers": row["buyers"],
                "new": row["new"],
                "returning": row["buyers"] - row["new"],
                "revenue_before": previous if query.compare else None,
                "growth": _percent(revenue - previous, previous) if previous else None,
            }
        )
    rows.sort(key=lambda r: (-r["revenue"], -(r["revenue_before"] or ZERO), r["country"]))
    columns = [
        Column("country", _("Country"), Kind.TEXT),
        Column("code", _("Code"), Kind.TEXT),
        Column("revenue", _("Revenue"), Kind.MONEY),
        Column("share", _("Share of revenue"), Kind.PERCENT),
        Column("orders", _("Orders"), Kind.INT),
        Column("buyers", _("Buyers"), Kind.INT),
        Column("new", _("New buyers"), Kind.INT),
        Column("returning", _("Returning buyers"), Kind.INT),
    ]
    if query.compare:
        columns += [
            Column("revenue_before", _("Revenue, comparison"), Kind.MONEY),
            Column("growth", _("Growth"), Kind.PERCENT),
        ]

    def card(label, key, kind=Kind.INT):
        return Card(label, totals[key], kind, before[key] if before else None)

    charted = [row for row in rows if row["revenue"]][:MARKETS_CHART_SIZE]
    return ReportResult(
        columns=columns,
        rows=rows,
        cards=[
            card(_("Revenue"), "revenue", Kind.MONEY),
            card(_("Countries"), "countries"),
            card(_("Buyers"), "buyers"),
            card(_("New buyers"), "new"),
        ],
        chart=Chart(
            "hbar",
            [row["country"] for row in charted],
            [Series(gettext("Revenue"), [row["revenue"] for row in charted])],
            money=True,
        ),
        notes=[
            gettext(
                "A buyer's country is their distributor record's. A new buyer made their first "
                "purchase ever in the period; the others are returning. Growth is against the "
                "comparison period's revenue."
            ),
            gettext("The chart shows the %(size)d countries with the most revenue.")
            % {"size": MARKETS_CHART_SIZE},
        ],
    )


# --- 8. Order value ----------------------------------------------------------------------------

# Upper bounds of the order-size buckets (base currency); the last bucket has none.
SIZE_BOUNDS = (100, 250, 500, 1000, 2500, 5000)
SEGMENT_LIMIT = 50


class Median(Aggregate):
    """PostgreSQL's continuous median (the mean of the two middle values for an even count)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def median_sorted(orders: QuerySet[Order], count: int) -> Decimal | None:
    """The median order value by sorting: the middle one or two of `count` orders, in one
    query. Any database can run it (the demo's SQLite has no percentile_cont)."""
    if not count:
        return None
    middle = list(
        orders.annotate(net=ORDER_NET)
        .order_by("net", "pk")
        .values_list("net", flat=True)[(count - 1) // 2 : count // 2 + 1]
    )
    return (sum(middle, ZERO) / len(middle)).quantize(ZERO)


def _postgres(orders: QuerySet[Order]) -> bool:
    return connections[orders.db].vendor == "postgresql"


def _median_value(median: float | None) -> Decimal | None:
    return None if median is None else Decimal(str(median)).quantize(ZERO)


def _median(orders: QuerySet[Order], count: int) -> Decimal | None:
    if not _postgres(orders):
        return median_sorted(orders, count)
    return _median_value(orders.aggregate(median=Median(ORDER_NET))["median"])


def _value_totals(revenue, count: int, median: Decimal | None) -> dict:
    revenue = _money(revenue)
    return {
        "revenue": revenue,
        "orders": count,
        "average": _average(revenue, count),
        "median": median,
    }


def _period_totals(orders: QuerySet[Order]) -> dict:
    """The comparison period's cards: its revenue, orders, average and median order (on
    PostgreSQL, in the same query)."""
    postgres = _postgres(orders)
    figures = {"revenue": Sum(ORDER_NET), "orders": Count("pk")}
    if postgres:
        figures["median"] = Median(ORDER_NET)
    row = orders.aggregate(**figures)
    median = _median_value(row["median"]) if postgres else median_sorted(orders, row["orders"])
    return _value_totals(row["revenue"], row["orders"], median)


def _size_labels() -> list[str]:
    labels = [gettext("under %(high)s") % {"high": f"{SIZE_BOUNDS[0]:,}"}]
    for low, high in pairwise(SIZE_BOUNDS):
        labels.append(gettext("%(low)s to %(high)s") % {"low": f"{low:,}", "high": f"{high:,}"})
    labels.append(gettext("%(low)s and over") % {"low": f"{SIZE_BOUNDS[-1]:,}"})
    return labels


def _size_bucket():
    return Case(
        *(When(net__lt=bound, then=Value(i)) for i, bound in enumerate(SIZE_BOUNDS)),
        default=Value(len(SIZE_BOUNDS)),
        output_field=IntegerField(),
    )


def _segment_rows(segment: str, rows, total_orders: int, label) -> list[dict]:
    return [
        {
            "segment": segment,
            "value": label(row["key"]),
            "orders": row["orders"],
            "order_share": _percent(row["orders"], total_orders),
            "revenue": _money(row["revenue"]),
            "average": _average(_money(row["revenue"]), row["orders"]),
        }
        for row in rows
    ]


def _spread(orders: QuerySet[Order]) -> list[tuple]:
    """The orders and revenue per combination of the buyer's business type, level and country
    and the order's size bucket, in one read of the orders: they are summed per buyer and
    bucket, then per combination (a few thousand rows however many orders). The size spread,
    the segments and the totals are all added up from these rows.

    Rows of (business type, level name, level position, country, bucket, orders, revenue)."""
    per_buyer, params = (
        orders.annotate(net=ORDER_NET, key=_size_bucket())
        .values("member_id", "key")
        .annotate(revenue=Sum(ORDER_NET), orders=Count("pk"))
        .query.sql_with_params()
    )
    level = Distributor._meta.get_field("level").related_model._meta.db_table
    with connections[orders.db].cursor() as cursor:
        cursor.execute(  # the inner SQL is the ORM's, its values are parameters
            f"""
            SELECT distributor.business_type, level.name, level.position, distributor.country,
                   buyer.key, SUM(buyer.orders), SUM(buyer.revenue)
            FROM ({per_buyer}) AS buyer
            LEFT JOIN {Distributor._meta.db_table} AS distributor
                ON distributor.user_id = buyer.member_id
            LEFT JOIN {level} AS level ON level.id = distributor.level_id
            GROUP BY distributor.business_type, level.name, level.position, distributor.country,
                     buyer.key
            """,  # noqa: S608
            params,
        )
        return [
            (kind, name, rank, country, key, int(count), Decimal(str(revenue)))
            for kind, name, rank, country, key, count, revenue in cursor.fetchall()
        ]


def _spread_summed(spread: list[tuple]) -> dict[str, dict]:
    """The spread added up per size bucket and per business type, level and country."""
    summed: dict[str, dict] = {"size": {}, "type": {}, "level": {}, "country": {}}
    for kind, name, rank, country, key, count, revenue in spread:
        for segment, value in (
            ("size", key),
            ("type", kind),
            ("level", (rank, name)),
            ("country", country),
        ):
            row = summed[segment].setdefault(value, {"orders": 0, "revenue": ZERO})
            row["orders"] += count
            row["revenue"] += revenue
    return summed


def _segments(summed: dict[str, dict]) -> dict[str, list[dict]]:
    def by_revenue(found: dict) -> list[dict]:
        rows = [{"key": key, **row} for key, row in found.items()]
        return sorted(rows, key=lambda r: (-r["revenue"], r["key"] is None, r["key"] or ""))

    levels = [
        {"key": name, **row}
        for (rank, name), row in sorted(
            summed["level"].items(), key=lambda item: (item[0][0] is None, item[0])
        )
    ]
    return {
        "type": by_revenue(summed["type"]),
        "level": levels,
        "country": by_revenue(summed["country"])[:SEGMENT_LIMIT],
    }


@report(
    number=8,
    slug="order-value",
    title=_("Order value"),
    summary=_(
        "How large orders are: their spread over order sizes, the median order, and the average "
        "order per business type, level and country."
    ),
    audiences={Audience.FINANCE, Audience.SALES},
    filters={Filter.COUNTRY, Filter.SALESPERSON, Filter.LEVEL},
)
def order_value(query: ReportQuery) -> ReportResult:
    orders = sales_orders(query)
    summed = _spread_summed(_spread(orders))
    sizes = summed["size"]
    count = sum(row["orders"] for row in sizes.values())
    revenue = sum((row["revenue"] for row in sizes.values()), ZERO)
    totals = _value_totals(revenue, count, _median(orders, count) if count else None)
    before = _period_totals(sales_orders(query, query.compare)) if query.compare else None
    labels = _size_labels()
    empty = {"orders": 0, "revenue": ZERO}
    size_rows = _segment_rows(
        gettext("Order size"),
        [{"key": i, **sizes.get(i, empty)} for i in range(len(labels))],
        count,
        lambda i: labels[i],
    )
    types = dict(BusinessType.choices)
    segments = _segments(summed)
    rows = (
        size_rows
        + _segment_rows(
            gettext("Business type"),
            segments["type"],
            count,
            lambda k: str(types.get(k, k or gettext("Unknown"))),
        )
        + _segment_rows(
            gettext("Level"), segments["level"], count, lambda k: k or gettext("No level")
        )
        + _segment_rows(gettext("Country"), segments["country"], count, _country_name)
    )

    def card(label, key, kind=Kind.INT):
        return Card(label, totals[key], kind, before[key] if before else None)

    return ReportResult(
        columns=[
            Column("segment", _("Segment"), Kind.TEXT),
            Column("value", _("Value"), Kind.TEXT),
            Column("orders", _("Orders"), Kind.INT),
            Column("order_share", _("Share of orders"), Kind.PERCENT),
            Column("revenue", _("Revenue"), Kind.MONEY),
            Column("average", _("Average order value"), Kind.MONEY),
        ],
        rows=rows,
        cards=[
            card(_("Average order value"), "average", Kind.MONEY),
            card(_("Median order value"), "median", Kind.MONEY),
            card(_("Orders"), "orders"),
        ],
        chart=Chart(
            "bar", labels, [Series(gettext("Orders"), [row["orders"] for row in size_rows])]
        ),
        notes=[
            gettext(
                "Order sizes are each order's total net of refunds, in the base currency. The "
                "country segment lists the %(size)d countries with the most revenue."
            )
            % {"size": SEGMENT_LIMIT},
        ],
    )
