"""★ The tracking sweep run twice at the same moment on PostgreSQL (RELIABILITY F10), and
through a real Celery worker and Redis broker (F6: acks late, a redelivery changes nothing).

Run with -s to see the figures each test reports.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core import mail
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone

from orders import tracking
from orders.models import OrderState, Shipment, TrackingEvent, TrackingRun, TrackingStatus
from orders.tasks import tracking_update_task
from orders.tracking import OfflineCarrier, tracking_update
from tests.integration.orders.tracking_helpers import A_WEEK_LATER, T0, shipped_order
from wholesale.celery import app

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the races need PostgreSQL"
)


def run_together(count: int, work) -> list:
    """work(index) in `count` threads released at once; returns the errors raised."""
    barrier = threading.Barrier(count)
    errors: list = []

    def thread(index):
        try:
            barrier.wait(timeout=30)
            work(index)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_store_each_event_once_and_email_each_change_once():
    orders = [shipped_order(numbers=(f"LXR{n}CN",))[0] for n in range(6)]
    mail.outbox.clear()
    now = A_WEEK_LATER

    class Slow(OfflineCarrier):
        batch_size = 2

        def fetch(self, parcels):
            time.sleep(0.05)  # both runs hold their answers before either writes
            return super().fetch(parcels)

    errors = run_together(
        3, lambda i: tracking_update(now=now, provider=Slow(now=now), min_interval=timedelta(0))
    )
    assert errors == []

    per_event = TrackingEvent.objects.values("shipment_id", "carrier_event_id").annotate(
        n=Count("pk")
    )
    emails = Counter(message.to[0] for message in mail.outbox)
    runs = TrackingRun.objects.all()
    print(
        f"\nraces: {TrackingEvent.objects.count()} events, "
        f"{max(row['n'] for row in per_event)} max per carrier id, {len(mail.outbox)} emails, "
        f"runs {[run.status for run in runs]}"
    )
    assert max(row["n"] for row in per_event) == 1
    assert TrackingEvent.objects.count() == 6 * 6
    assert set(Shipment.objects.values_list("status", flat=True)) == {TrackingStatus.DELIVERED}
    for order in orders:
        order.refresh_from_db()
        assert order.state == OrderState.DELIVERED
        assert order.events.filter(to_state=OrderState.DELIVERED).count() == 1
    # One "delivered" email per parcel, whichever run wrote the change.
    assert len(mail.outbox) == 6
    assert set(emails.values()) == {1}
    assert {run.status for run in runs} == {TrackingRun.Status.SUCCEEDED}


@pytest.mark.django_db(transaction=True)
def test_the_last_two_parcels_of_an_order_delivered_at_once_in_two_runs_deliver_it():
    """Two runs each write one of an order's two parcels as delivered at the same moment, in
    batches of their own: whichever counts the parcels second sees both delivered."""
    order, [first, second] = shipped_order(numbers=("LXP1CN", "LXP2CN"))
    mail.outbox.clear()
    now = A_WEEK_LATER
    # The second run only sees the second parcel: the first was checked a moment ago.
    Shipment.objects.filter(pk=first.pk).update(last_checked_at=now - timedelta(minutes=30))

    class Only(OfflineCarrier):
        """Knows about one parcel only; says nothing about the others."""

        batch_size = 1

        def __init__(self, number):
            super().__init__(now=now)
            self.number = number

        def fetch(self, parcels):
            answers = super().fetch(parcels)
            return {n: (e if n == self.number else []) for n, e in answers.items()}

    both_moved = threading.Barrier(2)
    moves_apply = tracking._moves_apply

    def moves_apply_then_wait(moves):
        changed = moves_apply(moves)
        if moves:
            # Each run holds its parcel's change, not committed yet, when it counts.
            both_moved.wait(timeout=30)
        return changed

    runs = [
        dict(provider=Only(first.tracking_number), min_interval=timedelta(0)),
        dict(provider=Only(second.tracking_number), min_interval=timedelta(hours=1)),
    ]
    with mock.patch.object(tracking, "_moves_apply", moves_apply_then_wait):
        errors = run_together(2, lambda i: tracking_update(now=now, **runs[i]))
    assert errors == []
    order.refresh_from_db()
    delivered = order.events.filter(to_state=OrderState.DELIVERED).count()
    print(f"\ntwo last parcels: order {order.state}, {delivered} moves, {len(mail.outbox)} emails")
    assert set(order.shipments.values_list("status", flat=True)) == {TrackingStatus.DELIVERED}
    assert order.state == OrderState.DELIVERED
    assert delivered == 1
    assert len(mail.outbox) == 2


def _close_worker_connection(**_kwargs):
    connection.close()


@pytest.mark.real_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_sweep_and_a_redelivery_adds_nothing(settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "the worker needs Redis"
    assert not app.conf.task_always_eager
    settings.WHOLESALE_TRACKING_PROVIDER = "offline"
    sent = timezone.now() - (A_WEEK_LATER - T0)
    order, [shipment] = shipped_order(numbers=("LXW1CN",), shipped_at=sent)

    app.control.purge()
    task_postrun.connect(_close_worker_connection, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            tracking_update_task.delay()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if TrackingRun.objects.filter(finished_at__isnull=False).exists():
                    break
                time.sleep(0.1)
            tracking_update_task.delay()  # a beat overlap or a redelivery
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if TrackingRun.objects.filter(finished_at__isnull=False).count() == 2:
                    break
                time.sleep(0.1)
    finally:
        task_postrun.disconnect(_close_worker_connection)

    shipment.refresh_from_db()
    order.refresh_from_db()
    runs = list(TrackingRun.objects.order_by("started_at").values_list("status", "events_added"))
    print(f"\nworker: shipment {shipment.status}, order {order.state}, runs {runs}")
    assert shipment.status == TrackingStatus.DELIVERED
    assert order.state == OrderState.DELIVERED
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 6
    assert runs == [
        (TrackingRun.Status.SUCCEEDED, 6),
        (TrackingRun.Status.SUCCEEDED, 0),
    ]
