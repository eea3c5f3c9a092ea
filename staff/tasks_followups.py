"""Celery task sending a recorded follow-up email (staff.followups)."""

import smtplib

from celery import shared_task


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
def followup_email_task(sent_id: int) -> None:
    """Email one FollowUpSent; a mail server that is down or refuses is retried with growing,
    jittered delays for about four hours, then the failure is logged."""
    # Imported here: staff.followups imports this module, so the task is registered wherever
    # the service is loaded (the admin loads it in web and worker processes alike).
    from .followups import followup_email_send

    followup_email_send(sent_id=sent_id)
