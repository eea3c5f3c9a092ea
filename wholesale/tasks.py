"""Project-wide Celery tasks."""

from celery import shared_task

from .currencies import rates_refresh
from .outbox import outbox_flush


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def outbox_flush_task() -> int:
    """Beat job (every minute): tasks the broker could not take when they were asked for are
    handed over now (wholesale.outbox)."""
    return outbox_flush()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def rates_refresh_task() -> int:
    """Beat job (daily): the rates of the currencies marked for it, from the configured feed
    (wholesale.currencies.rates_refresh). A feed error keeps the old rates."""
    return len(rates_refresh())
