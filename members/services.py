"""Writes to members: registering distributors, their profile and approval."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .models import PROFILE_FIELDS, Distributor, User

logger = logging.getLogger(__name__)


@transaction.atomic
def distributor_register(*, user: User, **profile) -> Distributor:
    status = (
        Distributor.Status.PENDING
        if settings.WHOLESALE_REQUIRE_APPROVAL
        else Distributor.Status.APPROVED
    )
    return Distributor.objects.create(user=user, status=status, **profile)


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
