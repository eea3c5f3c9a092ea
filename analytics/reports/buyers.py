"""Reports about buyers' habits (issue 7): 7, the purchase cycle and who is overdue against it;
9, favourite styles (categories and option values); 10, retention by monthly cohort; 11, buyers
whose spend dropped against their own trailing average.

Every figure starts from analytics.sources, so a sale is counted the same way as in the other
reports and a salesperson only ever sees their own customers; the one exception is report 9's
shop-wide units and chart, which read the variant rollup (analytics.rollups, counted the same
way, narrowed like the product reports). Histories that reach back before
the period (a buyer's cycle, first order, trailing spend) run from the shop's first order up to
the period's end, never past it, so a report for an earlier range reads as it would have then.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import Category, Product, Variant
from members.models import Distributor

from ..access import Audience
from ..models import BuyerSalesDay
from ..periods import Period, month_add
from ..query import ReportQuery
from ..registry import Filter, report
from ..results import Card, Chart, Column, Kind, ReportResult, Series
from ..sources import LINE_UNITS, ORDER_NET, buyer_narrowed, sales_lines, sales_orders
from .products import sales_parts

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
FIRST_DAY = date(1970, 1, 1)  # before any order: "ever" means from here to the period's end


def _history(query: ReportQuery):
    """The sale orders of the query's buyers from the first one ever to the period's end."""
    return sales_orders(query, Period(FIRST_DAY, query.period.end))


def _person(first_name: str | None, last_name: str | None, email: str | None) -> str:
    return " ".join(part for part in (first_name, last_name) if part) or (email or "")


def _day(value) -> date:
    """A date read back from raw SQL: PostgreSQL gives dates and timestamps, SQLite text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"))


def _buyer_details(member_ids) -> dict[int, dict]:
    """Company, country and salesperson of the given buyers, in one query."""
    rows = Distributor.objects.filter(user_id__in=list(member_ids)).values(
        "user_id",
        "company_name",
        "country",
        "owner__first_name",
        "owner__last_name",
        "owner__email",
    )
    return {
        row["user_id"]: {
            "company": row["company_name"],
            "country": str(row["country"]),
            "salesperson": _person(
                row["owner__first_name"], row["owner__last_name"], row["owner__email"]
            ),
        }
        for row in rows
    }


# Report 7: purchase cycle ------------------------------------------------------------------

OVERDUE_FACTOR = Decimal("1.5")  # a buyer is overdue past one and a half of their usual cycle
OVERDUE_MIN_DAYS = 7  # ... and never sooner than a week after their last order
CYCLE_MIN_PURCHASES = 3  # purchase days needed for a cycle: two gaps at least
CALL_LIST_ROWS = 200
HISTOGRAM_BUCKETS = 12  # weeks; longer cycles share the last bar


@dataclass(frozen=True)
class Cycle:
    member_id: int
    orders: int
    last_day: date
    median_days: Decimal


@dataclass(frozen=True)
class Judged:
    """A buyer's cycle on the period's last day."""

    cycle: Cycle
    since: int  # days since their last order
    overdue: bool


@dataclass(frozen=True)
class CallList:
    """The first CALL_LIST_ROWS buyers to call and the figures over every buyer with a cycle."""

    shown: list[Judged]
    buyers: int
    overdue: int
    median: Decimal | None  # the median of the buyers' median cycles
    weeks: list[int]  # buyers per median cycle, a week a bucket, HISTOGRAM_BUCKETS of them


def _tenths(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"))


def _judged(cycle: Cycle, end: date) -> Judged:
    since = (end - cycle.last_day).days
    overdue = since > cycle.median_days * OVERDUE_FACTOR and since >= OVERDUE_MIN_DAYS
    return Judged(cycle, since, overdue)


def _week(median_days) -> int:
    return min(int(median_days) // 7, HISTOGRAM_BUCKETS - 1)


def _purchase_days(query: ReportQuery):
    """(buyer, day, paid_at) rows: each sale order of the query's buyers up to the period's end,
    with its day in the shop's time zone."""
    return (
        _history(query)
        .annotate(
            buyer=F("member_id"), day=TruncDate("paid_at", tzinfo=timezone.get_current_timezone())
        )
        .values("buyer", "day", "paid_at")
    )


def call_list(query: ReportQuery) -> CallList:
    """Each buyer with at least three purchase days up to the period's end and the median of
    the days between consecutive ones, judged on the period's last day; the overdue first, the
    furthest past their own rhythm (days since / median cycle) at the top. Orders paid on the
    same day are one purchase: a buyer who splits a basket in two has not got a zero-day
    cycle. One query: the ranking, the counts, the overall median and the histogram are worked
    out in the database, so only the rows shown come back, not one per buyer."""
    if connection.vendor != "postgresql":
        return _call_list_in_python(query)
    end = query.period.end
    sql, params = _purchase_days(query).query.sql_with_params()
    # A same-day order's gap is 0: NULLIF leaves it out of the median (as the first order's
    # NULL gap is), and the buyer's other gaps count their purchase days. The histogram's
    # buckets are our own constants; every value is a parameter.
    weeks = ", ".join(
        f"COUNT(*) FILTER (WHERE LEAST(FLOOR(median / 7), {HISTOGRAM_BUCKETS - 1}) = {week})"
        for week in range(HISTOGRAM_BUCKETS)
    )
    with connection.cursor() as cursor:
        cursor.execute(  # the inner SQL is the ORM's, its values are parameters
            f"""
            WITH cycles AS (
                SELECT buyer, COUNT(*) AS orders, MAX(day) AS last_day,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS median
                FROM (
                    SELECT buyer, day,
                           NULLIF(day - LAG(day) OVER (PARTITION BY buyer ORDER BY paid_at), 0)
                               AS gap
                    FROM ({sql}) AS purchase
                ) AS spaced
                GROUP BY buyer
                HAVING COUNT(gap) >= %s
            ), judged AS (
                SELECT buyer, orders, last_day, median, CAST(%s AS date) - last_day AS since
                FROM cycles
            ), flagged AS (
                SELECT *, (since > median * %s AND since >= %s) AS overdue FROM judged
            ), summary AS (
                SELECT COUNT(*) AS buyers, COUNT(*) FILTER (WHERE overdue) AS overdue_buyers,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY median) AS overall, {weeks}
                FROM flagged
            )
            SELECT summary.*, shown.buyer, shown.orders, shown.last_day, shown.median
            FROM summary LEFT JOIN (
                SELECT * FROM flagged
                ORDER BY overdue DESC, since / median DESC, buyer
                LIMIT %s
            ) AS shown ON TRUE
            ORDER BY shown.overdue DESC, shown.since / shown.median DESC, shown.buyer
            """,  # noqa: S608
            [
                *params,
                CYCLE_MIN_PURCHASES - 1,
                end,
                float(OVERDUE_FACTOR),
                OVERDUE_MIN_DAYS,
                CALL_LIST_ROWS,
            ],
        )
        found = cursor.fetchall()
    # A summary row always comes back; it carries no buyer when no one has a cycle.
    buyers, overdue, overall, *rest = found[0]
    shown = [
        _judged(Cycle(buyer, orders, _day(last), _tenths(median)), end)
        for *_summary, buyer, orders, last, median in found
        if buyer is not None
    ]
    return CallList(
        shown=shown,
        buyers=buyers,
        overdue=overdue,
        median=_tenths(overall) if buyers else None,
        weeks=list(rest[:HISTOGRAM_BUCKETS]),
    )


def _call_list_in_python(query: ReportQuery) -> CallList:
    """SQLite (the demo) has no percentile_cont: the medians, the ranking and the counts are
    worked out here, over the buyers' purchase days (one row per buyer and day rather than one
    per order)."""
    days: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for row in (
        _purchase_days(query)
        .values("buyer", "day")
        .annotate(orders=Count("pk"))
        .order_by("buyer", "day")
    ):
        days[row["buyer"]].append((_day(row["day"]), row["orders"]))
    judged = []
    for buyer, purchases in days.items():
        if len(purchases) < CYCLE_MIN_PURCHASES:
            continue
        gaps = [(b[0] - a[0]).days for a, b in pairwise(purchases)]
        cycle = Cycle(
            buyer,
            sum(orders for _when, orders in purchases),
            purchases[-1][0],
            _tenths(statistics.median(gaps)),
        )
        judged.append(_judged(cycle, query.period.end))
    judged.sort(
        key=lambda j: (not j.overdue, -Decimal(j.since) / j.cycle.median_days, j.cycle.member_id)
    )
    weeks = [0] * HISTOGRAM_BUCKETS
    for entry in judged:
        weeks[_week(entry.cycle.median_days)] += 1
    return CallList(
        shown=judged[:CALL_LIST_ROWS],
        buyers=len(judged),
        overdue=sum(1 for j in judged if j.overdue),
        median=_tenths(statistics.median(j.cycle.median_days for j in judged)) if judged else None,
        weeks=weeks,
    )


def _histogram(weeks: list[int]) -> tuple[list[str], list[int]]:
    """The chart's bars: buyers per median cycle, in buckets of a week up to the last one
    holding any (the last bucket holds every longer cycle); none without buyers."""
    counts = list(weeks)
    if not any(counts):
        return [], []
    while len(counts) > 1 and counts[-1] == 0:
        counts.pop()
    labels = [f"{week * 7}–{week * 7 + 6}" for week in range(len(counts))]
    if len(counts) == HISTOGRAM_BUCKETS:
        labels[-1] = f"{(HISTOGRAM_BUCKETS - 1) * 7}+"
    return labels, counts


@report(
    number=7,
    slug="purchase-cycle",
    title=_("Purchase cycle"),
    summary=_(
        "Each buyer's usual days between orders, and the buyers overdue against their own "
        "cycle: the list to call this week."
    ),
    audiences={Audience.SALES},
    filters={Filter.COUNTRY, Filter.SALESPERSON, Filter.LEVEL},
)
def purchase_cycle(query: ReportQuery) -> ReportResult:
    end = query.period.end
    found = call_list(query)
    details = _buyer_details(j.cycle.member_id for j in found.shown)
    rows = []
    for judged in found.shown:
        cycle = judged.cycle
        buyer = details.get(cycle.member_id, {})
        rows.append(
            {
                "company": buyer.get("company", ""),
                "country": buyer.get("country", ""),
                "salesperson": buyer.get("salesperson", ""),
                "orders": cycle.orders,
                "cycle": cycle.median_days,
                "last_order": cycle.last_day,
                "since": judged.since,
                "overdue_by": (
                    (Decimal(judged.since) - cycle.median_days) if judged.overdue else None
                ),
            }
        )
    labels, counts = _histogram(found.weeks)
    notes = [
        gettext(
            "A buyer has a cycle once they have ordered on at least %(n)s different days up to "
            "%(end)s (orders paid the same day count as one purchase). They are overdue when "
            "the days since their last order pass %(factor)s times their median cycle, and at "
            "least %(min)s days."
        )
        % {
            "n": CYCLE_MIN_PURCHASES,
            "end": end.isoformat(),
            "factor": OVERDUE_FACTOR,
            "min": OVERDUE_MIN_DAYS,
        }
    ]
    if found.buyers > CALL_LIST_ROWS:
        notes.append(
            gettext("The table shows the first %(shown)s of %(total)s buyers.")
            % {"shown": CALL_LIST_ROWS, "total": found.buyers}
        )
    return ReportResult(
        columns=[
            Column("company", _("Company"), Kind.TEXT),
            Column("country", _("Country"), Kind.TEXT),
            Column("salesperson", _("Salesperson"), Kind.TEXT),
            Column("orders", _("Orders"), Kind.INT),
            Column("cycle", _("Median cycle (days)"), Kind.DECIMAL),
            Column("last_order", _("Last order"), Kind.DATE),
            Column("since", _("Days since"), Kind.INT),
            Column("overdue_by", _("Overdue by (days)"), Kind.DECIMAL),
        ],
        rows=rows,
        cards=[
            Card(_("Buyers with a cycle"), found.buyers, Kind.INT),
            Card(_("Overdue buyers"), found.overdue, Kind.INT),
            Card(_("Median cycle across buyers"), found.median, Kind.DAYS),
        ],
        chart=Chart("bar", labels, [Series(gettext("Buyers by median cycle (days)"), counts)]),
        notes=notes,
    )


# Report 9: favourite styles ----------------------------------------------------------------

STYLE_BUYERS = 100
OPTIONS_SHOWN = 3  # option values listed per buyer
CATEGORIES_SHOWN = 3
CHART_OPTIONS = 10
OPTION_FIELDS = ("option1_name", "option2_name", "option3_name", "option1", "option2", "option3")


def _variant_units(summed: QuerySet, *group: str) -> list[dict]:
    """The rows of `summed` (units per variant, and per `group` such as the buyer: a
    values(…).annotate(units=…) query) with each variant's category name and option names and
    values. The units are summed by ids alone first; the few thousand sums are then joined to
    the catalog, so the grouping never carries the option texts of a million lines. One
    query."""
    q = connection.ops.quote_name
    keys = [*group, "variant_id"]
    try:
        sql, params = summed.query.sql_with_params()
    except EmptyResultSet:  # e.g. the lines of no buyer at all
        return []
    variant, product, category = (q(model._meta.db_table) for model in (Variant, Product, Category))
    picked = ", ".join(f"s.{q(key)}" for key in keys)
    with connection.cursor() as cursor:
        cursor.execute(  # the inner SQL is the ORM's, its values are parameters; names are ours
            f"""
            SELECT {picked}, s.{q("units")}, c.{q("name")},
                   p.{q("option1_name")}, p.{q("option2_name")}, p.{q("option3_name")},
                   v.{q("option1")}, v.{q("option2")}, v.{q("option3")}
            FROM ({sql}) s
            JOIN {variant} v ON v.{q("id")} = s.{q("variant_id")}
            JOIN {product} p ON p.{q("id")} = v.{q("product_id")}
            LEFT JOIN {category} c ON c.{q("id")} = p.{q("category_id")}
            """,  # noqa: S608
            params,
        )
        names = [*keys, "units", "category", *OPTION_FIELDS]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _top_buyers(query: ReportQuery) -> list[dict]:
    """The STYLE_BUYERS buyers of the period with the most revenue: order__member_id, revenue,
    units, and buyers (how many bought at all), chosen in the database from the buyer rollup
    (analytics.rollups), narrowed through the buyers' records as the sources are. One query."""
    rows = BuyerSalesDay.objects.filter(
        day__gte=query.period.start, day__lte=query.period.end
    ).order_by()
    if query.category_ids:
        rows = rows.filter(category_id__in=query.category_ids)
    rows = buyer_narrowed(rows, query, distributor="member__distributor")
    return list(
        rows.values(order__member_id=F("member_id"))
        .annotate(revenue=Sum("revenue"), units=Sum("units"), buyers=Window(Count("*")))
        .order_by("-revenue", "member_id")[:STYLE_BUYERS]
    )


def _option_labels(row) -> list[str]:
    """A variant's option values as "Colour: Red", "Size: M" (the product names the option)."""
    labels = []
    for slot in (1, 2, 3):
        value = row[f"option{slot}"]
        if value:
            name = row[f"option{slot}_name"]
            labels.append(f"{name}: {value}" if name else value)
    return labels


def _ranked(units_by_label: dict[str, int]) -> list[tuple[int, str]]:
    """(units, label), most units first; ties alphabetically, so the page reads the same
    every time."""
    return sorted(
        ((units, label) for label, units in units_by_label.items()), key=lambda i: (-i[0], i[1])
    )


def _shares(ranked_items, units: int) -> str:
    return ", ".join(f"{label} {_percent(n, units)} %" for n, label in ranked_items)


@report(
    number=9,
    slug="favourite-styles",
    title=_("Favourite styles"),
    summary=_("The categories and the options (colour, size) each buyer buys most."),
    audiences={Audience.SALES},
    filters={Filter.COUNTRY, Filter.SALESPERSON, Filter.LEVEL, Filter.CATEGORY},
)
def favourite_styles(query: ReportQuery) -> ReportResult:
    """Units are summed per variant in the database (per buyer and variant for the top
    buyers); a variant's category and options are then folded together here, over variants,
    never over lines. The top buyers come from the buyer rollup and their variants from the
    order lines; the Units card and the chart, which take in every buyer, read the variant
    rollup (a million lines summed per variant would cost more than the rest of the page). Four
    queries: the top buyers, their variants, everyone's variants, the buyers' names."""
    lines = sales_lines(query)
    top = _top_buyers(query)
    categories: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    # The same value may sit in different slots of different products (a shirt's second
    # option, a cap's first): merged by its label.
    options: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    mine = lines.filter(order__member_id__in=[row["order__member_id"] for row in top])
    by_buyer = mine.values("order__member_id", "variant_id").annotate(units=Sum(LINE_UNITS))
    for row in _variant_units(by_buyer, "order__member_id"):
        buyer, units = row["order__member_id"], int(row["units"] or 0)
        categories[buyer][row["category"]] += units
        for label in _option_labels(row):
            options[buyer][label] += units
    overall: dict[str, int] = defaultdict(int)
    total_units = 0
    # Units per variant from the whole months' rollup and the edge days' (sales_parts): a
    # variant may come twice, and is added up here anyway.
    first, *more = (
        rows.values("variant_id").annotate(units=Sum("units"))
        for rows in sales_parts(query, variants=True)
    )
    for row in _variant_units(first.union(*more, all=True) if more else first):
        units = int(row["units"] or 0)
        total_units += units
        for label in _option_labels(row):
            overall[label] += units

    details = _buyer_details(row["order__member_id"] for row in top)
    rows = []
    for row in top:
        buyer = row["order__member_id"]
        units = int(row["units"] or 0)
        their_categories = _ranked(categories[buyer])
        first = their_categories[0] if their_categories else (0, "")
        rows.append(
            {
                "company": details.get(buyer, {}).get("company", ""),
                "country": details.get(buyer, {}).get("country", ""),
                "revenue": (row["revenue"] or ZERO).quantize(ZERO),
                "units": units,
                "category": first[1],
                "category_share": _percent(first[0], units),
                "other_categories": _shares(their_categories[1:CATEGORIES_SHOWN], units),
                "options": _shares(_ranked(options[buyer])[:OPTIONS_SHOWN], units),
            }
        )
    favourites = _ranked(overall)[:CHART_OPTIONS]
    notes = [
        gettext(
            "The %(n)s buyers with the most revenue in the period. Shares are of the buyer's "
            "units; a variant counts towards each of its options (its size and its colour). "
            "Which buyers are listed, the Units card and the chart read the daily rollups, "
            "which refresh hourly."
        )
        % {"n": STYLE_BUYERS}
    ]
    return ReportResult(
        columns=[
            Column("company", _("Buyer"), Kind.TEXT),
            Column("country", _("Country"), Kind.TEXT),
            Column("revenue", _("Revenue"), Kind.MONEY),
            Column("units", _("Units"), Kind.INT),
            Column("category", _("Top category"), Kind.TEXT),
            Column("category_share", _("Top category share"), Kind.PERCENT),
            Column("other_categories", _("Other categories"), Kind.TEXT),
            Column("options", _("Top option values"), Kind.TEXT),
        ],
        rows=rows,
        cards=[
            Card(_("Buyers"), top[0]["buyers"] if top else 0, Kind.INT),
            Card(_("Units"), total_units, Kind.INT),
            Card(
                _("Most bought option value"),
                favourites[0][1] if favourites else None,
                Kind.TEXT,
            ),
        ],
        chart=Chart(
            "hbar",
            [label for _units, label in favourites],
            [Series(gettext("Units"), [units for units, _label in favourites])],
        ),
        notes=notes,
    )


# Report 10: retention ----------------------------------------------------------------------

COHORT_MONTHS = 12  # columns m0 … m11, and the default span of cohorts


def _months_between(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def cohort_months(period: Period) -> list[date]:
    """The cohorts shown: the twelve months up to the period's end, or the period's months if
    it is longer."""
    last = period.end.replace(day=1)
    first = min(month_add(last, 1 - COHORT_MONTHS), period.start.replace(day=1))
    return [month_add(first, n) for n in range(_months_between(first, last) + 1)]


def cohort_activity(query: ReportQuery) -> dict[date, dict[int, tuple[int, int]]]:
    """{cohort month: {months after it: (buyers who ordered then, of them with 2+ orders)}},
    a cohort being the month of a buyer's first sale order; up to the period's end. One query
    (window functions over buyer-months)."""
    zone = timezone.get_current_timezone()
    sql, params = (
        _history(query)
        .annotate(buyer=F("member_id"), month=TruncMonth("paid_at", tzinfo=zone))
        .values("buyer", "month")
        .annotate(orders=Count("pk"))
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(  # the inner SQL is the ORM's, its values are parameters
            f"""
            SELECT cohort, month, COUNT(*), SUM(CASE WHEN lifetime >= 2 THEN 1 ELSE 0 END)
            FROM (
                SELECT buyer, month,
                       MIN(month) OVER (PARTITION BY buyer) AS cohort,
                       SUM(orders) OVER (PARTITION BY buyer) AS lifetime
                FROM ({sql}) AS buyer_month
            ) AS placed
            GROUP BY cohort, month
            """,  # noqa: S608
            params,
        )
        found: dict[date, dict[int, tuple[int, int]]] = defaultdict(dict)
        for cohort, month, buyers, repeaters in cursor.fetchall():
            start = _day(cohort)
            found[start][_months_between(start, _day(month))] = (int(buyers), int(repeaters))
    return found


@report(
    number=10,
    slug="retention",
    title=_("Retention"),
    summary=_(
        "Buyers grouped by the month of their first order: how many order again in each "
        "following month, and how many ever order twice."
    ),
    audiences={Audience.FINANCE},
    filters={Filter.COUNTRY, Filter.LEVEL},
)
def retention(query: ReportQuery) -> ReportResult:
    activity = cohort_activity(query)
    last_month = query.period.end.replace(day=1)
    rows = []
    total = repeaters = next_month_base = next_month = 0
    for cohort in cohort_months(query.period):
        months = activity.get(cohort, {})
        buyers, repeat = months.get(0, (0, 0))
        row = {
            "cohort": cohort.strftime("%Y-%m"),
            "buyers": buyers,
            "repeat": _percent(repeat, buyers),
        }
        for offset in range(COHORT_MONTHS):
            seen = month_add(cohort, offset) <= last_month
            row[f"m{offset}"] = _percent(months.get(offset, (0, 0))[0], buyers) if seen else None
        rows.append(row)
        total += buyers
        repeaters += repeat
        if buyers and month_add(cohort, 1) <= last_month:
            next_month_base += buyers
            next_month += months.get(1, (0, 0))[0]
    notes = [
        gettext(
            "A buyer's cohort is the month of their first sale order ever; later months count "
            "the cohort's buyers who ordered in them, up to %(end)s (its month may be partial). "
            "Repeat rate: the share of the cohort with two orders or more by then."
        )
        % {"end": query.period.end.isoformat()}
    ]
    return ReportResult(
        columns=[
            Column("cohort", _("First order month"), Kind.TEXT),
            Column("buyers", _("Buyers"), Kind.INT),
            Column("repeat", _("Repeat rate"), Kind.PERCENT),
            *(Column(f"m{n}", f"m{n}", Kind.PERCENT) for n in range(COHORT_MONTHS)),
        ],
        rows=rows,
        cards=[
            Card(_("New buyers"), total, Kind.INT),
            Card(_("Repeat-purchase rate"), _percent(repeaters, total), Kind.PERCENT),
            Card(
                _("Ordered again the next month"),
                _percent(next_month, next_month_base),
                Kind.PERCENT,
            ),
        ],
        chart=Chart(
            "bar",
            [row["cohort"] for row in rows],
            [Series(gettext("Repeat rate (%)"), [row["repeat"] or 0 for row in rows])],
        ),
        notes=notes,
    )


# Report 11: at-risk buyers -----------------------------------------------------------------

TRAILING_DAYS = 365
RISK_DROP = Decimal("0.5")  # spend at or below half the buyer's own average
RISK_FLOOR = Decimal("100")  # trailing average per window, base currency: smaller buyers are noise
RISK_ROWS = 200
RISK_CHART = 10


def buyers_at_risk(query: ReportQuery) -> list[dict]:
    """Buyers whose spend in the period fell to half or less of their average over windows of
    the same length in the 365 days before it, that average being at least RISK_FLOOR; the
    biggest loss first. One query, grouped by buyer alone (their names are read for the rows
    shown only)."""
    period = query.period
    since = period.start - timedelta(days=TRAILING_DAYS)
    start, _end = period.bounds()
    money = DecimalField(max_digits=18, decimal_places=6)
    return list(
        sales_orders(query, Period(since, period.end))
        .values("member_id")
        .annotate(
            before=Coalesce(Sum(ORDER_NET, filter=Q(paid_at__lt=start)), ZERO, output_field=money),
            now=Coalesce(Sum(ORDER_NET, filter=Q(paid_at__gte=start)), ZERO, output_field=money),
            last=Max("paid_at"),
        )
        .annotate(
            average=ExpressionWrapper(
                F("before") * Value(period.days) / Value(TRAILING_DAYS), output_field=money
            )
        )
        .annotate(lost=ExpressionWrapper(F("average") - F("now"), output_field=money))
        .filter(average__gte=RISK_FLOOR, now__lte=F("average") * RISK_DROP)
        .order_by("-lost", "member_id")
    )


@report(
    number=11,
    slug="at-risk",
    title=_("At-risk buyers"),
    summary=_(
        "Buyers whose spend in the period dropped by half or more against their own average "
        "of the year before."
    ),
    audiences={Audience.SALES},
    filters={Filter.COUNTRY, Filter.SALESPERSON, Filter.LEVEL},
)
def at_risk(query: ReportQuery) -> ReportResult:
    found = buyers_at_risk(query)
    at_stake = sum(
        (row["average"].quantize(ZERO) - row["now"].quantize(ZERO) for row in found), start=ZERO
    )
    details = _buyer_details(row["member_id"] for row in found[:RISK_ROWS])
    rows = []
    for row in found[:RISK_ROWS]:
        average = row["average"].quantize(ZERO)
        now = row["now"].quantize(ZERO)
        buyer = details.get(row["member_id"], {})
        rows.append(
            {
                "company": buyer.get("company", ""),
                "country": buyer.get("country", ""),
                "salesperson": buyer.get("salesperson", ""),
                "average": average,
                "now": now,
                "drop": _percent(average - now, average),
                "lost": average - now,
                "last_order": timezone.localtime(row["last"]).date(),
            }
        )
    charted = rows[:RISK_CHART]
    notes = [
        gettext(
            "The window is the period you pick (%(days)s days): choose a quarter to judge "
            "buyers who order monthly. Their average is their spend over the %(trailing)s days "
            "before it, scaled to the window's length; buyers averaging under %(floor)s are "
            "left out. Lost revenue: the average less the spend in the window."
        )
        % {"days": query.period.days, "trailing": TRAILING_DAYS, "floor": RISK_FLOOR}
    ]
    if len(found) > RISK_ROWS:
        notes.append(
            gettext("The table shows the first %(shown)s of %(total)s buyers.")
            % {"shown": RISK_ROWS, "total": len(found)}
        )
    return ReportResult(
        columns=[
            Column("company", _("Company"), Kind.TEXT),
            Column("country", _("Country"), Kind.TEXT),
            Column("salesperson", _("Salesperson"), Kind.TEXT),
            Column("average", _("Usual spend per window"), Kind.MONEY),
            Column("now", _("Spend in the period"), Kind.MONEY),
            Column("drop", _("Drop"), Kind.PERCENT),
            Column("lost", _("Lost revenue"), Kind.MONEY),
            Column("last_order", _("Last order"), Kind.DATE),
        ],
        rows=rows,
        cards=[
            Card(_("Buyers at risk"), len(found), Kind.INT),
            Card(_("Revenue at risk"), at_stake, Kind.MONEY),
        ],
        chart=Chart(
            "bar",
            [row["company"] for row in charted],
            [
                Series(gettext("Usual spend per window"), [row["average"] for row in charted]),
                Series(gettext("Spend in the period"), [row["now"] for row in charted]),
            ],
            money=True,
        ),
        notes=notes,
    )
