"""Reconciliation reads (RELIABILITY N1, N2, N3, N4): what in the stock, the payments and the order
history does not add up. Reads only; `manage.py orders_reconcile` prints them and fails when
there is any. Each check returns a list of Problem, empty when all is well.

N1 stock
  - per variant, the units sold (the net of the "order" and "order cancelled" movements, with
    the sign turned) equal the units on the lines of orders that still hold their stock
    (Order.holds_stock); made-to-order products are not stock-tracked and are left out;
  - per order, the order movements under its reference ("order:<number>") equal its lines
    while it holds its stock and cancel out once it gave it back; a movement naming no order
    is stock taken without an order (RELIABILITY F8);
  - a cancelled order never holds stock; no variant holds less than zero; every variant's
    stock is the sum of its ledger (catalog.selectors.stock_mismatches).
N2 points (members.points)
  - every balance equals the sum of its ledger entries; no order earned twice;
  - a refunded or cancelled order's points have been given back (its entries net to zero,
    or its earned points were taken back as far as the balance went).
N3 orders ↔ payments
  - every order in a paid state (orders.states.PAID_STATES, refunded and disputed included:
    a refund is a Refund row beside the payment, which stays succeeded) has exactly one
    succeeded payment, of its grand total in its currency, and a paid_at;
  - every succeeded payment belongs to an order that became paid. A card payment that
    arrives after its order expired is recorded on the cancelled order and listed here until
    finance has dealt with it;
  - every confirmed bank transfer names who confirmed it, and that person may confirm
    payments (orders.confirm_payment);
  - every PaymentIntent Stripe reported as succeeded (a handled webhook event) is exactly
    one succeeded card payment.
N4 audit
  - every order has its "placed" event;
  - its state changes (TRANSITION events, oldest first) form a path the state machine
    allows, from awaiting payment to the state it is in, so history rows == transitions;
    each says who acted;
  - every stock movement has a known reason, and those of orders name their order: other
    movements (stocktakes, staff adjustments) say who in created_by and need no reference.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum

from catalog.models import StockMovement, Variant
from catalog.selectors import stock_mismatches
from members.models import PointsEntry
from members.points import ledger_mismatches

from . import states
from .models import Order, OrderEvent, OrderLine, OrderState, Payment, PaymentMethod, WebhookEvent

ORDER_REASONS = (StockMovement.Reason.ORDER, StockMovement.Reason.ORDER_CANCELLED)
ORDER_REFERENCE = "order:"
STRIPE_SUCCEEDED = "payment_intent.succeeded"


@dataclass(frozen=True)
class Problem:
    check: str  # "N1", "N2", "N3" or "N4"
    kind: str  # a short code, e.g. "sold_vs_held"
    subject: str  # what it is about: "variant ABC-S", "order W100001", "payment 12"
    detail: str

    def __str__(self) -> str:
        return f"{self.check} {self.kind}: {self.subject}: {self.detail}"


def _order_number(reference: str) -> str | None:
    return reference[len(ORDER_REFERENCE) :] if reference.startswith(ORDER_REFERENCE) else None


# --- N1 stock -----------------------------------------------------------------------------------


def stock_problems() -> list[Problem]:
    problems: list[Problem] = []
    order_moves = StockMovement.objects.filter(reason__in=ORDER_REASONS).order_by()
    sold = {
        row["variant"]: -row["net"]
        for row in order_moves.values("variant").annotate(net=Sum("delta"))
    }
    tracked_lines = OrderLine.objects.filter(variant__product__made_to_order=False).order_by()
    held = {
        row["variant"]: row["units"]
        for row in tracked_lines.filter(order__holds_stock=True)
        .values("variant")
        .annotate(units=Sum("quantity"))
    }
    off = sorted(pk for pk in sold.keys() | held.keys() if sold.get(pk, 0) != held.get(pk, 0))
    skus = dict(Variant.objects.filter(pk__in=off).values_list("pk", "sku"))
    for pk in off:
        problems.append(
            Problem(
                "N1",
                "sold_vs_held",
                f"variant {skus.get(pk, pk)}",
                f"{sold.get(pk, 0)} sold by the ledger, {held.get(pk, 0)} on orders holding stock",
            )
        )

    # Per order: its movements against its lines.
    moved: dict[tuple[str, int], int] = defaultdict(int)
    for reference, variant_id, units in (
        order_moves.values("reference", "variant")
        .annotate(units=Sum("delta"))
        .values_list("reference", "variant", "units")
    ):
        number = _order_number(reference)
        if number is not None:
            moved[number, variant_id] -= units
    orders = dict(Order.objects.exclude(number=None).values_list("number", "holds_stock"))
    expected: dict[tuple[str, int], int] = defaultdict(int)
    for number, holds, variant_id, units in tracked_lines.exclude(order__number=None).values_list(
        "order__number", "order__holds_stock", "variant", "quantity"
    ):
        if holds:
            expected[number, variant_id] += units
    for number, variant_id in sorted(moved.keys() | expected.keys()):
        taken, wanted = moved.get((number, variant_id), 0), expected.get((number, variant_id), 0)
        if taken == wanted:
            continue
        if number not in orders:
            problems.append(
                Problem(
                    "N1",
                    "stock_without_order",
                    f"order {number}",
                    f"{taken} units of variant {variant_id} taken for an order that does not exist",
                )
            )
        else:
            problems.append(
                Problem(
                    "N1",
                    "order_vs_ledger",
                    f"order {number}",
                    f"variant {variant_id}: {taken} units taken by the ledger, {wanted} expected",
                )
            )

    for number in Order.objects.filter(state=OrderState.CANCELLED, holds_stock=True).values_list(
        "number", flat=True
    ):
        problems.append(
            Problem("N1", "cancelled_holds_stock", f"order {number}", "cancelled but holds stock")
        )
    for sku, stock in Variant.objects.filter(stock__lt=0).values_list("sku", "stock"):
        problems.append(Problem("N1", "negative_stock", f"variant {sku}", f"stock {stock}"))
    for variant in stock_mismatches():
        problems.append(
            Problem(
                "N1",
                "stock_vs_ledger",
                f"variant {variant.sku}",
                f"stock {variant.stock}, ledger {variant.ledger_stock}",
            )
        )
    return problems


# --- N3 orders ↔ payments -----------------------------------------------------------------------


def payment_problems() -> list[Problem]:
    problems: list[Problem] = []
    succeeded = Q(payments__status=Payment.Status.SUCCEEDED)
    paid_orders = (
        Order.objects.filter(state__in=states.PAID_STATES)
        .annotate(succeeded=Count("payments", filter=succeeded))
        .order_by("pk")
    )
    for number, count in paid_orders.exclude(succeeded=1).values_list("number", "succeeded"):
        problems.append(
            Problem("N3", "paid_payments", f"order {number}", f"{count} succeeded payments")
        )
    for number in paid_orders.filter(paid_at=None).values_list("number", flat=True):
        problems.append(Problem("N3", "paid_without_date", f"order {number}", "no paid_at"))
    wrong_amount = (
        Payment.objects.filter(status=Payment.Status.SUCCEEDED, order__state__in=states.PAID_STATES)
        .exclude(amount=F("order__grand_total"), currency=F("order__currency"))
        .order_by("pk")
    )
    for pk, number, amount, currency, total, order_currency in wrong_amount.values_list(
        "pk", "order__number", "amount", "currency", "order__grand_total", "order__currency"
    ):
        problems.append(
            Problem(
                "N3",
                "payment_amount",
                f"order {number}",
                f"payment {pk} of {amount} {currency}, order total {total} {order_currency}",
            )
        )
    for pk, number, state in (
        Payment.objects.filter(status=Payment.Status.SUCCEEDED)
        .exclude(order__state__in=states.PAID_STATES)
        .order_by("pk")
        .values_list("pk", "order__number", "order__state")
    ):
        problems.append(
            Problem(
                "N3",
                "payment_order_unpaid",
                f"order {number}",
                f"payment {pk} succeeded, the order is {state}: refund it or restore the order",
            )
        )
    problems.extend(_bank_confirmations())
    problems.extend(_stripe_intents())
    return problems


def _bank_confirmations() -> list[Problem]:
    problems = []
    confirmed = Payment.objects.filter(
        method=PaymentMethod.BANK_TRANSFER, status=Payment.Status.SUCCEEDED
    ).order_by("pk")
    for pk, number in confirmed.filter(confirmed_by=None).values_list("pk", "order__number"):
        problems.append(
            Problem("N3", "bank_without_actor", f"order {number}", f"payment {pk}: by nobody")
        )
    confirmers = set(
        confirmed.exclude(confirmed_by=None).values_list("confirmed_by", flat=True).distinct()
    )
    not_finance = {
        user.pk: user.email
        for user in get_user_model().objects.filter(pk__in=confirmers)
        if not (user.is_active and user.has_perm("orders.confirm_payment"))
    }
    if not_finance:
        for pk, number, user_id in confirmed.filter(confirmed_by__in=not_finance).values_list(
            "pk", "order__number", "confirmed_by"
        ):
            problems.append(
                Problem(
                    "N3",
                    "bank_not_finance",
                    f"order {number}",
                    f"payment {pk} confirmed by {not_finance[user_id]}, who may not confirm",
                )
            )
    return problems


def _stripe_intents() -> list[Problem]:
    """Each PaymentIntent a handled `payment_intent.succeeded` event reported: one payment."""
    intents = set(
        WebhookEvent.objects.filter(type=STRIPE_SUCCEEDED, processed_at__isnull=False)
        .values_list("payload__data__object__id", flat=True)
        .distinct()
    )
    intents.discard(None)
    if not intents:
        return []
    payments = Counter(
        Payment.objects.filter(
            method=PaymentMethod.CARD, status=Payment.Status.SUCCEEDED, intent_id__in=intents
        ).values_list("intent_id", flat=True)
    )
    return [
        Problem(
            "N3",
            "stripe_intent_payments",
            f"intent {intent}",
            f"Stripe says succeeded, {payments.get(intent, 0)} succeeded payments recorded",
        )
        for intent in sorted(intents)
        if payments.get(intent, 0) != 1
    ]


# --- N4 audit -----------------------------------------------------------------------------------


def audit_problems() -> list[Problem]:
    problems: list[Problem] = []
    placed = OrderEvent.objects.filter(order=OuterRef("pk"), kind=OrderEvent.Kind.PLACED)
    for number in (
        Order.objects.filter(~Exists(placed)).order_by("pk").values_list("number", flat=True)
    ):
        problems.append(Problem("N4", "no_placed_event", f"order {number}", "no “placed” event"))

    paths: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for order_id, from_state, to_state, actor_label in (
        OrderEvent.objects.filter(kind=OrderEvent.Kind.TRANSITION)
        .order_by("order_id", "created_at", "pk")
        .values_list("order_id", "from_state", "to_state", "actor_label")
        .iterator(chunk_size=5000)
    ):
        paths[order_id].append((from_state, to_state, actor_label))
    for order_id, number, state in (
        Order.objects.order_by("pk").values_list("pk", "number", "state").iterator(chunk_size=5000)
    ):
        detail = _path_problem(state, paths.get(order_id, []))
        if detail:
            problems.append(Problem("N4", "transition_path", f"order {number}", detail))

    for pk, reason in (
        StockMovement.objects.exclude(reason__in=StockMovement.Reason.values)
        .order_by("pk")
        .values_list("pk", "reason")
    ):
        problems.append(
            Problem("N4", "movement_reason", f"stock movement {pk}", f"reason {reason!r}")
        )
    for pk, reason, reference in (
        StockMovement.objects.filter(reason__in=ORDER_REASONS)
        .exclude(reference__startswith=ORDER_REFERENCE)
        .order_by("pk")
        .values_list("pk", "reason", "reference")
    ):
        problems.append(
            Problem(
                "N4",
                "movement_reference",
                f"stock movement {pk}",
                f"{reason} without an order reference ({reference!r})",
            )
        )
    return problems


def _path_problem(state: str, path: list[tuple[str, str, str]]) -> str:
    """Why the recorded transitions do not lead to `state`, or "" when they do."""
    current = OrderState.PENDING_PAYMENT
    for index, (from_state, to_state, actor_label) in enumerate(path, start=1):
        if from_state != current:
            return f"transition {index} starts from {from_state}, the order was {current}"
        if not states.can_move(from_state, to_state):
            return f"transition {index} {from_state} → {to_state} is not allowed"
        if not actor_label.strip():
            return f"transition {index} {from_state} → {to_state} says nobody did it"
        current = to_state
    if current != state:
        return f"is {state}, its history leads to {current} ({len(path)} transitions)"
    return ""


# --- N2 points ----------------------------------------------------------------------------------


def points_problems() -> list[Problem]:
    """Balances that are not their ledger's sum, an order that earned twice, and refunded or
    cancelled orders whose earned points were not taken back (nor spent points returned)."""
    problems = [
        Problem("N2", "balance", f"member {member_id}", f"balance {balance}, ledger {total}")
        for member_id, balance, total in ledger_mismatches()
    ]
    Kind = PointsEntry.Kind
    for order_id, count in (
        PointsEntry.objects.filter(kind=Kind.EARN, order_id__isnull=False)
        .values("order_id")
        .annotate(count=Count("pk"))
        .filter(count__gt=1)
        .values_list("order_id", "count")
    ):
        problems.append(Problem("N2", "earned_twice", f"order id {order_id}", f"{count} earnings"))
    entries = PointsEntry.objects.filter(order_id=OuterRef("pk")).order_by()
    net = entries.values("order_id").annotate(total=Sum("points")).values("total")
    # Earned points already spent elsewhere are taken back only as far as the balance went:
    # such an order keeps a positive net by design, with its (partial) reversal written.
    clamped = entries.filter(kind=Kind.REVERSE, points__lt=0)
    not_given_back = (
        Order.objects.filter(state__in=[OrderState.REFUNDED, OrderState.CANCELLED])
        .annotate(net=Subquery(net), clamped=Exists(clamped))
        .exclude(net=None)
        .exclude(net=0)
        .filter(Q(net__lt=0) | Q(clamped=False))
        .order_by("pk")
    )
    for number, total in not_given_back.values_list("number", "net"):
        problems.append(Problem("N2", "not_given_back", f"order {number}", f"net {total} points"))
    return problems


CHECKS = {
    "stock": stock_problems,
    "payments": payment_problems,
    "audit": audit_problems,
    "points": points_problems,
}


def reconcile(*, only: list[str] | None = None) -> dict[str, list[Problem]]:
    """Run the checks (all, or those named in `only`): {check name: problems}."""
    return {name: check() for name, check in CHECKS.items() if not only or name in only}
