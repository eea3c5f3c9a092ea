"""Celery tasks of the staff app: thin, each takes ids and calls one function."""

import smtplib

from celery import shared_task

from . import inquiry_emails
from .grants import grants_expire

# An email task: a mail server that is down or refuses is retried with growing, jittered
# delays for about four hours.
email_task = shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=8,
)


@email_task
def inquiry_email_task(kind: str, **ids: int) -> None:
    """Send one inquiry email (staff.inquiry_emails.EMAILS); a mail server that is down or
    refuses is retried with growing, jittered delays for about four hours."""
    inquiry_emails.send_now(kind, **ids)


@email_task
def followup_email_task(sent_id: int) -> None:
    """Email one recorded follow-up (staff.followups)."""
    from .followups import followup_email_send  # staff.followups enqueues this task

    followup_email_send(sent_id=sent_id)


@shared_task(ignore_result=True)
def grants_expire_task() -> int:
    """Revoke the shares and hand-overs whose time is up (Celery beat, every minute)."""
    return grants_expire()
