"""Row locks on the catalog, taken in one place and always in primary-key order.

Two checkouts holding the same variants in opposite line order both lock the lower pk first,
so one waits for the other instead of each holding what the other needs (a deadlock).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.transaction import TransactionManagementError

from .models import Variant


def lock_variants(variant_ids: Iterable[int]) -> dict[int, Variant]:
    """Lock the variants' rows (``SELECT ... FOR UPDATE``) and return them by pk.

    The caller holds the transaction (``transaction.atomic``): the locks last until it ends,
    so read, check and write the stock inside that same block. Ids that do not exist are
    simply absent from the result. Each variant comes with its product (not locked).
    """
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError(
            "lock_variants() must run inside transaction.atomic(); the locks end with it."
        )
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    rows = (
        Variant.objects.filter(pk__in=ids)
        .select_related("product")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    return {variant.pk: variant for variant in rows}
