import os
import smtplib

from celery import Celery, shared_task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wholesale.settings")

app = Celery("wholesale")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A task that sends email: acknowledged once done, and retried with growing, jittered delays
# for about four hours while the mail server is down or refuses.
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
