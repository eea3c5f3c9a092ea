"""The order state machine: what may follow what."""

import itertools

import pytest

from orders.models import OrderState as S
from orders.states import FINAL, PAID_STATES, TRANSITIONS, can_move


def test_every_state_has_its_moves():
    assert set(TRANSITIONS) == set(S.values)


def test_the_main_path():
    path = [S.PENDING_PAYMENT, S.PAID, S.PROCESSING, S.SHIPPED, S.DELIVERED, S.COMPLETED]
    assert all(can_move(a, b) for a, b in itertools.pairwise(path))


def test_cancelled_and_refunded_are_final():
    assert {S.CANCELLED, S.REFUNDED} == FINAL


@pytest.mark.parametrize("state", sorted(PAID_STATES))
def test_a_paid_order_never_goes_back_to_unpaid_or_cancelled(state):
    assert not can_move(state, S.PENDING_PAYMENT)
    assert not can_move(state, S.CANCELLED)


def test_only_unpaid_orders_can_be_cancelled():
    assert [state for state in S.values if can_move(state, S.CANCELLED)] == [S.PENDING_PAYMENT]


def test_refund_needs_a_payment():
    assert not can_move(S.PENDING_PAYMENT, S.REFUNDED)
