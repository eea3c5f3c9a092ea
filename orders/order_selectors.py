"""Reads of a buyer's own orders: the paginated list, one order, and one order in full.

Every read is scoped to the member in the query itself (`orders_of`), so an order number that
is not theirs, or any number for a guest, is the same boring 404 as one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Exists, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import states
from .models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderState,
    Payment,
    PaymentMethod,
    Refund,
    Shipment,
    TrackingStatus,
)

ORDERS_PER_PAGE = 20

# What a buyer sees of an order's history: not the notes staff leave for each other.
BUYER_EVENT_KINDS = (
    OrderEvent.Kind.PLACED,
    OrderEvent.Kind.TRANSITION,
    OrderEvent.Kind.PAYMENT,
    OrderEvent.Kind.SHIPMENT,
    OrderEvent.Kind.REFUND,
)

_LIST_FIELDS = (
    "number",
    "state",
    "payment_method",
    "currency",
    "grand_total",
    "refunded_total",
    "placed_at",
    "paid_at",
    "pay_by",
    "is_dropship",
)


class PaymentState:
    """How the buyer's payment of an order stands, as the buyer reads it."""

    AWAITING = "awaiting"
    FAILED = "failed"
    PAID = "paid"
    PARTLY_REFUNDED = "partly_refunded"
    REFUNDED = "refunded"
    NOT_PAID = "not_paid"

    LABELS = {
        AWAITING: gettext_lazy("Awaiting payment"),
        FAILED: gettext_lazy("Payment failed: try again"),
        PAID: gettext_lazy("Paid"),
        PARTLY_REFUNDED: gettext_lazy("Partly refunded"),
        REFUNDED: gettext_lazy("Refunded"),
        NOT_PAID: gettext_lazy("Not paid"),
    }


def payment_state(order: Order, *, paid: bool, failed: bool = False) -> str:
    """The PaymentState code of `order`; `paid`: a payment of it succeeded, `failed`: the
    last attempt of a still pending payment failed."""
    if order.refunded_total > 0:
        if order.refunded_total >= order.grand_total:
            return PaymentState.REFUNDED
        return PaymentState.PARTLY_REFUNDED
    if paid:
        return PaymentState.PAID
    if order.state == OrderState.PENDING_PAYMENT:
        return PaymentState.FAILED if failed else PaymentState.AWAITING
    return PaymentState.NOT_PAID


def orders_of(member) -> QuerySet[Order]:
    """The orders `member` placed; none for a guest. Every buyer-facing read starts here."""
    if not member.is_authenticated:
        return Order.objects.none()
    return Order.objects.filter(member=member, number__isnull=False)


@dataclass(frozen=True)
class OrderRow:
    order: Order
    item_count: int
    payment_state: str

    @property
    def payment_state_label(self) -> str:
        return PaymentState.LABELS[self.payment_state]


def order_list(*, member, page) -> Page:
    """One page of the member's orders, newest first, each wrapped in an OrderRow.

    Two queries whatever the number of orders or lines: the count, and the page with its
    item counts and payment facts computed by subqueries. An unreadable or out-of-range page
    number gives the nearest page.
    """
    units = (
        OrderLine.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    succeeded = Payment.objects.filter(order=OuterRef("pk"), status=Payment.Status.SUCCEEDED)
    queryset = (
        orders_of(member)
        .only(*_LIST_FIELDS)
        .annotate(
            item_count=Coalesce(Subquery(units, output_field=IntegerField()), 0),
            has_paid=Exists(succeeded),
        )
        .order_by("-placed_at", "-pk")
    )
    paginator = Paginator(queryset, ORDERS_PER_PAGE)
    result = paginator.get_page(page)
    result.object_list = [
        OrderRow(
            order=order,
            item_count=order.item_count,
            payment_state=payment_state(order, paid=order.has_paid),
        )
        for order in result.object_list
    ]
    return result


def order_for(*, member, number: str) -> Order:
    """The member's own order by number; Http404 for anyone else's, or for a guest."""
    order = orders_of(member).filter(number=number).first() if number else None
    if order is None:
        raise Http404(_("No such order."))
    return order


@dataclass(frozen=True)
class HistoryEntry:
    at: object
    kind: str
    title: str
    reason: str
    by_you: bool


def safe_link(url: str) -> str:
    """`url` when it is a web address a buyer may click, else "" (a `javascript:` URL or a
    typo must not become a link)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    return url.strip() if parts.scheme in {"http", "https"} and parts.netloc else ""


@dataclass(frozen=True)
class TrackingStep:
    """One carrier scan on the buyer's page (orders.tracking stores them)."""

    occurred_at: object
    status_label: str
    location: str
    description: str


@dataclass(frozen=True)
class ShipmentView:
    carrier: str
    tracking_number: str
    tracking_url: str  # "" when there is no safe link
    shipped_at: object
    status: str = TrackingStatus.INFO_RECEIVED
    events: tuple[TrackingStep, ...] = ()  # newest first

    @property
    def status_label(self) -> str:
        return TrackingStatus(self.status).label

    @classmethod
    def of(cls, shipment: Shipment) -> ShipmentView:
        return cls(
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            tracking_url=safe_link(shipment.tracking_url),
            shipped_at=shipment.shipped_at,
            status=shipment.status,
        )


def shipment_views(order: Order) -> list[ShipmentView]:
    """The order's parcels with their tracking events, newest first, in one query (a left
    join: a parcel without events is one row)."""
    rows = (
        Shipment.objects.filter(order=order)
        .order_by("shipped_at", "pk", "-events__occurred_at", "-events__pk")
        .values(
            "pk",
            "carrier",
            "tracking_number",
            "tracking_url",
            "shipped_at",
            "status",
            "events__occurred_at",
            "events__status",
            "events__location",
            "events__description",
        )
    )
    shipments: dict[int, tuple[dict, list[TrackingStep]]] = {}
    for row in rows:
        _, steps = shipments.setdefault(row["pk"], (row, []))
        if row["events__occurred_at"] is not None:
            steps.append(
                TrackingStep(
                    occurred_at=row["events__occurred_at"],
                    status_label=TrackingStatus(row["events__status"]).label,
                    location=row["events__location"],
                    description=row["events__description"],
                )
            )
    return [
        ShipmentView(
            carrier=row["carrier"],
            tracking_number=row["tracking_number"],
            tracking_url=safe_link(row["tracking_url"]),
            shipped_at=row["shipped_at"],
            status=row["status"],
            events=tuple(steps),
        )
        for row, steps in shipments.values()
    ]


@dataclass(frozen=True)
class OrderDetail:
    order: Order
    lines: list[OrderLine]
    history: list[HistoryEntry]
    payments: list[Payment]
    shipments: list[ShipmentView]
    refunds: list[Refund]

    @property
    def payment(self) -> Payment | None:
        """The payment by the order's own method, if any row exists for it."""
        return next((p for p in self.payments if p.method == self.order.payment_method), None)

    @property
    def is_paid(self) -> bool:
        return any(p.status == Payment.Status.SUCCEEDED for p in self.payments)

    @property
    def payment_state(self) -> str:
        payment = self.payment
        failed = bool(
            payment and payment.status == Payment.Status.PENDING and payment.failure_reason
        )
        return payment_state(self.order, paid=self.is_paid, failed=failed)

    @property
    def payment_state_label(self) -> str:
        return PaymentState.LABELS[self.payment_state]

    @property
    def awaits_bank_transfer(self) -> bool:
        return self.order.is_unpaid and self.order.payment_method == PaymentMethod.BANK_TRANSFER

    @property
    def awaits_card_payment(self) -> bool:
        return self.order.is_unpaid and self.order.payment_method == PaymentMethod.CARD

    @property
    def can_cancel(self) -> bool:
        return self.order.is_unpaid

    @property
    def is_invoice_final(self) -> bool:
        """An invoice once paid; a proforma invoice before."""
        return self.is_paid or self.order.state in states.PAID_STATES

    @property
    def converted(self) -> bool:
        return self.order.currency != self.order.base_currency

    @property
    def rate_display(self) -> str:
        """The stored rate without trailing zeros: 0.92 rather than 0.92000000."""
        return format(self.order.exchange_rate.normalize(), "f")

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def refunded_units(self) -> int:
        return sum(line.refunded_quantity for line in self.lines)


def _history_entry(event: OrderEvent, member) -> HistoryEntry:
    if event.kind == OrderEvent.Kind.TRANSITION:
        title = _("%(from)s → %(to)s") % {
            "from": OrderState(event.from_state).label if event.from_state else "",
            "to": OrderState(event.to_state).label,
        }
    else:
        title = str(OrderEvent.Kind(event.kind).label)
    return HistoryEntry(
        at=event.created_at,
        kind=event.kind,
        title=title,
        reason=event.reason,
        by_you=event.actor_id is not None and event.actor_id == member.pk,
    )


def order_detail(*, member, number: str) -> OrderDetail:
    """The member's order with everything its page shows; Http404 for anyone else's.

    Six queries whatever the number of lines, events, payments, shipments or refunds.
    """
    order = order_for(member=member, number=number)
    lines = list(OrderLine.objects.filter(order=order).order_by("position", "pk"))
    events = OrderEvent.objects.filter(order=order, kind__in=BUYER_EVENT_KINDS).order_by(
        "created_at", "pk"
    )
    return OrderDetail(
        order=order,
        lines=lines,
        history=[_history_entry(event, member) for event in events],
        payments=list(Payment.objects.filter(order=order).order_by("created_at", "pk")),
        shipments=shipment_views(order),
        refunds=list(
            Refund.objects.filter(order=order, status=Refund.Status.SUCCEEDED).order_by(
                "created_at", "pk"
            )
        ),
    )


@dataclass(frozen=True)
class InvoiceParty:
    name: str
    lines: list[str]
    email: str = ""
    tax_number: str = ""


def invoice_buyer(detail: OrderDetail) -> InvoiceParty:
    """Who the invoice is made out to: the buyer's company with the billing address and tax
    number copied when the order was placed (for a dropship order, the buyer's own address,
    not the parcel's), so a later change of the address book never rewrites an invoice."""
    order = detail.order
    return InvoiceParty(
        name=order.company_name or order.ship_name,
        lines=order.bill_lines() or order.ship_lines(),
        email=order.email,
        tax_number=order.bill_tax_number,
    )


def invoice_seller() -> InvoiceParty:
    lines = [line for line in settings.WHOLESALE_SELLER_ADDRESS.splitlines() if line.strip()]
    return InvoiceParty(name=lines[0] if lines else settings.WHOLESALE_SHOP_NAME, lines=lines[1:])
