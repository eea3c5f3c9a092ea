"""Celery tasks of the staff app: thin, each takes ids and calls one function."""

from celery import shared_task

from wholesale.celery import email_task

from . import inquiry_emails
from .grants import grants_expire


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
