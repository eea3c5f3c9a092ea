"""The task outbox (wholesale.outbox): RELIABILITY F9 (a task asked for in a transaction that
rolls back never runs; one that commits runs once) and F7 (a broker down at commit loses
nothing: the task waits in the outbox and is handed over once the broker is back)."""

from datetime import timedelta
from unittest.mock import patch

import pytest
from django.db import transaction
from django.utils import timezone

from wholesale.celery import app
from wholesale.models import OutboxTask
from wholesale.outbox import enqueue_on_commit, outbox_flush

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker():
    """A broker the test controls: `sent` records what it took, `down` makes it refuse."""

    class Broker:
        sent: list = []
        down = False

        def send_task(self, name, args=None, kwargs=None):
            if self.down:
                raise ConnectionError("Error 111 connecting to the broker")
            self.sent.append((name, args, kwargs))

    fake = Broker()
    fake.sent = []
    previous = app.conf.task_always_eager
    app.conf["CELERY_TASK_ALWAYS_EAGER"] = False
    with patch.object(app, "send_task", fake.send_task):
        yield fake
    app.conf["CELERY_TASK_ALWAYS_EAGER"] = previous


def the_task():
    from orders.tasks import order_email_task

    return order_email_task


def test_f9_a_rolled_back_transaction_sends_nothing_a_committed_one_once(
    broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                enqueue_on_commit(the_task(), "order_received", order_id=1)
                raise RuntimeError("the order failed")
        except RuntimeError:
            pass
    assert broker.sent == [] and not OutboxTask.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(the_task(), "order_received", order_id=2)
    assert broker.sent == [("orders.tasks.order_email_task", ["order_received"], {"order_id": 2})]
    assert not OutboxTask.objects.exists()
    print("\nF9: 0 runs after a rollback, 1 after a commit")


def test_f7_a_broker_down_at_commit_loses_nothing(broker, django_capture_on_commit_callbacks):
    broker.down = True
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(the_task(), "payment_confirmed", order_id=7)
    kept = OutboxTask.objects.get()
    assert (kept.attempts, broker.sent) == (1, [])
    later = timezone.now() + timedelta(minutes=2)
    assert outbox_flush(now=later) == 0  # still down: kept, tried again next minute
    broker.down = False
    assert outbox_flush(now=later) == 1
    assert broker.sent == [
        ("orders.tasks.order_email_task", ["payment_confirmed"], {"order_id": 7})
    ]
    assert not OutboxTask.objects.exists()
    assert outbox_flush(now=later) == 0  # nothing twice
    print("\nF7: 1 task kept while the broker was down, delivered once after, 0 lost")


def test_a_fresh_row_is_left_to_the_request_that_wrote_it(broker):
    OutboxTask.objects.create(task_name="orders.tasks.order_email_task", args=["x"], kwargs={})
    assert outbox_flush() == 0 and broker.sent == []


def test_the_beat_runs_the_flush_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["outbox-flush"]
    assert entry["task"] == "wholesale.tasks.outbox_flush_task" and entry["schedule"] == 60
