"""Reads of members: who a user is to the shop, and what they may do."""

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from .models import Address, Distributor


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


def addresses_for(member, *, end_customer: bool | None = None) -> QuerySet[Address]:
    """The member's address book, the default first, then the most recently changed; only the
    end customers' (or only their own) with `end_customer`. Empty for guests."""
    if not member.is_authenticated:
        return Address.objects.none()
    addresses = Address.objects.filter(member=member)
    if end_customer is not None:
        addresses = addresses.filter(is_end_customer=end_customer)
    return addresses


def address_for(member, address_id) -> Address:
    """One of the member's own addresses; a boring 404 for anyone else's or none at all."""
    try:
        address_id = int(address_id)
    except (TypeError, ValueError):
        raise Http404(_("No such address.")) from None
    address = addresses_for(member).filter(pk=address_id).first()
    if address is None:
        raise Http404(_("No such address."))
    return address
