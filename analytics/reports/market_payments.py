"""Reports 4, 5, 6 and 8: what buyers search for, how they pay, where they buy from and how
large their orders are.

4. Search: top terms, terms that found nothing, and terms followed by an order. A search "leads
   to an order" when the member who searched places, within SEARCH_ORDER_WINDOW after it, an
   order that became a sale (paid and not refunded as a whole, analytics.sources): the placing
   time is the buyer's decision, while a bank transfer may be paid days later.
5. Payments: orders placed in the period by payment method and currency, the success and
   failure of their payments, and the bank transfers waiting now.
6. Markets: revenue, buyers, orders and growth per buyer country, new against returning buyers.
8. Order value: the spread of order sizes in base-currency buckets, the average per segment and
   the median order.

Each page costs a fixed number of queries: every figure is grouped in the database and only the
few rows a table shows come back to Python.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

from django.db import connections
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from catalog.models import SearchLog
from members.models import BusinessType
from orders.models import Order, OrderState, Payment, PaymentMethod

from ..access import Audience
from ..periods import Period
from ..query import ReportQuery
from ..registry import Filter, report
from ..results import Card, Chart, Column, Kind, ReportResult, Series
from ..sources import ORDER_NET, SALE_STATES, buyer_narrowed, sales_orders

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
    return str(countries.name(code)) if code else _g("Unknown")


# --- 4. Search ---------------------------------------------------------------------------------

SEARCH_ORDER_WINDOW = timedelta(days=7)
SEARCH_LIST_SIZE = 20
SEARCH_CHART_SIZE = 15

# Who searched: a member once whatever their session, a visitor by their session; searches
# with neither are left out of the count of searchers.
SEARCHER = Case(
    When(member_id__isnull=False, then=Concat(Value("m"), Cast("member_id", CharField()))),
    When(~Q(session_key=""), then=Concat(Value("s"), "session_key")),
    default=Value(None),
    output_field=CharField(),
)


def _led_to_order():
    """True for a member's search followed, within the window, by an order that became a
    sale."""
    return Exists(
        Order.objects.filter(
            member_id=OuterRef("member_id"),
            state__in=SALE_STATES,
            placed_at__gte=OuterRef("searched_at"),
            placed_at__lt=ExpressionWrapper(
                OuterRef("searched_at") + SEARCH_ORDER_WINDOW, output_field=DateTimeField()
            ),
        )
    )


def _searches(period: Period) -> QuerySet[SearchLog]:
    start, end = period.bounds()
    return SearchLog.objects.filter(searched_at__gte=start, searched_at__lt=end).order_by()


def _search_totals(period: Period) -> dict:
    row = _searches(period).aggregate(
        searches=Count("pk"),
        terms=Count("term", distinct=True),
        empty=Count("pk", filter=Q(results=0)),
    )
    row["empty_share"] = _percent(row["empty"], row["searches"]) or Decimal("0.0")
    return row


def _terms(period: Period) -> QuerySet:
    """One row per term with every figure the table shows."""
    return (
        _searches(period)
        .values("term")
        .annotate(
            searches=Count("pk"),
            searchers=Count(SEARCHER, distinct=True),
            no_results=Count("pk", filter=Q(results=0)),
            members=Count("member_id", distinct=True),
            ordered=Count(Case(When(_led_to_order(), then=F("member_id"))), distinct=True),
        )
    )


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
    totals = _search_totals(query.period)
    before = _search_totals(query.compare) if query.compare else None
    terms = _terms(query.period)
    size = SEARCH_LIST_SIZE
    top = list(terms.order_by("-searches", "term")[:size])
    empty = list(terms.filter(no_results__gt=0).order_by("-no_results", "-searches", "term")[:size])
    leading = list(
        terms.filter(ordered__gt=0).order_by("-ordered", "-members", "-searches", "term")[:size]
    )
    rows = (
        [_term_row(_g("Top terms"), row) for row in top]
        + [_term_row(_g("No results"), row) for row in empty]
        + [_term_row(_g("Leads to orders"), row) for row in leading]
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
            [Series(_g("Searches"), [row["searches"] for row in shown])],
        ),
        notes=[
            _g(
                "Three lists of at most %(size)d terms each: the most searched, those with the "
                "most searches that found nothing, and those after which the most members "
                "ordered."
            )
            % {"size": size},
            _g(
                "A member ordered after a search when they placed, within %(days)d days of it, "
                "an order that was paid and not refunded as a whole. Conversion is members who "
                "ordered over members who searched; visitors who were not logged in are counted "
                "as searchers only."
            )
            % {"days": SEARCH_ORDER_WINDOW.days},
        ],
    )


# --- 5. Payments -------------------------------------------------------------------------------

SALE = Q(state__in=SALE_STATES)


def _placed_orders(query: ReportQuery, period: Period) -> QuerySet[Order]:
    start, end = period.bounds()
    orders = Order.objects.filter(placed_at__gte=start, placed_at__lt=end).order_by()
    return buyer_narrowed(orders, query, distributor="member__distributor")


def _payments(query: ReportQuery, period: Period) -> QuerySet[Payment]:
    """The payments of the orders placed in the period."""
    start, end = period.bounds()
    payments = Payment.objects.filter(
        order__placed_at__gte=start, order__placed_at__lt=end
    ).order_by()
    return buyer_narrowed(payments, query, distributor="order__member__distributor")


ORDER_FIGURES = {
    "orders": Count("pk"),
    "paid": Count("pk", filter=SALE),
    "revenue": Sum(ORDER_NET, filter=SALE),
}
PAYMENT_FIGURES = {
    "payments": Count("pk"),
    "succeeded": Count("pk", filter=Q(status=Payment.Status.SUCCEEDED)),
    "failed": Count("pk", filter=Q(status=Payment.Status.FAILED)),
}


def _payment_totals(query: ReportQuery, period: Period) -> dict:
    row = _placed_orders(query, period).aggregate(**ORDER_FIGURES)
    row.update(_payments(query, period).aggregate(**PAYMENT_FIGURES))
    row["revenue"] = _money(row["revenue"])
    row["success"] = _percent(row["succeeded"], row["payments"])
    return row


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
    placed = _placed_orders(query, query.period)
    tried = _payments(query, query.period)

    def grouped(rows, key, figures):
        return list(rows.annotate(key=F(key)).values("key").annotate(**figures))

    by_method = grouped(placed, "payment_method", ORDER_FIGURES)
    tried_by_method = grouped(tried, "method", PAYMENT_FIGURES)
    methods = _payment_rows(_g("Payment method"), by_method, tried_by_method, _method_label)
    currencies = _payment_rows(
        _g("Currency"),
        grouped(placed, "currency", ORDER_FIGURES),
        grouped(tried, "order__currency", PAYMENT_FIGURES),
        str,
    )
    totals = {
        "orders": sum(row["orders"] for row in by_method),
        "revenue": sum((_money(row["revenue"]) for row in by_method), ZERO),
        "success": _percent(
            sum(row["succeeded"] for row in tried_by_method),
            sum(row["payments"] for row in tried_by_method),
        ),
    }
    before = _payment_totals(query, query.compare) if query.compare else None
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
            [Series(_g("Revenue"), [row["revenue"] for row in methods])],
            money=True,
        ),
        notes=[
            _g(
                "Orders placed in the period, whatever became of them; revenue counts those "
                "paid and not refunded as a whole, net of partial refunds, in the base currency."
            ),
            _g(
                "Payments are the payment attempts of those orders, one per order and method; "
                "the success and failure rates are shares of all of them (the rest are still "
                "pending or were cancelled)."
            ),
            _g(
                "Bank transfers waiting are the orders awaiting a bank transfer now, whatever "
                "the period; their amount is in the base currency."
            ),
        ],
    )


# --- 6. Markets --------------------------------------------------------------------------------

MARKETS_CHART_SIZE = 15


def _first_sale():
    """When the order's buyer first bought (their earliest sale ever)."""
    return Subquery(
        Order.objects.filter(member_id=OuterRef("member_id"), state__in=SALE_STATES)
        .order_by("paid_at")
        .values("paid_at")[:1]
    )


def _per_country(query: ReportQuery, period: Period) -> list[dict]:
    """Each country's sales in the period, with how many of its buyers first bought in it."""
    start, _end = period.bounds()
    return list(
        sales_orders(query, period)
        .annotate(country=F("member__distributor__country"), first_sale=_first_sale())
        .values("country")
        .annotate(
            revenue=Sum(ORDER_NET),
            orders=Count("pk"),
            buyers=Count("member_id", distinct=True),
            new=Count("member_id", distinct=True, filter=Q(first_sale__gte=start)),
        )
    )


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
            [Series(_g("Revenue"), [row["revenue"] for row in charted])],
            money=True,
        ),
        notes=[
            _g(
                "A buyer's country is their distributor record's. A new buyer made their first "
                "purchase ever in the period; the others are returning. Growth is against the "
                "comparison period's revenue."
            ),
            _g("The chart shows the %(size)d countries with the most revenue.")
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


def _value_totals(orders: QuerySet[Order]) -> dict:
    postgres = connections[orders.db].vendor == "postgresql"
    figures = {"revenue": Sum(ORDER_NET), "orders": Count("pk")}
    if postgres:
        figures["median"] = Median(ORDER_NET)
    row = orders.aggregate(**figures)
    if postgres:
        median = row["median"]
        row["median"] = None if median is None else Decimal(str(median)).quantize(ZERO)
    else:
        row["median"] = median_sorted(orders, row["orders"])
    row["revenue"] = _money(row["revenue"])
    row["average"] = _average(row["revenue"], row["orders"])
    return row


def _size_labels() -> list[str]:
    labels = [_g("under %(high)s") % {"high": f"{SIZE_BOUNDS[0]:,}"}]
    for low, high in pairwise(SIZE_BOUNDS):
        labels.append(_g("%(low)s to %(high)s") % {"low": f"{low:,}", "high": f"{high:,}"})
    labels.append(_g("%(low)s and over") % {"low": f"{SIZE_BOUNDS[-1]:,}"})
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


def _grouped(orders, key, *order_by) -> QuerySet:
    return (
        orders.annotate(key=key)
        .values("key")
        .annotate(orders=Count("pk"), revenue=Sum(ORDER_NET))
        .order_by(*order_by)
    )


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
    totals = _value_totals(orders)
    before = _value_totals(sales_orders(query, query.compare)) if query.compare else None
    count = totals["orders"]
    sizes = {
        row["key"]: row for row in _grouped(orders.annotate(net=ORDER_NET), _size_bucket(), "key")
    }
    labels = _size_labels()
    empty = {"orders": 0, "revenue": ZERO}
    size_rows = _segment_rows(
        _g("Order size"),
        [{"key": i, **sizes.get(i, empty)} for i in range(len(labels))],
        count,
        lambda i: labels[i],
    )
    types = dict(BusinessType.choices)
    by_type = _grouped(orders, F("member__distributor__business_type"), "-revenue", "key")
    by_level = (
        orders.annotate(
            key=F("member__distributor__level__name"),
            rank=F("member__distributor__level__position"),
        )
        .values("key", "rank")
        .annotate(orders=Count("pk"), revenue=Sum(ORDER_NET))
        .order_by(F("rank").asc(nulls_last=True), "key")
    )
    by_country = _grouped(orders, F("member__distributor__country"), "-revenue", "key")
    rows = (
        size_rows
        + _segment_rows(
            _g("Business type"), by_type, count, lambda k: str(types.get(k, k or _g("Unknown")))
        )
        + _segment_rows(_g("Level"), by_level, count, lambda k: k or _g("No level"))
        + _segment_rows(_g("Country"), by_country[:SEGMENT_LIMIT], count, _country_name)
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
        chart=Chart("bar", labels, [Series(_g("Orders"), [row["orders"] for row in size_rows])]),
        notes=[
            _g(
                "Order sizes are each order's total net of refunds, in the base currency. The "
                "country segment lists the %(size)d countries with the most revenue."
            )
            % {"size": SEGMENT_LIMIT},
        ],
    )
