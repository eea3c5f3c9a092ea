"""Writes to members: registering distributors, their profile and approval; the address book."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import ADDRESS_FIELDS, PROFILE_FIELDS, Address, Distributor, User
from .signals import distributor_registered

logger = logging.getLogger(__name__)


@transaction.atomic
def distributor_register(
    *, user: User, request=None, chosen_owner: User | None = None, **profile
) -> Distributor:
    """Create the user's distributor profile and announce it (``distributor_registered``), in
    one transaction, so that e.g. the owning salesperson is assigned with the account or not at
    all. ``chosen_owner`` is the contact the buyer picked at signup, if any."""
    status = (
        Distributor.Status.PENDING
        if settings.WHOLESALE_REQUIRE_APPROVAL
        else Distributor.Status.APPROVED
    )
    distributor = Distributor.objects.create(user=user, status=status, **profile)
    distributor_registered.send(
        sender=Distributor, distributor=distributor, request=request, chosen_owner=chosen_owner
    )
    return distributor


@transaction.atomic
def distributor_update_profile(*, distributor: Distributor, data: dict) -> Distributor:
    unknown = set(data) - set(PROFILE_FIELDS)
    if unknown:
        # Status and ownership change only through their own services, never through the profile.
        raise ValueError(f"Not profile fields: {', '.join(sorted(unknown))}")
    for field, value in data.items():
        setattr(distributor, field, value)
    distributor.save(update_fields=[*data, "updated_at"])
    return distributor


@transaction.atomic
def distributor_set_status(*, distributor: Distributor, status: str, by: User) -> Distributor:
    """Approve or reject (or send back to pending) a distributor, and tell them when approved.

    The row is locked so that two staff approving at the same moment send one email, not two.
    """
    if status not in Distributor.Status.values:
        raise ValueError(f"Unknown distributor status: {status!r}")
    locked = Distributor.objects.select_for_update().get(pk=distributor.pk)
    previous = locked.status
    distributor.status = status
    distributor.status_changed_at = timezone.now()
    distributor.status_changed_by = by
    distributor.save(update_fields=["status", "status_changed_at", "status_changed_by"])
    if status == Distributor.Status.APPROVED and previous != Distributor.Status.APPROVED:
        distributor_id = distributor.pk
        # robust: a mail server that is down must not turn a saved approval into an error page.
        transaction.on_commit(
            lambda: distributor_send_approved_email(distributor_id=distributor_id), robust=True
        )
    return distributor


def distributor_send_approved_email(*, distributor_id: int) -> None:
    """Email the distributor that the trade account is approved and orders are open."""
    distributor = Distributor.objects.select_related("user").get(pk=distributor_id)
    site_url = settings.WHOLESALE_SITE_URL.rstrip("/")
    context = {
        "distributor": distributor,
        "shop_name": settings.WHOLESALE_SHOP_NAME,
        "catalog_url": f"{site_url}{reverse('catalog:list')}" if site_url else "",
        "account_url": f"{site_url}{reverse('members:account')}" if site_url else "",
    }
    # We keep no language per distributor yet: write in the shop's language, not the staff's.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("members/email/approved_subject.txt", context)
        body = render_to_string("members/email/approved_message.txt", context)
    send_mail(
        subject=" ".join(subject.split()),
        message=body,
        from_email=None,
        recipient_list=[distributor.user.email],
    )
    logger.info("approval email sent to distributor %s", distributor_id)


# --- Address book ---------------------------------------------------------------------------


def _lock_address_book(member: User) -> None:
    """Serialise a member's address-book writes on their user row.

    The one-default rule is a partial unique index: two default switches at once would each
    clear the old default and then collide on the new ones. Locking the member (a row that
    always exists, unlike their addresses) makes the second wait and see the first's result.
    """
    User.objects.select_for_update().filter(pk=member.pk).values_list("pk").first()


def _locked_address(member: User, address_id: int) -> Address:
    address = Address.objects.select_for_update().filter(pk=address_id, member=member).first()
    if address is None:
        raise Http404(_("No such address."))
    return address


def _address_data(data: dict) -> dict:
    unknown = set(data) - set(ADDRESS_FIELDS)
    if unknown:
        # The owner and the default flag change only through these services, never a form.
        raise ValueError(f"Not address fields: {', '.join(sorted(unknown))}")
    return data


def _clear_default(member: User, *, keep: int | None = None) -> None:
    Address.objects.filter(member=member, is_default=True).exclude(pk=keep).update(
        is_default=False, updated_at=timezone.now()
    )


@transaction.atomic
def address_create(*, member: User, data: dict, make_default: bool = False) -> Address:
    """Add an address to the member's book. The member's first own address becomes the default,
    and so does one created with `make_default`; an end customer's address never does."""
    data = _address_data(data)
    _lock_address_book(member)
    address = Address(member=member, **data)
    if not address.is_end_customer:
        has_default = Address.objects.filter(member=member, is_default=True).exists()
        if make_default or not has_default:
            _clear_default(member)
            address.is_default = True
    address.save()
    return address


@transaction.atomic
def address_update(*, member: User, address_id: int, data: dict) -> Address:
    """Change one of the member's addresses (404 for anyone else's). Orders placed to it keep
    their own copy. An address turned into an end customer's stops being the default."""
    data = _address_data(data)
    _lock_address_book(member)
    address = _locked_address(member, address_id)
    for field_name, value in data.items():
        setattr(address, field_name, value)
    if address.is_end_customer:
        address.is_default = False
    address.save()
    return address


@transaction.atomic
def address_delete(*, member: User, address_id: int) -> None:
    """Remove one of the member's addresses (404 for anyone else's). Orders keep their copy."""
    _lock_address_book(member)
    _locked_address(member, address_id).delete()


@transaction.atomic
def address_set_default(*, member: User, address_id: int) -> Address:
    """Make one of the member's own addresses the default (404 for anyone else's); the previous
    default stops being one in the same transaction."""
    _lock_address_book(member)
    address = _locked_address(member, address_id)
    if address.is_end_customer:
        raise ValidationError(
            _("An end customer's address cannot be your default address."),
            code="end_customer",
        )
    if not address.is_default:
        # The old default is cleared first: the partial unique index is checked per statement.
        _clear_default(member, keep=address.pk)
        address.is_default = True
        address.save(update_fields=["is_default", "updated_at"])
    return address
