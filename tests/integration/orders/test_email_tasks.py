"""Order emails leave through a Celery task enqueued on commit: the buyer's request neither
renders nor waits for the mail server, a rolled-back change sends nothing, and a mail server
that refuses is retried."""

import smtplib

import pytest
from django.core import mail

from orders import emails
from orders.tasks import order_email_task
from tests.factories import ProductFactory, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def sizes():
    return list(ProductFactory().variants.order_by("position"))


def test_placing_enqueues_the_email_after_commit(buyer, sizes, monkeypatch):
    queued = []
    monkeypatch.setattr(order_email_task, "delay", lambda *a, **kw: queued.append((a, kw)))
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        order = place_order(buyer, {sizes[0]: 60})
    assert queued == [] and mail.outbox == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert queued == [(("order_received",), {"order_id": order.pk})]
    assert mail.outbox == []  # the request only enqueued it


def test_a_refused_order_enqueues_nothing(buyer, sizes, monkeypatch):
    queued = []
    monkeypatch.setattr(order_email_task, "delay", lambda *a, **kw: queued.append((a, kw)))
    from django.core.exceptions import ValidationError
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True), pytest.raises(ValidationError):
        place_order(buyer, {sizes[0]: 5})  # below the minimum order
    assert queued == []


def test_the_task_sends_it(buyer, sizes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(buyer, {sizes[0]: 60})
    [message] = mail.outbox
    assert order.number in message.subject


def test_a_mail_server_that_refuses_is_retried_with_backoff(buyer, sizes, monkeypatch):
    order = place_order(buyer, {sizes[0]: 60})

    def refuse(**ids):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setitem(emails.EMAILS, "order_received", refuse)
    retried = []

    def retry(*args, **kwargs):
        retried.append(kwargs)
        raise RuntimeError("retry scheduled")

    monkeypatch.setattr(order_email_task, "retry", retry)
    with pytest.raises(RuntimeError, match="retry scheduled"):
        order_email_task.run("order_received", order_id=order.pk)
    assert len(retried) == 1
    assert order_email_task.max_retries == 8
    assert order_email_task.retry_backoff and order_email_task.retry_jitter


def test_an_unknown_email_is_a_programming_error():
    with pytest.raises(ValueError):
        emails.send_later("newsletter", order_id=1)
