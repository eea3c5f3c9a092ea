"""Reports 12, 13 and 15: how each salesperson performs, what customer service gets through,
and the membership levels and points ledger.

12, Salespeople: per salesperson, the customers that came to them in the period, their
referral link's visits, the signups it brought and how many of those have ordered, the revenue
and orders of the customers they own today (analytics.sources, like every sales report), and
the time they took to first answer the inquiries they own. The referral figures are credited to
the link's owner at signup (the "referral" ownership change), as the salespeople's admin list
counts them, even if the buyer was handed to a colleague since.

13, Customer service: the conversations someone answered although they do not own them (an
inquiry handed or shared with them), their time to first reply and the share answered within
four hours, and the disputes handed to them, resolved and still open. Everybody in the
customer service role is listed, and anybody else who did that work in the period.

15, Membership and points: buyers per level today, the moves between levels in the period
(LevelChange), the points ledger's entries in the period by kind, and the points outstanding
today with their money value at the rate checkout takes them off an order (members.points).

Reply times are those of staff.inquiries: from the customer's first message to the first staff
reply, over the conversations opened in the period.
"""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from members.models import Distributor, Level, LevelChange, PointsAccount, PointsEntry
from members.points import points_rules, points_value
from orders.models import Order
from staff import roles
from staff.inquiries import Median, reply_times, reply_times_by_salesperson
from staff.models import Dispute, Inquiry, InquiryMessage, OwnershipChange, ReferralVisit

from ..access import Audience
from ..periods import Period
from ..query import ReportQuery, salespeople
from ..registry import Filter, report
from ..results import Card, Chart, Column, Kind, ReportResult, Series
from ..sources import ORDER_NET, SALE_STATES, buyer_narrowed, sales_orders

ZERO = Decimal("0.00")
TABLE_LIMIT = 50
QUICK_REPLY = timedelta(hours=4)
HOUR = Decimal(3600)
DAY = Decimal(86400)


def _person(row: dict, prefix: str = "") -> str:
    first, last = row.get(f"{prefix}first_name") or "", row.get(f"{prefix}last_name") or ""
    return f"{first} {last}".strip() or row.get(f"{prefix}email") or ""


def _hours(value: timedelta | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.total_seconds()) / HOUR).quantize(ZERO)


def _days(value: timedelta | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.total_seconds()) / DAY).quantize(ZERO)


def _share(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(ZERO) if whole else None


def _in(field: str, period: Period) -> Q:
    start, end = period.bounds()
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def _without_salesperson(query: ReportQuery) -> ReportQuery:
    """The query's country and level, without the salesperson: for figures credited to a
    salesperson by something other than owning the buyer today (their referral link)."""
    return replace(query, salesperson_id=None)


# --- 12. Salespeople --------------------------------------------------------------------------


def _new_customers(query: ReportQuery, period: Period, ids) -> dict:
    """Customers each salesperson owns today who came to them in the period (signed up with
    them, or were assigned or handed over to them)."""
    distributors = (
        Distributor.objects.exclude(status=Distributor.Status.REJECTED)
        .filter(owner_id__in=ids)
        .alias(came=Coalesce("owner_since", "created_at"))
        .filter(_in("came", period))
    )
    rows = (
        buyer_narrowed(distributors, query, distributor="user__distributor")
        .order_by()
        .values("owner_id")
        .annotate(total=Count("pk"))
    )
    return {row["owner_id"]: row["total"] for row in rows}


def _visits(period: Period, ids) -> dict:
    rows = (
        ReferralVisit.objects.filter(_in("visited_at", period), sales_profile__user_id__in=ids)
        .order_by()
        .values("sales_profile__user_id")
        .annotate(total=Count("pk"))
    )
    return {row["sales_profile__user_id"]: row["total"] for row in rows}


def _referrals(query: ReportQuery, period: Period, ids) -> dict:
    """Signups through each link in the period, and how many of them have a sale paid by the
    period's end."""
    _start, end = period.bounds()
    ordered = Order.objects.filter(
        member_id=OuterRef("distributor__user_id"), state__in=SALE_STATES, paid_at__lt=end
    )
    signups = OwnershipChange.objects.filter(
        _in("created_at", period), source=OwnershipChange.Source.REFERRAL, to_owner_id__in=ids
    )
    rows = (
        buyer_narrowed(signups, _without_salesperson(query), distributor="distributor")
        .order_by()
        .values("to_owner_id")
        .annotate(
            signups=Count("distributor", distinct=True),
            first_orders=Count("distributor", distinct=True, filter=Q(Exists(ordered))),
        )
    )
    return {row["to_owner_id"]: row for row in rows}


def _sales(query: ReportQuery, period: Period, ids) -> dict:
    rows = (
        sales_orders(query, period)
        .filter(member__distributor__owner_id__in=ids)
        .values("member__distributor__owner_id")
        .annotate(revenue=Sum(ORDER_NET), orders=Count("pk"))
    )
    return {row["member__distributor__owner_id"]: row for row in rows}


def _inquiries(query: ReportQuery, period: Period, ids) -> QuerySet[Inquiry]:
    """The conversations opened in the period that the salespeople own, from buyers of the
    query's country and level (an inquiry carries the writer's country)."""
    inquiries = Inquiry.objects.filter(_in("created_at", period), owner_id__in=ids)
    if query.country:
        inquiries = inquiries.filter(country=query.country)
    if query.level_id:
        inquiries = inquiries.filter(member__distributor__level_id=query.level_id)
    return inquiries


def _salespeople_figures(query: ReportQuery, period: Period, ids) -> dict[int, dict]:
    new = _new_customers(query, period, ids)
    visits = _visits(period, ids)
    referrals = _referrals(query, period, ids)
    sales = _sales(query, period, ids)
    replies = {
        row.owner_id: row
        for row in reply_times_by_salesperson(queryset=_inquiries(query, period, ids))
    }
    figures = {}
    for pk in ids:
        referred = referrals.get(pk) or {}
        sold = sales.get(pk) or {}
        reply = replies.get(pk)
        figures[pk] = {
            "new_customers": new.get(pk, 0),
            "visits": visits.get(pk, 0),
            "signups": referred.get("signups", 0),
            "first_orders": referred.get("first_orders", 0),
            "revenue": (sold.get("revenue") or ZERO).quantize(ZERO),
            "orders": sold.get("orders", 0),
            "reply_median": _hours(reply.median) if reply else None,
            "reply_average": _hours(reply.average) if reply else None,
            "waiting": reply.waiting if reply else 0,
        }
    return figures


SUMMED = ("new_customers", "visits", "signups", "first_orders", "revenue", "orders")


def _salespeople_totals(query: ReportQuery, period: Period, ids, figures: dict) -> dict:
    totals = {key: sum((row[key] for row in figures.values()), start=0) for key in SUMMED}
    totals["revenue"] = Decimal(totals["revenue"]).quantize(ZERO)
    # A median is not the sum of medians: taken again over all the conversations shown.
    overall = reply_times(queryset=_inquiries(query, period, ids))
    totals["reply_median"] = _hours(overall.median)
    return totals


def _ranked(rows: list[dict]) -> list[dict]:
    """Highest revenue first; equal revenue shares a rank (1, 1, 3)."""
    rows.sort(key=lambda row: -row["revenue"])
    for position, row in enumerate(rows, start=1):
        tied = position > 1 and rows[position - 2]["revenue"] == row["revenue"]
        row["rank"] = rows[position - 2]["rank"] if tied else position
    return rows


@report(
    number=12,
    slug="salespeople",
    title=_("Salespeople"),
    summary=_(
        "New customers, referral link visits, signups and first orders, revenue, orders and "
        "reply time to inquiries per salesperson: a leaderboard for the period."
    ),
    audiences={Audience.SALES},
    filters={Filter.COUNTRY, Filter.LEVEL},
)
def salespeople_report(query: ReportQuery) -> ReportResult:
    people = salespeople()
    if query.salesperson_id:
        # The viewer's own row, even without a sales profile (and so without a link).
        people = get_user_model().objects.filter(pk=query.salesperson_id)
    people = list(people.values("pk", "first_name", "last_name", "email"))
    ids = [person["pk"] for person in people]
    figures = _salespeople_figures(query, query.period, ids)
    totals = _salespeople_totals(query, query.period, ids, figures)
    before = None
    if query.compare:
        before = _salespeople_totals(
            query, query.compare, ids, _salespeople_figures(query, query.compare, ids)
        )
    rows = _ranked([{"salesperson": _person(p), **figures[p["pk"]]} for p in people])
    notes = [
        _(
            "Revenue and orders are those of the customers each salesperson owns today; "
            "signups and first orders are credited to the link the buyer signed up through."
        ),
        _("Link visits carry no country or level, so those filters leave them as they are."),
    ]
    if len(rows) > TABLE_LIMIT:
        notes.append(
            _("The %(n)d salespeople with the most revenue are listed.") % {"n": TABLE_LIMIT}
        )
        rows = rows[:TABLE_LIMIT]

    def card(label, key, kind):
        return Card(label, totals[key], kind, before[key] if before else None)

    columns = [
        Column("salesperson", _("Salesperson"), Kind.TEXT),
        Column("new_customers", _("New customers"), Kind.INT),
        Column("visits", _("Link visits"), Kind.INT),
        Column("signups", _("Link signups"), Kind.INT),
        Column("first_orders", _("First orders"), Kind.INT),
        Column("revenue", _("Revenue"), Kind.MONEY),
        Column("orders", _("Orders"), Kind.INT),
        Column("reply_median", _("Median first reply (hours)"), Kind.DECIMAL),
        Column("reply_average", _("Average first reply (hours)"), Kind.DECIMAL),
        Column("waiting", _("Inquiries waiting"), Kind.INT),
    ]
    if not query.salesperson_id:
        # A salesperson sees their own row only, so a place among the others would tell them
        # about figures that are not theirs.
        columns.insert(0, Column("rank", _("Rank"), Kind.INT))
    return ReportResult(
        columns=columns,
        rows=rows,
        cards=[
            card(_("Revenue"), "revenue", Kind.MONEY),
            card(_("Orders"), "orders", Kind.INT),
            card(_("New customers"), "new_customers", Kind.INT),
            card(_("Link visits"), "visits", Kind.INT),
            card(_("Link signups"), "signups", Kind.INT),
            card(_("First orders"), "first_orders", Kind.INT),
            card(_("Median first reply (hours)"), "reply_median", Kind.DECIMAL),
        ],
        chart=Chart(
            "bar",
            [row["salesperson"] for row in rows],
            [Series(str(_("Revenue")), [row["revenue"] for row in rows])],
            money=True,
        ),
        notes=notes,
    )


# --- 13. Customer service ---------------------------------------------------------------------

_REPLY = ExpressionWrapper(F("first_reply_at") - F("created_at"), output_field=DurationField())


def _replies_for_others(period: Period) -> QuerySet[InquiryMessage]:
    """Staff replies written in the period in conversations the writer does not own."""
    return (
        InquiryMessage.objects.filter(_in("created_at", period), from_staff=True)
        .filter(author__isnull=False)
        .filter(Q(inquiry__owner__isnull=True) | ~Q(inquiry__owner_id=F("author_id")))
    )


def _first_answered_by_others(period: Period, ids) -> QuerySet[Inquiry]:
    """Conversations opened in the period whose first staff reply came from one of `ids`,
    someone other than their owner; annotated with that person (`replier`)."""
    first_author = (
        InquiryMessage.objects.filter(inquiry=OuterRef("pk"), from_staff=True)
        .order_by("created_at", "pk")
        .values("author_id")[:1]
    )
    return (
        Inquiry.objects.filter(_in("created_at", period), first_reply_at__isnull=False)
        .annotate(replier=Subquery(first_author))
        .filter(replier__in=ids)
        .filter(Q(owner__isnull=True) | ~Q(owner_id=F("replier")))
    )


def _resolved_in(period: Period) -> Q:
    return Q(state=Dispute.State.CLOSED) & _in("closed_at", period)


def _reply_aggregates() -> dict:
    aggregates = {
        "answered": Count("pk"),
        "quick": Count("pk", filter=Q(first_reply_at__lte=F("created_at") + QUICK_REPLY)),
        "average": Avg(_REPLY),
    }
    if connection.vendor == "postgresql":
        aggregates["median"] = Median(_REPLY)
    return aggregates


def _medians_without_percentile(inquiries: QuerySet[Inquiry], group: str | None) -> dict:
    """Medians where the database has none (SQLite, the laptop demo), taken in Python."""
    durations: dict = {}
    for key, reply in inquiries.annotate(_reply=_REPLY).values_list(group or "pk", "_reply"):
        durations.setdefault(key if group else None, []).append(reply)
    return {key: statistics.median(values) for key, values in durations.items()}


def _reply_figures(row: dict, median) -> dict:
    return {
        "answered": row["answered"],
        "reply_median": _hours(median),
        "quick_share": _share(row["quick"], row["answered"]),
    }


def _service_rows(period: Period, ids) -> dict[int, dict]:
    handled = {
        row["author_id"]: row
        for row in _replies_for_others(period)
        .filter(author_id__in=ids)
        .order_by()
        .values("author_id")
        .annotate(inquiries=Count("inquiry", distinct=True), replies=Count("pk"))
    }
    answered = _first_answered_by_others(period, ids).order_by()
    replied = {
        row["replier"]: row for row in answered.values("replier").annotate(**_reply_aggregates())
    }
    medians = (
        {}
        if connection.vendor == "postgresql"
        else _medians_without_percentile(answered, "replier")
    )
    resolved = _resolved_in(period)
    disputes = {
        row["handled_by_id"]: row
        for row in Dispute.objects.filter(handled_by_id__in=ids)
        .order_by()
        .values("handled_by_id")
        .annotate(
            handed=Count("pk", filter=_in("opened_at", period)),
            resolved=Count("pk", filter=resolved),
            open=Count("pk", filter=Q(state=Dispute.State.OPEN)),
            resolve_time=Avg(
                ExpressionWrapper(F("closed_at") - F("opened_at"), output_field=DurationField()),
                filter=resolved,
            ),
        )
    }
    rows = {}
    for pk in ids:
        reply = replied.get(pk)
        dispute = disputes.get(pk) or {}
        rows[pk] = {
            "inquiries": (handled.get(pk) or {}).get("inquiries", 0),
            "replies": (handled.get(pk) or {}).get("replies", 0),
            **(
                _reply_figures(reply, reply.get("median", medians.get(pk)))
                if reply
                else {"answered": 0, "reply_median": None, "quick_share": None}
            ),
            "disputes_handed": dispute.get("handed", 0),
            "disputes_resolved": dispute.get("resolved", 0),
            "resolve_days": _days(dispute.get("resolve_time")),
            "disputes_open": dispute.get("open", 0),
        }
    return rows


def _service_totals(period: Period, ids) -> dict:
    inquiries = (
        _replies_for_others(period)
        .filter(author_id__in=ids)
        .aggregate(total=Count("inquiry", distinct=True))["total"]
    )
    answered = _first_answered_by_others(period, ids).order_by()
    row = answered.aggregate(**_reply_aggregates())
    median = row.get("median")
    if connection.vendor != "postgresql":
        median = _medians_without_percentile(answered, None).get(None)
    disputes = Dispute.objects.filter(handled_by_id__in=ids).aggregate(
        disputes_handed=Count("pk", filter=_in("opened_at", period)),
        disputes_resolved=Count("pk", filter=_resolved_in(period)),
    )
    return {"inquiries": inquiries, **_reply_figures(row, median), **disputes}


def _service_people(query: ReportQuery) -> list[dict]:
    """Customer service, and anyone else who answered others' conversations in the period or
    holds disputes; only the viewer for a customer service viewer."""
    User = get_user_model()
    if query.service_user_id:
        people = User.objects.filter(pk=query.service_user_id)
    else:
        in_role = User.groups.through.objects.filter(
            group__name=roles.CUSTOMER_SERVICE, user__is_active=True
        ).values("user_id")
        handlers = Dispute.objects.filter(
            _in("opened_at", query.period)
            | _in("closed_at", query.period)
            | Q(state=Dispute.State.OPEN)
        ).values("handled_by_id")
        repliers = _replies_for_others(query.period).values("author_id")
        people = User.objects.filter(
            Q(pk__in=in_role) | Q(pk__in=handlers) | Q(pk__in=repliers)
        ).order_by("first_name", "last_name", "email")
    return list(people.values("pk", "first_name", "last_name", "email"))


@report(
    number=13,
    slug="customer-service",
    title=_("Customer service"),
    summary=_(
        "Inquiries answered and disputes handled per person, time to first reply and the "
        "share answered within four hours, disputes resolved and still open."
    ),
    audiences={Audience.SERVICE},
    filters=(),
)
def customer_service_report(query: ReportQuery) -> ReportResult:
    people = _service_people(query)
    ids = [person["pk"] for person in people]
    found = _service_rows(query.period, ids)
    totals = _service_totals(query.period, ids)
    totals["disputes_open"] = sum(row["disputes_open"] for row in found.values())
    before = _service_totals(query.compare, ids) if query.compare else None
    rows = [{"person": _person(person), **found[person["pk"]]} for person in people]
    rows.sort(key=lambda row: (-row["inquiries"], -row["disputes_resolved"], row["person"]))
    notes = [
        _(
            "Counted: replies in conversations the person does not own (handed or shared with "
            "them), and the disputes handed to them. Time to first reply runs from the "
            "customer's first message, over the conversations opened in the period whose "
            "first reply was theirs."
        )
    ]
    if len(rows) > TABLE_LIMIT:
        notes.append(_("The %(n)d busiest people are listed.") % {"n": TABLE_LIMIT})
        rows = rows[:TABLE_LIMIT]

    def card(label, key, kind, compared=True):
        previous = before[key] if before and compared else None
        return Card(label, totals[key], kind, previous)

    return ReportResult(
        columns=[
            Column("person", _("Person"), Kind.TEXT),
            Column("inquiries", _("Inquiries handled"), Kind.INT),
            Column("replies", _("Replies"), Kind.INT),
            Column("answered", _("First replies"), Kind.INT),
            Column("reply_median", _("Median first reply (hours)"), Kind.DECIMAL),
            Column("quick_share", _("Answered within 4 hours"), Kind.PERCENT),
            Column("disputes_handed", _("Disputes handed over"), Kind.INT),
            Column("disputes_resolved", _("Disputes resolved"), Kind.INT),
            Column("resolve_days", _("Days to resolve"), Kind.DECIMAL),
            Column("disputes_open", _("Disputes open now"), Kind.INT),
        ],
        rows=rows,
        cards=[
            card(_("Inquiries handled"), "inquiries", Kind.INT),
            card(_("Median first reply (hours)"), "reply_median", Kind.DECIMAL),
            card(_("Answered within 4 hours"), "quick_share", Kind.PERCENT),
            card(_("Disputes handed over"), "disputes_handed", Kind.INT),
            card(_("Disputes resolved"), "disputes_resolved", Kind.INT),
            card(_("Disputes open now"), "disputes_open", Kind.INT, compared=False),
        ],
        chart=Chart(
            "bar",
            [row["person"] for row in rows],
            [
                Series(str(_("Inquiries handled")), [row["inquiries"] for row in rows]),
                Series(str(_("Disputes resolved")), [row["disputes_resolved"] for row in rows]),
            ],
        ),
        notes=notes,
    )


# --- 15. Membership and points ----------------------------------------------------------------

UP, DOWN, JOINED = "up", "down", "joined"
LEDGER_KINDS = {
    "earned": PointsEntry.Kind.EARN.value,
    "redeemed": PointsEntry.Kind.REDEEM.value,
    "expired": PointsEntry.Kind.EXPIRE.value,
    "reversed": PointsEntry.Kind.REVERSE.value,
    "adjusted": PointsEntry.Kind.ADJUST.value,
}


def _direction(from_id, to_id, ranks: dict) -> str:
    """A first level is a start, not a move; dropping out of every level is a move down."""
    if from_id is None:
        return JOINED
    if to_id is None:
        return DOWN
    return UP if ranks[to_id] > ranks[from_id] else DOWN


def _moves(query: ReportQuery, period: Period) -> list[dict]:
    changes = LevelChange.objects.filter(_in("created_at", period))
    return list(
        buyer_narrowed(changes, query, distributor="distributor")
        .order_by()
        .values("from_level_id", "to_level_id")
        .annotate(changes=Count("pk"), buyers=Count("distributor", distinct=True))
    )


def _move_counts(moves: list[dict], ranks: dict) -> dict:
    counts = {UP: 0, DOWN: 0, JOINED: 0}
    for move in moves:
        counts[_direction(move["from_level_id"], move["to_level_id"], ranks)] += move["changes"]
    return counts


def _points(query: ReportQuery, period: Period) -> dict:
    """The ledger's entries in the period, by kind: earned, redeemed and expired as positive
    amounts, reversals and adjustments as the net change they made."""
    entries = buyer_narrowed(
        PointsEntry.objects.filter(_in("created_at", period)),
        query,
        distributor="member__distributor",
    )
    row = entries.aggregate(
        **{
            name: Coalesce(Sum("points", filter=Q(kind=kind)), 0)
            for name, kind in LEDGER_KINDS.items()
        }
    )
    # Redemptions and expiries are written as negative entries: shown as amounts.
    return {name: -row[name] if name in ("redeemed", "expired") else row[name] for name in row}


@report(
    number=15,
    slug="membership",
    title=_("Membership and points"),
    summary=_(
        "Buyers per level, moves between levels, points earned, redeemed and expired, and the "
        "points outstanding as a liability at their money value."
    ),
    audiences={Audience.FINANCE},
    filters={Filter.COUNTRY},
)
def membership_report(query: ReportQuery) -> ReportResult:
    levels = list(Level.objects.order_by("position", "pk"))
    names = {level.pk: level.name for level in levels}
    ranks = {level.pk: (level.position, level.pk) for level in levels}
    buyers = buyer_narrowed(
        Distributor.objects.filter(status=Distributor.Status.APPROVED),
        query,
        distributor="user__distributor",
    )
    per_level = {
        row["level_id"]: row["total"]
        for row in buyers.order_by().values("level_id").annotate(total=Count("pk"))
    }
    moves = _moves(query, query.period)
    counts = _move_counts(moves, ranks)
    before_counts = _move_counts(_moves(query, query.compare), ranks) if query.compare else None
    ledger = _points(query, query.period)
    before = _points(query, query.compare) if query.compare else None
    accounts = buyer_narrowed(PointsAccount.objects.all(), query, distributor="member__distributor")
    outstanding = accounts.aggregate(total=Coalesce(Sum("balance"), 0))["total"]
    rules = points_rules()
    liability = points_value(outstanding, rules)

    no_level = str(_("No level"))
    labels = [level.name for level in levels]
    values = [per_level.get(level.pk, 0) for level in levels]
    if per_level.get(None):
        labels.append(no_level)
        values.append(per_level[None])
    direction_text = {UP: _("up"), DOWN: _("down"), JOINED: _("first level")}
    rows = [
        {
            "from_level": names.get(move["from_level_id"], no_level),
            "to_level": names.get(move["to_level_id"], no_level),
            "direction": str(
                direction_text[_direction(move["from_level_id"], move["to_level_id"], ranks)]
            ),
            "changes": move["changes"],
            "buyers": move["buyers"],
        }
        for move in moves
    ]
    rows.sort(key=lambda row: (-row["changes"], row["from_level"], row["to_level"]))

    def compared(label, key, figures, earlier, kind=Kind.INT):
        return Card(label, figures[key], kind, earlier[key] if earlier else None)

    return ReportResult(
        columns=[
            Column("from_level", _("From"), Kind.TEXT),
            Column("to_level", _("To"), Kind.TEXT),
            Column("direction", _("Direction"), Kind.TEXT),
            Column("changes", _("Moves"), Kind.INT),
            Column("buyers", _("Buyers"), Kind.INT),
        ],
        rows=rows,
        cards=[
            Card(_("Buyers"), sum(values), Kind.INT),
            compared(_("Moved up"), UP, counts, before_counts),
            compared(_("Moved down"), DOWN, counts, before_counts),
            compared(_("Points earned"), "earned", ledger, before),
            compared(_("Points redeemed"), "redeemed", ledger, before),
            compared(_("Points expired"), "expired", ledger, before),
            compared(_("Points reversed (net)"), "reversed", ledger, before),
            compared(_("Points adjusted (net)"), "adjusted", ledger, before),
            Card(_("Points outstanding"), outstanding, Kind.INT),
            Card(_("Outstanding points' value"), liability, Kind.MONEY),
        ],
        chart=Chart("doughnut", labels, [Series(str(_("Buyers")), values)]),
        notes=[
            _(
                "Outstanding points are valued at %(value)s a point, what checkout takes off an "
                "order for each point redeemed: the shop owes that much if all are spent."
            )
            % {"value": rules.point_value.normalize()},
            _("A buyer's first level is counted as a start, neither up nor down."),
        ],
    )
