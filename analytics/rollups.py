"""The daily rollup tables the heavier reports read (analytics.models: sales per product,
variant and buyer, product views and cart additions, searches, and orders and payments per
placing day), rebuilt a day at a time, and the monthly ones summed from the sales per product
and variant (ProductSalesMonth, VariantSalesMonth), rebuilt for every month one of the rebuilt
days falls in.

A day is rebuilt by deleting its rows and inserting the aggregate again, in one transaction
per batch of days, with INSERT ... SELECT: the database does the grouping, so a year of a
million order lines rebuilds without the rows passing through Python. The SELECT is the ORM's
own SQL (compiled for the connection), so the same code runs on PostgreSQL and on the demo's
SQLite.

Which days: every refresh rebuilds the days due, and the days it is given on top of them:
- the days touched by orders changed since the last finished run: the day an order was paid
  on (an order cancelled or refunded later changes that day's sales), the day it was placed on
  (the payments rollup counts orders by it) and the days of the search window before that (a
  search there "led to an order" once the order became a sale, and no longer does once it is
  cancelled). A partial refund changes the lines and the order's total with UPDATEs that leave
  Order.updated_at alone, so a refund created since then counts as a change of its order too,
  and so does a payment changed since then (a declined card is noted on the payment alone);
- every day from the last run's last day (or the day MARGIN before it started, if earlier; the
  first time: the earliest order, sale, view, cart addition or search) to today.
"Since the last run" reaches back MARGIN before that run started: a change committed by a
transaction that was still open when the run read the tables, or a view flushed late from
Redis (catalog.services buffers them), is picked up by the next run rather than lost.

Given days never replace the days due: every finished run is a point from which the next looks
for changes, so each run must also have caught up with everything changed before it started.

Rebuilding is idempotent (a rerun writes the same rows). Two refreshes at once would each
delete and insert the same day and double its rows, so on PostgreSQL a refresh holds an
advisory lock: the second one waits, then works out its days afresh (few, as the first has just
run). SQLite serialises writing transactions by itself.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Case, Count, F, Min, Q, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from catalog.models import CartAddition, ProductView, SearchLog
from orders.models import Order, OrderLine, Payment, Refund

from .models import (
    BuyerSalesDay,
    PaymentDay,
    ProductActivityDay,
    ProductSalesDay,
    ProductSalesMonth,
    RollupRun,
    SearchDay,
    VariantSalesDay,
    VariantSalesMonth,
)
from .periods import month_add
from .sources import (
    FAILED,
    LINE_NET,
    LINE_UNITS,
    ORDER_NET,
    SALE,
    SALE_STATES,
    SEARCH_ORDER_WINDOW,
    SUCCEEDED,
    led_to_order,
)

logger = logging.getLogger(__name__)

BATCH_DAYS = 31  # days rebuilt per transaction: about a month of lines per INSERT
MARGIN = timedelta(minutes=30)
ANALYZE_ROWS = 50_000  # a rebuild writing this many rows refreshes the planner's statistics
LOCK_KEY = zlib.crc32(b"analytics.rollups")  # the PostgreSQL advisory lock's key


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _runs(days: list[date]) -> Iterator[tuple[date, date]]:
    """Sorted days as runs of consecutive days, (first, last)."""
    first = previous = None
    for day in days:
        if first is None:
            first = previous = day
        elif day == previous + timedelta(days=1):
            previous = day
        else:
            yield first, previous
            first = previous = day
    if first is not None:
        yield first, previous


def _within(field: str, days: list[date]) -> Q:
    """`field` (a datetime) falls on one of `days`, as ranges an index can use."""
    found = Q()
    for first, last in _runs(days):
        found |= Q(
            **{
                f"{field}__gte": _day_start(first),
                f"{field}__lt": _day_start(last + timedelta(days=1)),
            }
        )
    return found


def _days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _earliest_day() -> date | None:
    """The first day anything was ordered, sold, viewed, put in a cart or searched for, or
    holds rollup rows."""
    zone = timezone.get_current_timezone()
    found = [
        Order.objects.aggregate(at=Min("placed_at"))["at"],
        Order.objects.filter(paid_at__isnull=False).aggregate(at=Min("paid_at"))["at"],
        ProductView.objects.aggregate(at=Min("viewed_at"))["at"],
        CartAddition.objects.aggregate(at=Min("added_at"))["at"],
        SearchLog.objects.aggregate(at=Min("searched_at"))["at"],
    ]
    days = [timezone.localtime(at, zone).date() for at in found if at is not None]
    # Days still holding rows are rebuilt too, so rows whose orders are gone are cleared.
    for model in DAILY:
        day = model.objects.aggregate(day=Min("day"))["day"]
        if day is not None:
            days.append(day)
    return min(days) if days else None


def rollup_days_all(*, today: date) -> list[date]:
    """Every day from the earliest order, sale, view, cart addition, search or rollup row to
    `today`."""
    first = _earliest_day()
    return _days_between(first, today) if first and first <= today else []


# The searches an order may follow lie within the window before it was placed: one more day,
# for a window that crosses a change of the clocks.
SEARCH_DAYS = timedelta(days=SEARCH_ORDER_WINDOW.days + 1)


def _changed_days(since: datetime) -> set[date]:
    """The days whose rows changes made after `since` touch (see the module docstring)."""
    zone = timezone.get_current_timezone()

    def days_of(rows, order: str):
        return (
            rows.order_by()
            .annotate(
                paid_day=TruncDate(f"{order}paid_at", tzinfo=zone),
                placed_day=TruncDate(f"{order}placed_at", tzinfo=zone),
            )
            .values_list("paid_day", "placed_day")
        )

    changed = days_of(Order.objects.filter(updated_at__gt=since), "")
    refunded = days_of(Refund.objects.filter(created_at__gt=since), "order__")
    tried = days_of(Payment.objects.filter(updated_at__gt=since), "order__")
    days: set[date] = set()
    for paid_day, placed_day in changed.union(refunded, tried):  # distinct pairs of days
        if paid_day is not None:
            days.add(paid_day)
        days.update(_days_between(placed_day - SEARCH_DAYS, placed_day))
    return days


def rollup_days_due(*, today: date) -> list[date]:
    """The days a refresh without days rebuilds (see the module docstring)."""
    last = RollupRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()
    if last is None:
        return rollup_days_all(today=today)
    since = last.started_at - MARGIN
    days = _changed_days(since)
    start = min(last.last_day or _local_day(since), _local_day(since))
    days.update(_days_between(start, today) if start <= today else [])
    return sorted(day for day in days if day <= today)


def _grouped_sales(days: list[date], *, item: str, orders):
    """Sale order lines of `days` (units net of refunds; a line given back whole sold
    nothing), grouped by paid day, `item` (the product or the variant), the product's category
    and the buyer's group, with `orders` counting the orders."""
    zone = timezone.get_current_timezone()
    lines = (
        OrderLine.objects.filter(_within("order__paid_at", days), order__state__in=SALE_STATES)
        .filter(quantity__gt=F("refunded_quantity"))
        .order_by()
    )
    distributor = "order__member__distributor"
    return lines.values(
        day=TruncDate("order__paid_at", tzinfo=zone),
        item=F(item),
        category=F("variant__product__category_id"),
        buyer_country=Coalesce(F(f"{distributor}__country"), Value("")),
        salesperson=F(f"{distributor}__owner_id"),
        level=F(f"{distributor}__level_id"),
    ).annotate(units=Sum(LINE_UNITS), revenue=Sum(LINE_NET), order_count=orders)


def _sales_select(days: list[date]):
    """The ProductSalesDay rows of `days`, as a query."""
    return _grouped_sales(days, item="variant__product_id", orders=Count("order_id", distinct=True))


def _variant_select(days: list[date]):
    """The VariantSalesDay rows of `days`: a variant is on an order once, so its lines are
    its orders."""
    return _grouped_sales(days, item="variant_id", orders=Count("pk"))


def _buyer_select(days: list[date]):
    """The BuyerSalesDay rows of `days`: sale order lines per paid day, buyer and category.
    Lines given back whole are kept (at 0 units), so every buyer with a sale that day has a
    row, as the live count of buyers has."""
    zone = timezone.get_current_timezone()
    lines = OrderLine.objects.filter(
        _within("order__paid_at", days), order__state__in=SALE_STATES
    ).order_by()
    return lines.values(
        day=TruncDate("order__paid_at", tzinfo=zone),
        buyer=F("order__member_id"),
        category=F("variant__product__category_id"),
    ).annotate(units=Sum(LINE_UNITS), revenue=Sum(LINE_NET))


BUYER_COLUMNS = {  # BuyerSalesDay's column: the alias in _buyer_select
    "day": "day",
    "member_id": "buyer",
    "category_id": "category",
    "units": "units",
    "revenue": "revenue",
}


def _activity_select(model, field: str, days: list[date]):
    zone = timezone.get_current_timezone()
    return (
        model.objects.filter(_within(field, days))
        .order_by()
        .values(day=TruncDate(field, tzinfo=zone), item=F("product_id"))
        .annotate(events=Count("pk"))
    )


SALES_COLUMNS = {  # ProductSalesDay's column: the alias in _sales_select
    "day": "day",
    "product_id": "item",
    "category_id": "category",
    "country": "buyer_country",
    "salesperson_id": "salesperson",
    "level_id": "level",
    "units": "units",
    "revenue": "revenue",
    "orders": "order_count",
}


def _insert_from(model, columns: list[str], select: str, params) -> int:
    """INSERT INTO the model's table (columns) the rows of `select`; the rows written. Only
    our own table and column names and the ORM's compiled SQL go into the text; every value
    is a parameter."""
    q = connection.ops.quote_name
    names = ", ".join(q(column) for column in columns)
    sql = f"INSERT INTO {q(model._meta.db_table)} ({names}) {select}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _insert_grouped(model, columns: dict[str, str], queryset) -> int:
    """INSERT INTO the model's `columns` the rows of the grouped `queryset` (each column
    filled from its alias there); the rows written."""
    q = connection.ops.quote_name
    select, params = queryset.query.sql_with_params()
    picked = ", ".join(f"s.{q(alias)}" for alias in columns.values())
    return _insert_from(
        model,
        list(columns),
        f"SELECT {picked} FROM ({select}) s",  # noqa: S608 - compiled ORM SQL, values are parameters
        params,
    )


def _insert_merged(model, keys: dict[str, str], parts: list[tuple[object, dict[str, str]]]) -> int:
    """INSERT INTO the model the rows of grouped querysets that share the `keys` (column: its
    alias in each queryset) but count different figures (each part's column: alias), merged
    into one row per key: a figure is summed over the part that counts it, 0 where no part
    has it. The rows written."""
    q = connection.ops.quote_name
    figures = [column for _rows, counted in parts for column in counted]
    selects, params = [], []
    for rows, counted in parts:
        sql, part_params = rows.query.sql_with_params()
        picked = [f"p.{q(alias)} AS {q(column)}" for column, alias in keys.items()]
        picked += [
            f"p.{q(counted[column])} AS {q(column)}" if column in counted else f"0 AS {q(column)}"
            for column in figures
        ]
        selects.append(f"SELECT {', '.join(picked)} FROM ({sql}) p")  # noqa: S608 - compiled ORM SQL
        params.extend(part_params)
    grouped = ", ".join(f"u.{q(column)}" for column in keys)
    summed = ", ".join(f"COALESCE(SUM(u.{q(column)}), 0)" for column in figures)
    select = (
        f"SELECT {grouped}, {summed} FROM ({' UNION ALL '.join(selects)}) u "  # noqa: S608 - compiled ORM SQL, values are parameters
        f"GROUP BY {grouped}"
    )
    return _insert_from(model, [*keys, *figures], select, params)


VARIANT_COLUMNS = {("variant_id" if c == "product_id" else c): a for c, a in SALES_COLUMNS.items()}


def _sales_insert(days: list[date]) -> int:
    return _insert_grouped(ProductSalesDay, SALES_COLUMNS, _sales_select(days))


def _variant_insert(days: list[date]) -> int:
    return _insert_grouped(VariantSalesDay, VARIANT_COLUMNS, _variant_select(days))


def _buyer_insert(days: list[date]) -> int:
    return _insert_grouped(BuyerSalesDay, BUYER_COLUMNS, _buyer_select(days))


def _activity_insert(days: list[date]) -> int:
    """Views and cart additions per day and product, one row for both (a product only put in
    carts, or only viewed, gets a row too)."""
    return _insert_merged(
        ProductActivityDay,
        {"day": "day", "product_id": "item"},
        [
            (_activity_select(ProductView, "viewed_at", days), {"views": "events"}),
            (_activity_select(CartAddition, "added_at", days), {"cart_adds": "events"}),
        ],
    )


def _search_insert(days: list[date]) -> int:
    """Searches per day, term and searcher (a member, else a visitor's session), with those
    that found nothing and those the member followed with a sale (led_to_order)."""
    zone = timezone.get_current_timezone()
    searches = (
        SearchLog.objects.filter(_within("searched_at", days))
        .order_by()
        .annotate(led=led_to_order())
        .values(
            "term",
            day=TruncDate("searched_at", tzinfo=zone),
            searcher=F("member_id"),
            visitor=Case(When(member_id__isnull=True, then=F("session_key")), default=Value("")),
        )
        .annotate(
            search_count=Count("pk"),
            empty_count=Count("pk", filter=Q(results=0)),
            ordered_count=Count("pk", filter=Q(led=True)),
        )
    )
    return _insert_grouped(
        SearchDay,
        {
            "day": "day",
            "term": "term",
            "member_id": "searcher",
            "session_key": "visitor",
            "searches": "search_count",
            "no_results": "empty_count",
            "ordered": "ordered_count",
        },
        searches,
    )


def _placed_select(rows, days: list[date], *, placed_at: str, method: str, currency: str):
    """`rows` (orders or payments) of the orders placed on `days`, grouped by placing day,
    `method`, `currency` and the buyer's country."""
    zone = timezone.get_current_timezone()
    country = placed_at.replace("placed_at", "member__distributor__country")
    return (
        rows.filter(_within(placed_at, days))
        .order_by()
        .values(
            day=TruncDate(placed_at, tzinfo=zone),
            pay_method=F(method),
            pay_currency=F(currency),
            buyer_country=Coalesce(F(country), Value("")),
        )
    )


def _payment_insert(days: list[date]) -> int:
    """Orders placed per day, method, currency and country, and their payment attempts, in
    one row per group (a group may have attempts and no order: a buyer who tried a card, then
    chose a transfer)."""
    orders = _placed_select(
        Order.objects, days, placed_at="placed_at", method="payment_method", currency="currency"
    ).annotate(
        order_count=Count("pk"),
        paid_count=Count("pk", filter=SALE),
        sale_revenue=Sum(ORDER_NET, filter=SALE),
    )
    tried = _placed_select(
        Payment.objects,
        days,
        placed_at="order__placed_at",
        method="method",
        currency="order__currency",
    ).annotate(
        payment_count=Count("pk"),
        succeeded_count=Count("pk", filter=SUCCEEDED),
        failed_count=Count("pk", filter=FAILED),
    )
    return _insert_merged(
        PaymentDay,
        {
            "day": "day",
            "method": "pay_method",
            "currency": "pay_currency",
            "country": "buyer_country",
        },
        [
            (orders, {"orders": "order_count", "paid": "paid_count", "revenue": "sale_revenue"}),
            (
                tried,
                {
                    "payments": "payment_count",
                    "succeeded": "succeeded_count",
                    "failed": "failed_count",
                },
            ),
        ],
    )


DAILY = (
    ProductSalesDay,
    VariantSalesDay,
    BuyerSalesDay,
    ProductActivityDay,
    SearchDay,
    PaymentDay,
)


def _rebuild(days: list[date]) -> int:
    """Delete and rebuild `days` in every daily table, in one transaction; the rows
    written."""
    with transaction.atomic():
        for model in DAILY:
            model.objects.filter(day__in=days).delete()
        return (
            _sales_insert(days)
            + _variant_insert(days)
            + _buyer_insert(days)
            + _activity_insert(days)
            + _search_insert(days)
            + _payment_insert(days)
        )


MONTH_COLUMNS = {  # ProductSalesMonth's column: the alias in _month_select
    "month": "month",
    "product_id": "item",
    "category_id": "category",
    "units": "units",
    "revenue": "revenue",
    "orders": "order_count",
}
VARIANT_MONTH_COLUMNS = {
    ("variant_id" if c == "product_id" else c): a for c, a in MONTH_COLUMNS.items()
}


def _months_of(days: Iterable[date]) -> list[date]:
    """The first days of the calendar months `days` fall in."""
    return sorted({day.replace(day=1) for day in days})


def _month_select(model, item: str, months: list[date]):
    """The daily rows of `months` summed per month, item and category, all buyers together.
    A product's orders add up over days and buyer groups: an order is paid on one day by one
    buyer."""
    within = Q()
    for month in months:
        within |= Q(day__gte=month, day__lt=month_add(month, 1))
    return (
        model.objects.filter(within)
        .order_by()
        .values(month=TruncMonth("day"), item=F(item), category=F("category_id"))
        .annotate(units=Sum("units"), revenue=Sum("revenue"), order_count=Sum("orders"))
    )


def _rebuild_months(months: list[date]) -> int:
    """Sum the monthly tables again from the daily ones for `months`; the rows written."""
    if not months:
        return 0
    with transaction.atomic():
        ProductSalesMonth.objects.filter(month__in=months).delete()
        VariantSalesMonth.objects.filter(month__in=months).delete()
        return _insert_grouped(
            ProductSalesMonth, MONTH_COLUMNS, _month_select(ProductSalesDay, "product_id", months)
        ) + _insert_grouped(
            VariantSalesMonth,
            VARIANT_MONTH_COLUMNS,
            _month_select(VariantSalesDay, "variant_id", months),
        )


@contextmanager
def _refresh_lock():
    """One refresh at a time: a PostgreSQL advisory lock held by this connection's session
    (so it spans the per-batch transactions and is freed if the process dies)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def rollups_refresh(
    *, days: Iterable[date] | None = None, now: datetime | None = None
) -> RollupRun:
    """Rebuild the rollup rows of the days due (see the module docstring) and of `days`, and
    record the run. `now` sets "today" (the default: the current time)."""
    today = _local_day(now or timezone.now())
    with _refresh_lock():
        # Taken once the lock is held: the next run looks for changes from here on.
        started_at = timezone.now()
        wanted = sorted({*rollup_days_due(today=today), *(days or ())})
        run = RollupRun.objects.create(
            started_at=started_at,
            first_day=wanted[0] if wanted else None,
            last_day=wanted[-1] if wanted else None,
        )
        rows = 0
        for start in range(0, len(wanted), BATCH_DAYS):
            rows += _rebuild(wanted[start : start + BATCH_DAYS])
        rows += _rebuild_months(_months_of(wanted))
        if rows >= ANALYZE_ROWS and connection.vendor == "postgresql":
            # Fresh statistics, so the reports' plans see a big rebuild at once rather than
            # after autovacuum's next pass.
            with connection.cursor() as cursor:
                for model in (*DAILY, ProductSalesMonth, VariantSalesMonth):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        run.finished_at = timezone.now()
        run.days = len(wanted)
        run.rows = rows
        run.save(update_fields=["finished_at", "days", "rows"])
    logger.info(
        "rollups: %s days rebuilt (%s to %s), %s rows, in %.1f s",
        run.days,
        run.first_day,
        run.last_day,
        run.rows,
        (run.finished_at - run.started_at).total_seconds(),
    )
    return run
