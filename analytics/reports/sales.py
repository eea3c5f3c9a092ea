"""Report 1, the sales overview: revenue, orders, buyers and average order value per day, week
or month, against the comparison period."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from ..access import Audience
from ..buckets import as_day, labels_of, trunc
from ..periods import bucket_label, buckets
from ..query import ReportQuery
from ..registry import Filter, report
from ..results import Card, Chart, Column, Kind, ReportResult, Series
from ..sources import ORDER_NET, sales_orders

ZERO = Decimal("0.00")


def _totals(orders) -> dict:
    row = orders.aggregate(
        revenue=Sum(ORDER_NET), orders=Count("pk"), buyers=Count("member_id", distinct=True)
    )
    revenue = (row["revenue"] or ZERO).quantize(ZERO)
    return {
        "revenue": revenue,
        "orders": row["orders"],
        "buyers": row["buyers"],
        "average": (revenue / row["orders"]).quantize(ZERO) if row["orders"] else ZERO,
    }


def _per_bucket(orders, grain) -> dict:
    rows = (
        orders.annotate(bucket=trunc("paid_at", grain))
        .values("bucket")
        .annotate(
            revenue=Sum(ORDER_NET), orders=Count("pk"), buyers=Count("member_id", distinct=True)
        )
    )
    return {as_day(row["bucket"]): row for row in rows}


@report(
    number=1,
    slug="sales",
    title=_("Sales overview"),
    summary=_("Revenue, orders, buyers and average order value over time, against a period."),
    audiences={Audience.FINANCE, Audience.SALES},
    filters={Filter.GRAIN, Filter.COUNTRY, Filter.SALESPERSON, Filter.LEVEL},
)
def sales_overview(query: ReportQuery) -> ReportResult:
    current = sales_orders(query)
    totals = _totals(current)
    before = _totals(sales_orders(query, query.compare)) if query.compare else None
    found = _per_bucket(current, query.grain)
    days = buckets(query.period, query.grain)
    rows = []
    for day in days:
        row = found.get(day) or {"revenue": ZERO, "orders": 0, "buyers": 0}
        revenue = (row["revenue"] or ZERO).quantize(ZERO)
        rows.append(
            {
                "bucket": bucket_label(day, query.grain),
                "revenue": revenue,
                "orders": row["orders"],
                "buyers": row["buyers"],
                "average": (revenue / row["orders"]).quantize(ZERO) if row["orders"] else None,
            }
        )
    series = [Series(str(_("Revenue")), [row["revenue"] for row in rows])]
    if query.compare:
        earlier = _per_bucket(sales_orders(query, query.compare), query.grain)
        earlier_days = buckets(query.compare, query.grain)
        values = [(earlier.get(day) or {}).get("revenue") or ZERO for day in earlier_days]
        values = (values + [ZERO] * len(days))[: len(days)]
        for row, value in zip(rows, values, strict=True):
            row["revenue_before"] = value.quantize(ZERO)
        series.append(Series(str(_("Revenue, comparison period")), values, compare=True))

    def card(label, key, kind):
        return Card(label, totals[key], kind, before[key] if before else None)

    columns = [
        Column("bucket", _("Period"), Kind.TEXT),
        Column("revenue", _("Revenue"), Kind.MONEY),
        Column("orders", _("Orders"), Kind.INT),
        Column("buyers", _("Buyers"), Kind.INT),
        Column("average", _("Average order"), Kind.MONEY),
    ]
    if query.compare:
        columns.append(Column("revenue_before", _("Revenue, comparison"), Kind.MONEY))
    return ReportResult(
        columns=columns,
        rows=rows,
        cards=[
            card(_("Revenue"), "revenue", Kind.MONEY),
            card(_("Orders"), "orders", Kind.INT),
            card(_("Buyers"), "buyers", Kind.INT),
            card(_("Average order value"), "average", Kind.MONEY),
        ],
        chart=Chart("line", labels_of(query.period, query.grain), series, money=True),
    )
