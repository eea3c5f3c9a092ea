"""Writes to staff: who owns a distributor, and the ownership history.

A salesperson is an active staff user with a ``SalesProfile``. Ownership changes only here, each
change recorded as an append-only ``OwnershipChange`` in the same transaction.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Distributor, User

from .models import OwnershipChange, SalesProfile

Source = OwnershipChange.Source


def salespeople() -> QuerySet[User]:
    """Active salespeople: may own customers and receive transfers."""
    return User.objects.filter(is_active=True, is_staff=True, sales_profile__isnull=False)


def is_salesperson(user: User | None) -> bool:
    return user is not None and salespeople().filter(pk=user.pk).exists()


def salesperson_next() -> User | None:
    """The accepting salesperson least recently assigned in turn, counted as assigned now:
    the next new customer (owner_assign) or the next inquiry that has no owner yet
    (staff.inquiries) goes to them. Call it inside a transaction.

    All candidate profiles are locked in primary-key order (one order for every transaction,
    so no deadlock), then the pick is made in Python from the rows as locked: PostgreSQL does
    not re-sort rows it waited for, so ORDER BY … LIMIT 1 FOR UPDATE would hand a second
    concurrent signup the same, just-updated salesperson.
    """
    profiles = list(
        SalesProfile.objects.select_for_update(of=("self",))
        .filter(is_accepting_customers=True, user__is_active=True, user__is_staff=True)
        .order_by("pk")
    )
    if not profiles:
        return None
    # Read the clock only now, holding the locks: a time taken before waiting for them would be
    # older than the one the transaction we waited for wrote, and would put its pick back in
    # front of the queue.
    now = timezone.now()
    chosen = min(
        profiles,
        key=lambda p: (p.last_assigned_at is not None, p.last_assigned_at or now, p.pk),
    )
    chosen.assigned_count += 1
    chosen.last_assigned_at = now
    chosen.save(update_fields=["assigned_count", "last_assigned_at"])
    return User.objects.get(pk=chosen.user_id)


def _owner_set(distributor: Distributor, to_owner: User, *, by, source, reason, now) -> None:
    OwnershipChange.objects.create(
        distributor=distributor,
        from_owner_id=distributor.owner_id,
        to_owner=to_owner,
        by=by,
        source=source,
        reason=reason,
        created_at=now,
    )
    distributor.owner = to_owner
    distributor.owner_since = now
    distributor.save(update_fields=["owner", "owner_since", "updated_at"])


@transaction.atomic
def owner_assign(
    distributor: Distributor,
    *,
    by: User | None = None,
    source: str,
    reason: str = "",
    to_owner: User | None = None,
) -> User | None:
    """Give a distributor an owner: ``to_owner`` (referral, signup choice, transfer), or for
    ``round_robin`` the accepting salesperson whose turn it is. Returns the owner, or None when
    round robin finds nobody. Assigning the current owner again changes and records nothing.

    Only round-robin assignments move the turn (``assigned_count``, ``last_assigned_at``): a
    customer a salesperson brought through their own link does not cost them their next turn.
    """
    if source not in Source.values:
        raise ValueError(f"Unknown ownership source: {source!r}")
    locked = Distributor.objects.select_for_update().get(pk=distributor.pk)
    if source == Source.ROUND_ROBIN:
        to_owner = salesperson_next()
        if to_owner is None:
            return None
    elif not is_salesperson(to_owner):
        raise ValidationError(_("The new owner must be an active salesperson."))
    if locked.owner_id != to_owner.pk:
        now = timezone.now()
        _owner_set(locked, to_owner, by=by, source=source, reason=reason, now=now)
    distributor.owner = locked.owner
    distributor.owner_since = locked.owner_since
    return to_owner


@transaction.atomic
def owners_transfer(
    distributor_ids, *, to_owner: User, by: User, reason: str
) -> list[OwnershipChange]:
    """Hand distributors to another salesperson (one, or all of someone who leaves), with one
    history row per distributor that changes hands. Distributors already owned by ``to_owner``
    are left alone. Returns the history rows written."""
    if not is_salesperson(to_owner):
        raise ValidationError(_("Customers can only be transferred to an active salesperson."))
    if not reason.strip():
        raise ValidationError(_("Say why the customers are transferred."))
    # Locked in primary-key order, like every other writer of many distributors.
    moving = list(
        Distributor.objects.select_for_update()
        .filter(pk__in=list(distributor_ids))
        .exclude(owner=to_owner)
        .order_by("pk")
        .only("pk", "owner_id")
    )
    if not moving:
        return []
    now = timezone.now()
    changes = OwnershipChange.objects.bulk_create(
        OwnershipChange(
            distributor_id=d.pk,
            from_owner_id=d.owner_id,
            to_owner=to_owner,
            by=by,
            source=Source.TRANSFER,
            reason=reason,
            created_at=now,
        )
        for d in moving
    )
    Distributor.objects.filter(pk__in=[d.pk for d in moving]).update(
        owner=to_owner, owner_since=now, updated_at=now
    )
    return changes
