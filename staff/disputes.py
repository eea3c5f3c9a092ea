"""Disputes: a salesperson marks a paid order disputed and hands it to a customer service
colleague, who sees that order, and only it, until the dispute is closed.

Opening moves the order to *disputed*, gives the colleague an object permission on it
(staff.grants) and writes the hand-over to the order's history; closing puts the order back in
the state it had before the dispute (unless it was refunded meanwhile), revokes the permission
and writes the outcome to the history.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import lifecycle, states
from orders.models import OrderEvent, OrderState

from . import roles
from .grants import access_grant, access_revoke
from .models import AccessGrant, Dispute

User = get_user_model()


def customer_service_staff() -> QuerySet:
    """Active staff in the customer service role: who a dispute can be handed to."""
    return User.objects.filter(
        is_active=True, is_staff=True, groups__name=roles.CUSTOMER_SERVICE
    ).order_by("first_name", "email")


def dispute_open_for(order_id: int) -> Dispute | None:
    return Dispute.objects.filter(order_id=order_id, state=Dispute.State.OPEN).first()


def _name(user) -> str:
    return user.get_full_name() or user.email


def dispute_open(*, order_id: int, by, handed_to, reason: str) -> Dispute:
    """Mark the order disputed and hand it to `handed_to` (customer service)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say what the dispute is about."), code="reason")
    if not customer_service_staff().filter(pk=handed_to.pk).exists():
        raise ValidationError(
            _("A dispute can only be handed to an active customer service colleague."),
            code="handed_to",
        )
    try:
        with transaction.atomic():
            order = lifecycle.lock_order(order_id)
            if dispute_open_for(order.pk):
                raise ValidationError(
                    _("Order %(number)s already has an open dispute.") % {"number": order.number},
                    code="open",
                )
            lifecycle.order_transition(
                order_id=order.pk, to_state=OrderState.DISPUTED, by=by, reason=reason
            )
            grant = access_grant(
                order, to=handed_to, by=by, kind=AccessGrant.Kind.HANDOVER, reason=reason
            )
            dispute = Dispute.objects.create(
                order=order, reason=reason, opened_by=by, handled_by=handed_to, grant=grant
            )
            lifecycle.order_note(
                order_id=order.pk,
                by=by,
                reason=_("Dispute handed to %(name)s.") % {"name": _name(handed_to)},
            )
    except IntegrityError as exc:  # two people opening one at the same moment
        raise ValidationError(_("This order already has an open dispute."), code="open") from exc
    return dispute


def _state_before(order_id: int) -> str | None:
    """The state the order had when it last became disputed."""
    event = (
        OrderEvent.objects.filter(
            order_id=order_id, kind=OrderEvent.Kind.TRANSITION, to_state=OrderState.DISPUTED
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    return event.from_state if event else None


@transaction.atomic
def dispute_close(*, dispute_id: int, by, resolution: str) -> Dispute:
    """Close an open dispute: the order goes back to its state before it, and the customer
    service colleague loses access on their next request."""
    resolution = resolution.strip()
    if not resolution:
        raise ValidationError(_("Say how the dispute was settled."), code="resolution")
    dispute = Dispute.objects.select_for_update().filter(pk=dispute_id).first()
    if dispute is None or dispute.state != Dispute.State.OPEN:
        raise ValidationError(_("This dispute is already closed."), code="closed")
    order = lifecycle.lock_order(dispute.order_id)
    if order.state == OrderState.DISPUTED:
        back = _state_before(order.pk)
        if back is None or not states.can_move(OrderState.DISPUTED, back):
            back = OrderState.PROCESSING  # a paid order under dispute goes on being handled
        lifecycle.order_transition(order_id=order.pk, to_state=back, by=by, reason=resolution)
    dispute.state = Dispute.State.CLOSED
    dispute.closed_at = timezone.now()
    dispute.closed_by = by
    dispute.resolution = resolution
    dispute.save(update_fields=["state", "closed_at", "closed_by", "resolution"])
    if dispute.grant_id:
        access_revoke(dispute.grant, by=by)
    lifecycle.order_note(
        order_id=order.pk,
        by=by,
        reason=_("Dispute closed: %(resolution)s") % {"resolution": resolution},
    )
    return dispute
