"""Object-level access for one colleague: an order or a distributor handed to customer service,
or shared with another salesperson for a while.

The permission is a django-guardian object permission (`view_<model>`), which the admin reads
through `granted()`; the `AccessGrant` row beside it is the history (who, to whom, why, until
when, revoked by whom). A grant ends by `access_revoke` or, past its `expires_at`, by
`grants_expire` (Celery beat, every minute); either removes the guardian permission, so access
ends on the next request.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from .models import AccessGrant


def _view_perm(model) -> str:
    return f"{model._meta.app_label}.view_{model._meta.model_name}"


@transaction.atomic
def access_grant(
    obj: models.Model,
    *,
    to,
    by,
    kind: str = AccessGrant.Kind.SHARE,
    reason: str = "",
    until: datetime | None = None,
) -> AccessGrant:
    """Let `to` see `obj` in the admin until revoked (or until `until`)."""
    grant = AccessGrant.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        granted_to=to,
        granted_by=by,
        kind=kind,
        reason=reason,
        expires_at=until,
    )
    assign_perm(_view_perm(type(obj)), to, obj)
    return grant


def _still_granted(grant: AccessGrant) -> bool:
    """Whether another live grant gives the same person the same object."""
    return (
        AccessGrant.objects.filter(
            content_type_id=grant.content_type_id,
            object_id=grant.object_id,
            granted_to_id=grant.granted_to_id,
            revoked_at__isnull=True,
        )
        .exclude(pk=grant.pk)
        .filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now()))
        .exists()
    )


@transaction.atomic
def access_revoke(grant: AccessGrant, *, by=None) -> AccessGrant:
    """End a grant now; the permission goes unless another live grant still gives it."""
    grant = AccessGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is not None:
        return grant
    grant.revoked_at = timezone.now()
    grant.revoked_by = by
    grant.save(update_fields=["revoked_at", "revoked_by"])
    if not _still_granted(grant):
        obj = grant.content_type.get_object_for_this_type(pk=grant.object_id)
        remove_perm(_view_perm(type(obj)), grant.granted_to, obj)
    return grant


def grants_expire(*, now: datetime | None = None) -> int:
    """Revoke every grant past its end; returns how many."""
    now = now or timezone.now()
    due = AccessGrant.objects.filter(revoked_at__isnull=True, expires_at__lte=now)
    count = 0
    for grant in due.only("pk"):
        access_revoke(grant)
        count += 1
    return count


def granted(user, model) -> models.QuerySet:
    """The objects of `model` handed over to or shared with `user`: their own object
    permissions only, never a model permission (guardian's `accept_global_perms=False`) nor a
    group's, and only while a grant is live, so one that has run out gives nothing even
    before `grants_expire` has removed its permission."""
    live = AccessGrant.objects.filter(
        content_type=ContentType.objects.get_for_model(model),
        granted_to=user,
        revoked_at__isnull=True,
    ).filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now()))
    return get_objects_for_user(
        user,
        _view_perm(model),
        klass=model,
        use_groups=False,
        with_superuser=False,
        accept_global_perms=False,
    ).filter(pk__in=live.values("object_id"))
