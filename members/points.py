"""The points ledger: earned on paid orders, redeemed at checkout, reversed on refunds and
cancellations, expiring after a while, adjusted by the super admin.

Every change is one append-only `PointsEntry` written in the transaction that moves the
member's `PointsAccount.balance`, with that row locked (`select_for_update`): two checkouts
redeeming at once queue on it, and the second sees what the first left. The balance is never
negative (a database constraint backs the check) and always equals the sum of the entries.

members does not depend on orders: the ordering side calls these with amounts, order ids and
numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import PointsAccount, PointsEntry, PointsRules

Kind = PointsEntry.Kind


def points_rules() -> PointsRules:
    return PointsRules.objects.get_or_create(pk=1)[0]


def points_balance(member) -> int:
    account = PointsAccount.objects.filter(member=member).only("balance").first()
    return account.balance if account else 0


def _locked_account(member) -> PointsAccount:
    PointsAccount.objects.get_or_create(member=member)
    return PointsAccount.objects.select_for_update().get(member=member)


def _write(
    member,
    kind: str,
    points: int,
    reason: str,
    *,
    order_id: int | None = None,
    order_number: str = "",
    expires_at: datetime | None = None,
    by=None,
    account: PointsAccount | None = None,
) -> PointsEntry:
    """One ledger entry and the balance it moves, under the account's row lock."""
    if points == 0:
        raise ValueError("A points entry moves at least one point.")
    account = account or _locked_account(member)
    balance = account.balance + points
    if balance < 0:
        raise ValidationError(
            _("Only %(balance)d points are available.") % {"balance": account.balance},
            code="balance",
        )
    entry = PointsEntry.objects.create(
        member=member,
        kind=kind,
        points=points,
        reason=reason[:200],
        order_id=order_id,
        order_number=order_number,
        expires_at=expires_at,
        by=by,
    )
    PointsAccount.objects.filter(pk=account.pk).update(balance=balance, updated_at=timezone.now())
    account.balance = balance
    return entry


def points_for(amount: Decimal, multiplier: Decimal, rules: PointsRules | None = None) -> int:
    """Points earned for `amount` (base currency) at a level's multiplier: whole points, down."""
    rules = rules or points_rules()
    raw = Decimal(amount) * rules.points_per_unit * Decimal(multiplier)
    return max(int(raw.to_integral_value(rounding=ROUND_FLOOR)), 0)


@transaction.atomic
def points_earn(
    *, member, amount: Decimal, multiplier: Decimal, order_id: int, order_number: str
) -> PointsEntry | None:
    """Points for a paid order, once per order (a payment confirmed twice earns once)."""
    account = _locked_account(member)
    if PointsEntry.objects.filter(member=member, order_id=order_id, kind=Kind.EARN).exists():
        return None
    rules = points_rules()
    points = points_for(amount, multiplier, rules)
    if points <= 0:
        return None
    expires_at = timezone.now() + timedelta(days=rules.expiry_days) if rules.expiry_days else None
    return _write(
        member,
        Kind.EARN,
        points,
        _("Order %(number)s paid") % {"number": order_number},
        order_id=order_id,
        order_number=order_number,
        expires_at=expires_at,
        account=account,
    )


def points_value(points: int, rules: PointsRules | None = None) -> Decimal:
    """What `points` take off an order, in the base currency (cents, rounded down)."""
    rules = rules or points_rules()
    return (Decimal(points) * rules.point_value).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)


@dataclass(frozen=True)
class RedeemLimits:
    balance: int
    minimum: int
    maximum: int  # the most this order may take: balance and the per-order cap

    @property
    def possible(self) -> bool:
        return self.maximum >= self.minimum and self.maximum > 0


def redeem_limits(*, balance: int, goods_base: Decimal, rules: PointsRules | None = None):
    """How many points an order of `goods_base` (base currency) may take."""
    rules = rules or points_rules()
    cap_money = Decimal(goods_base) * rules.max_redeem_percent / Decimal(100)
    cap = int((cap_money / rules.point_value).to_integral_value(rounding=ROUND_FLOOR))
    return RedeemLimits(
        balance=balance, minimum=rules.min_redeem, maximum=max(min(balance, cap), 0)
    )


def points_redeem(
    *, member, points: int, goods_base: Decimal, order_id: int, order_number: str
) -> PointsEntry:
    """Spend points on an order. Called inside the order's placing transaction: refusals raise
    ValidationError and the order is not placed."""
    if not isinstance(points, int) or points <= 0:
        raise ValidationError(_("Enter a whole, positive number of points."), code="points")
    with transaction.atomic():
        account = _locked_account(member)
        rules = points_rules()
        limits = redeem_limits(balance=account.balance, goods_base=goods_base, rules=rules)
        if points < limits.minimum:
            raise ValidationError(
                _("At least %(minimum)d points are redeemed at a time.")
                % {"minimum": limits.minimum},
                code="minimum",
            )
        if points > account.balance:
            raise ValidationError(
                _("Only %(balance)d points are available.") % {"balance": account.balance},
                code="balance",
            )
        if points > limits.maximum:
            raise ValidationError(
                _("This order can take at most %(maximum)d points.") % {"maximum": limits.maximum},
                code="cap",
            )
        return _write(
            member,
            Kind.REDEEM,
            -points,
            _("Redeemed on order %(number)s") % {"number": order_number},
            order_id=order_id,
            order_number=order_number,
            account=account,
        )


def _order_sum(member, order_id: int, *kinds, sign: int | None = None) -> int:
    entries = PointsEntry.objects.filter(member=member, order_id=order_id, kind__in=kinds)
    if sign == 1:
        entries = entries.filter(points__gt=0)
    elif sign == -1:
        entries = entries.filter(points__lt=0)
    return entries.aggregate(total=Sum("points"))["total"] or 0


@transaction.atomic
def points_reverse_order(
    *, member, order_id: int, order_number: str, share: Decimal = Decimal(1), reason: str = ""
) -> list[PointsEntry]:
    """Undo an order's points for the `share` of it given back (1 = all of it: a cancellation
    or a full refund): the points it earned are taken back, the points spent on it are returned.
    Repeated calls only move what is still due. Earned points already spent elsewhere are
    taken back only as far as the balance goes: it never turns negative."""
    account = _locked_account(member)
    share = min(max(Decimal(share), Decimal(0)), Decimal(1))
    written = []
    earned = _order_sum(member, order_id, Kind.EARN)
    taken_back = -_order_sum(member, order_id, Kind.REVERSE, sign=-1)
    due = int((Decimal(earned) * share).to_integral_value(rounding=ROUND_FLOOR)) - taken_back
    due = min(due, account.balance)
    why = reason or _("Order %(number)s given back") % {"number": order_number}
    if due > 0:
        written.append(
            _write(
                member,
                Kind.REVERSE,
                -due,
                why,
                order_id=order_id,
                order_number=order_number,
                account=account,
            )
        )
    spent = -_order_sum(member, order_id, Kind.REDEEM)
    returned = _order_sum(member, order_id, Kind.REVERSE, sign=1)
    owed = int((Decimal(spent) * share).to_integral_value(rounding=ROUND_FLOOR)) - returned
    if owed > 0:
        written.append(
            _write(
                member,
                Kind.REVERSE,
                owed,
                why,
                order_id=order_id,
                order_number=order_number,
                account=account,
            )
        )
    return written


def _unexpired_credits(member, now):
    """The member's credits still held, oldest expiry first, after every debit has used the
    credits that expire soonest (first in, first out): (expires_at, points left) pairs."""
    entries = list(
        PointsEntry.objects.filter(member=member).values_list("points", "expires_at", "kind")
    )
    credits = sorted(
        ([expires_at, points] for points, expires_at, _kind in entries if points > 0),
        key=lambda credit: (credit[0] is None, credit[0] or now),
    )
    debit = -sum(points for points, _e, _k in entries if points < 0)
    for credit in credits:
        used = min(credit[1], debit)
        credit[1] -= used
        debit -= used
    return [(expires_at, left) for expires_at, left in credits if left > 0]


def points_expire(*, now: datetime | None = None) -> int:
    """Write an expiry entry for every member whose earned points have passed their date and
    were not spent. Returns the number of members touched; running it again writes nothing."""
    now = now or timezone.now()
    members = (
        PointsEntry.objects.filter(kind=Kind.EARN, expires_at__lte=now)
        .filter(member__points_account__balance__gt=0)
        .values_list("member", flat=True)
        .distinct()
    )
    touched = 0
    for member_id in members:
        with transaction.atomic():
            account = PointsAccount.objects.select_for_update().get(member_id=member_id)
            lapsed = sum(
                left
                for expires_at, left in _unexpired_credits(account.member, now)
                if expires_at is not None and expires_at <= now
            )
            lapsed = min(lapsed, account.balance)
            if lapsed > 0:
                _write(
                    account.member,
                    Kind.EXPIRE,
                    -lapsed,
                    _("Points past their expiry date"),
                    account=account,
                )
                touched += 1
    return touched


def points_expiring(member, *, now: datetime | None = None, within_days: int = 90):
    """The member's points due to expire in the coming days: (date, points), soonest first."""
    now = now or timezone.now()
    horizon = now + timedelta(days=within_days)
    due: dict = {}
    for expires_at, left in _unexpired_credits(member, now):
        if expires_at is not None and now < expires_at <= horizon:
            day = timezone.localdate(expires_at)
            due[day] = due.get(day, 0) + left
    return sorted(due.items())


@transaction.atomic
def points_adjust(*, member, points: int, by, reason: str) -> PointsEntry:
    """A correction by the super admin, with its reason."""
    if by is None or not by.is_superuser:
        raise ValidationError(_("Only the super admin adjusts points."), code="permission")
    if not reason.strip():
        raise ValidationError(_("Say why the points are adjusted."), code="reason")
    if not isinstance(points, int) or points == 0:
        raise ValidationError(_("Enter a whole number of points other than 0."), code="points")
    return _write(member, Kind.ADJUST, points, reason.strip(), by=by)


def points_history(member):
    return PointsEntry.objects.filter(member=member).order_by("-created_at", "-pk")


def ledger_mismatches() -> list[tuple[int, int, int]]:
    """Accounts whose balance is not the sum of their entries: (member id, balance, sum)."""
    sums = dict(
        PointsEntry.objects.values("member")
        .annotate(total=Sum("points"))
        .values_list("member", "total")
    )
    found = []
    for member_id, balance in PointsAccount.objects.values_list("member_id", "balance"):
        total = sums.pop(member_id, 0)
        if balance != total:
            found.append((member_id, balance, total))
    found += [(member_id, 0, total) for member_id, total in sums.items() if total]
    return found
