"""★ The unpaid-order expiry through a real Celery worker and Redis broker (RELIABILITY L6's
"cancel unpaid" task, and DESIGN.md's "at least one CI test goes through a real worker").

It runs wherever the suite runs: `make test` and CI point REDIS_URL at Redis (127.0.0.1:6379),
which is the broker of the app in wholesale/celery.py. There is no skip: without Redis it fails.
"""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import connection
from django.db.models import Sum

from catalog.models import StockMovement, Variant
from orders.models import Order, OrderEvent, OrderState
from orders.reconcile import stock_problems
from orders.tasks import orders_expire_unpaid_task
from tests.factories import DistributorFactory, ProductFactory, place_order
from wholesale.celery import app

TASK = "orders.tasks.orders_expire_unpaid_task"


def _close_worker_connection(**_kwargs):
    # The task ran in the worker's thread, on that thread's own database connection.
    connection.close()


def test_the_beat_runs_the_expiry_every_few_minutes():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == TASK)
    assert 0 < entry["schedule"] <= 3600
    assert TASK in app.tasks
    task = app.tasks[TASK]
    assert task.acks_late and task.reject_on_worker_lost


@pytest.mark.real_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_cancels_an_expired_order_and_gives_its_stock_back(settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "the worker needs Redis"
    assert not app.conf.task_always_eager
    settings.WHOLESALE_UNPAID_TRANSFER_HOURS = 0  # due the moment it is placed
    variant = ProductFactory(variants=["S"], variants__stock=100).variants.get()
    buyer = DistributorFactory().user
    order = place_order(buyer, {variant: 40})
    assert Variant.objects.get(pk=variant.pk).stock == 60

    app.control.purge()  # nothing left over from an earlier run runs first
    task_postrun.connect(_close_worker_connection, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            orders_expire_unpaid_task.delay()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if Order.objects.filter(pk=order.pk, state=OrderState.CANCELLED).exists():
                    break
                time.sleep(0.1)
            # A second delivery (a beat overlap, a redelivery) changes nothing.
            orders_expire_unpaid_task.delay()
            time.sleep(1)
    finally:
        task_postrun.disconnect(_close_worker_connection)

    order.refresh_from_db()
    released = StockMovement.objects.filter(
        variant=variant, reason=StockMovement.Reason.ORDER_CANCELLED
    )
    transitions = OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.TRANSITION)
    print(
        f"\nworker: order {order.state}, stock {Variant.objects.get(pk=variant.pk).stock}, "
        f"releases {released.count()}, transitions {transitions.count()}"
    )
    assert order.state == OrderState.CANCELLED
    assert not order.holds_stock
    assert Variant.objects.get(pk=variant.pk).stock == 100
    assert released.count() == 1
    assert released.aggregate(units=Sum("delta"))["units"] == 40
    assert list(transitions.values_list("from_state", "to_state", "actor_label")) == [
        (OrderState.PENDING_PAYMENT, OrderState.CANCELLED, "system")
    ]
    assert stock_problems() == []
