"""Celery tasks of the members app: thin, each takes ids (or nothing) and calls one service."""

from celery import shared_task

from wholesale.celery import email_task

from . import subscription_emails
from .subscriptions import new_arrivals_alerts_send


@email_task
def subscription_email_task(kind: str, **params) -> None:
    """Send one subscription email (members.subscription_emails.EMAILS); a mail server that is
    down or refuses is retried with growing, jittered delays for about four hours."""
    subscription_emails.send_now(kind, **params)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def new_arrivals_alerts_task() -> int:
    """Beat job (daily): queue the new-arrival alerts. Idempotent: each alert's window closes
    under its row lock, so a run delivered twice queues nothing twice."""
    return new_arrivals_alerts_send()


@email_task
def level_change_email_task(change_id: int) -> None:
    """Tell a member their level changed (members.levels); retried like every email task."""
    from .levels import level_change_email_send  # levels import this module

    level_change_email_send(change_id=change_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def points_expire_task() -> int:
    """Beat job (nightly): points past their date expire. Idempotent: a second run in a row
    finds nothing left to expire."""
    from .points import points_expire

    return points_expire()
