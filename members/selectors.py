"""Reads of members: who a user is to the shop, and what they may do."""

from .models import Distributor


def distributor_for(user) -> Distributor | None:
    """The distributor profile behind `user`, or None (guests, staff, bare logins)."""
    if not user.is_authenticated:
        return None
    return getattr(user, "distributor", None)


def member_can_order(user) -> bool:
    """Whether `user` may place orders: an active login with an approved distributor profile.

    Email verification is not checked here: with mandatory verification allauth does not let an
    unverified address log in at all. A pending or rejected distributor may browse but not order;
    with WHOLESALE_REQUIRE_APPROVAL off, new distributors start approved.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    distributor = distributor_for(user)
    return distributor is not None and distributor.is_approved
