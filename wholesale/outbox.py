"""A transactional outbox for Celery tasks (RELIABILITY F7, F9).

`enqueue_on_commit(task, *args, **kwargs)` writes the task as a row in the caller's
transaction and hands it to the broker once that transaction commits, deleting the row when
the broker took it. A transaction that rolls back leaves neither row nor task (F9). If the
broker is down at commit, the row stays; `outbox_flush` (Celery beat, every minute) hands
over every row left for more than a grace period once the broker answers again, so a
deferred task is delivered late rather than lost (F7).

Delivery is at least once: a process that dies between the broker taking the task and the
row's deletion leaves a row the flush sends again. The tasks sent this way are emails and
recomputes, whose second run is harmless or idempotent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import OutboxTask

logger = logging.getLogger(__name__)

# A row younger than this is still being handed over by the request that wrote it.
GRACE = timedelta(seconds=60)


def _send(row: OutboxTask) -> bool:
    """Hand one row to the broker; True when taken (the row is then deleted)."""
    from .celery import app

    try:
        app.send_task(row.task_name, args=row.args, kwargs=row.kwargs)
    except Exception as error:  # the broker is down or unreachable: keep the row
        OutboxTask.objects.filter(pk=row.pk).update(
            attempts=row.attempts + 1, last_error=str(error)[:500]
        )
        logger.warning("outbox: %s kept for later: %s", row.task_name, error)
        return False
    OutboxTask.objects.filter(pk=row.pk).delete()
    return True


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send `task` with these arguments once the current transaction commits, and later if
    the broker cannot take it then. Without a broker (the demo) the task runs inline, as
    Celery's eager mode does, after commit."""
    from .celery import app

    if app.conf.task_always_eager:
        transaction.on_commit(lambda: task.delay(*args, **kwargs), robust=True)
        return
    row = OutboxTask.objects.create(task_name=task.name, args=list(args), kwargs=kwargs)
    transaction.on_commit(lambda: _send(row), robust=True)


def outbox_flush(*, now=None, limit: int = 500) -> int:
    """Hand over the rows left behind (broker down at commit); returns how many were taken.
    Rows are claimed with SKIP LOCKED, so two flushes at once never send one twice."""
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        rows = list(
            OutboxTask.objects.select_for_update(skip_locked=True)
            .filter(created_at__lte=now - GRACE)
            .order_by("created_at", "pk")[:limit]
        )
        for row in rows:
            if not _send(row):
                break  # the broker is still down: try the rest next time
            sent += 1
    return sent
