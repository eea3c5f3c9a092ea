"""Project-wide Celery tasks."""

from celery import shared_task

from .outbox import outbox_flush


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def outbox_flush_task() -> int:
    """Beat job (every minute): tasks the broker could not take when they were asked for are
    handed over now (wholesale.outbox)."""
    return outbox_flush()
