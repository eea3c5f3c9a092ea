"""staff's answers to other apps' signals."""

from .models import OwnershipChange
from .referrals import referral_from_request
from .services import is_salesperson, owner_assign

Source = OwnershipChange.Source


def distributor_registered_assign_owner(
    sender, *, distributor, request=None, chosen_owner=None, **kwargs
):
    """A new distributor's owner: the salesperson of the referral link the buyer came through
    (see staff.referrals for which link counts), else the contact chosen at signup, else the
    next salesperson in turn. Runs inside the registration's transaction."""
    referral = referral_from_request(request)
    if referral is not None:
        owner_assign(distributor, source=Source.REFERRAL, to_owner=referral.user)
    elif chosen_owner is not None and is_salesperson(chosen_owner):
        owner_assign(distributor, source=Source.SIGNUP_CHOICE, to_owner=chosen_owner)
    else:
        owner_assign(distributor, source=Source.ROUND_ROBIN)
