"""Celery tasks of the orders app: thin, each takes ids (or nothing) and calls one service."""

from celery import shared_task

from .lifecycle import orders_expire_unpaid


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def orders_expire_unpaid_task() -> int:
    """Beat job: cancel the orders unpaid past their deadline and give their stock back.

    Idempotent: each order is re-checked under its row lock, so a run delivered twice (a beat
    overlap, a redelivery after a lost worker) cancels nothing a second time.
    """
    return orders_expire_unpaid()
