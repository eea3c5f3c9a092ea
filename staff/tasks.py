"""Celery tasks of the staff app: thin, each takes ids and calls one function."""

import smtplib

from celery import shared_task

from . import inquiry_emails


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=8,
)
def inquiry_email_task(kind: str, **ids: int) -> None:
    """Send one inquiry email (staff.inquiry_emails.EMAILS); a mail server that is down or
    refuses is retried with growing, jittered delays for about four hours."""
    inquiry_emails.send_now(kind, **ids)
