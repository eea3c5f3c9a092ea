"""Celery tasks of the orders app: thin, each takes ids (or nothing) and calls one service."""

from celery import shared_task

from wholesale.celery import email_task

from . import emails, stripe_gateway
from .exports import ExportFailed, export_run, profiles_due
from .lifecycle import orders_expire_unpaid
from .membership import member_level_recompute, members_level_recompute_all
from .tracking import TrackingUnavailable, tracking_update


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def orders_expire_unpaid_task() -> int:
    """Beat job: cancel the orders unpaid past their deadline and give their stock back.

    Idempotent: each order is re-checked under its row lock, so a run delivered twice (a beat
    overlap, a redelivery after a lost worker) cancels nothing a second time.
    """
    return orders_expire_unpaid()


@email_task
def order_email_task(kind: str, **ids: int) -> None:
    """Send one order email (orders.emails.EMAILS); a mail server that is down or refuses is
    retried with growing, jittered delays for about four hours, then the failure is logged."""
    emails.send_now(kind, **ids)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def stripe_session_expire_task(session_id: str) -> bool:
    """Close a cancelled order's open Checkout Session at Stripe (idempotent: expiring an
    expired session is refused by Stripe and logged)."""
    return stripe_gateway.session_expire(session_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def member_level_recompute_task(member_id: int, reason: str = "") -> bool:
    """A member's level after a payment or a refund (orders.membership). Idempotent: the
    level is set from the figures read under the distributor's lock, and an unchanged level
    records nothing."""
    return member_level_recompute(member=member_id, reason=reason or None) is not None


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def members_level_recompute_all_task() -> int:
    """Beat job (nightly): every member's level from their last 12 months, so levels lapse."""
    return members_level_recompute_all()


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(TrackingUnavailable,),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=5,
)
def tracking_update_task() -> int:
    """Beat job (three times a day): the tracking sweep (orders.tracking.tracking_update).

    Safe to run twice at once or again after a lost worker (events unique per carrier id,
    status changes written once). When a batch failed at the carrier the task is retried with
    growing, jittered delays (1 minute to 1 hour, 5 times); the retry asks only about the
    shipments not checked in the last WHOLESALE_TRACKING_RECHECK_MINUTES, then the failure
    stays recorded in the run log.
    """
    run = tracking_update()
    if run.errors:
        raise TrackingUnavailable(f"tracking run {run.pk}: {run.errors[:500]}")
    return run.shipments_checked


# Product kits' tasks live beside their code (orders.kits); imported here so the worker,
# which discovers each app's tasks module, registers them.
from .kits import kit_build_task, kits_expire_task  # noqa: E402, F401


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(ExportFailed,),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=5,
)
def export_run_task(profile_id: int) -> int:
    """One ERP export profile's next batch (orders.exports.export_run). Safe to run twice at
    once (the second finds the profile locked) or again after a lost worker (the batch's file
    name and cursor range are fixed, the cursor moves only with the success). A failed batch is
    recorded and retried with growing, jittered delays (1 minute to 1 hour, 5 times)."""
    run = export_run(profile_id)
    if run is not None and run.status == run.Status.FAILED:
        raise ExportFailed(f"export run {run.pk}: {run.error[:500]}")
    return run.row_count if run is not None else 0


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def exports_run_due_task() -> int:
    """Beat job: queue the hourly and daily export profiles whose time has come."""
    due = profiles_due()
    for profile_id in due:
        export_run_task.delay(profile_id)
    return len(due)
