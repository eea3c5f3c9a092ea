"""Writes to members: registering distributors, their profile and approval."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Distributor, User


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
    for field, value in data.items():
        setattr(distributor, field, value)
    distributor.save()
    return distributor


@transaction.atomic
def distributor_set_status(*, distributor: Distributor, status: str, by: User) -> Distributor:
    distributor.status = status
    distributor.status_changed_at = timezone.now()
    distributor.status_changed_by = by
    distributor.save(update_fields=["status", "status_changed_at", "status_changed_by"])
    return distributor
