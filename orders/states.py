"""The order state machine (DESIGN.md): which state may follow which. Pure, no queries.

pending payment → paid → processing → shipped → delivered → completed, with cancelled (only
before payment), refunded (after payment, whole order given back) and disputed (a paid order
the buyer contests) on the side. Cancelled and refunded are final: a paid order never goes
back to awaiting payment.
"""

from __future__ import annotations

from .models import OrderState as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.PROCESSING, S.SHIPPED, S.REFUNDED, S.DISPUTED}),
    S.PROCESSING: frozenset({S.SHIPPED, S.REFUNDED, S.DISPUTED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.COMPLETED, S.REFUNDED, S.DISPUTED}),
    S.DELIVERED: frozenset({S.COMPLETED, S.REFUNDED, S.DISPUTED}),
    S.COMPLETED: frozenset({S.REFUNDED, S.DISPUTED}),
    S.DISPUTED: frozenset({S.PROCESSING, S.SHIPPED, S.DELIVERED, S.COMPLETED, S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

FINAL = frozenset(state for state, after in TRANSITIONS.items() if not after)
# States in which the goods have left the warehouse: a refund then gives no stock back.
SHIPPED_STATES = frozenset({S.SHIPPED, S.DELIVERED, S.COMPLETED})
# States in which the buyer has paid (and money may be refunded).
PAID_STATES = frozenset(
    {S.PAID, S.PROCESSING, S.SHIPPED, S.DELIVERED, S.COMPLETED, S.DISPUTED, S.REFUNDED}
)


def can_move(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())
