"""★ F6 for real: the pool child of a real Celery worker is SIGKILLed in the middle of an ERP
export and of a tracking sweep; the task runs again and its effects happen once (and N5: a
rerun afterwards changes nothing).

The worker is a subprocess (tests/concurrency/worker_process.py): `celery worker
--pool=prefork --concurrency=1` on the test database and the test Redis. The child that runs
the task is killed; the parent sees it die and, because the tasks are `acks_late` with
`reject_on_worker_lost`, rejects the message with requeue, so a new child runs it at once.

Killing the whole worker (the parent too) is a different case: nobody is left to reject the
message, it stays unacknowledged in Redis and the transport hands it out again only after
the visibility timeout (six hours, CELERY_BROKER_TRANSPORT_OPTIONS). One test shows that
(the message is still unacknowledged, a new worker does not get it) and that the next run of
the export, as beat's due-profiles job or "run now" would start it, sends the batch once;
waiting out the six hours is left to the broker.

One test guards a bug these tests found: a killed run's batch bounds used to die with its
transaction, so the rerun could put more orders under the same batch key than the killed run
sent. orders.exports now commits the batch before delivering it.

Run with -s to see the figures each test reports.
"""

from __future__ import annotations

import csv
import io
import os
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from orders import lifecycle
from orders.exports import cursor_format
from orders.models import (
    ExportProfile,
    ExportRun,
    Order,
    OrderEvent,
    OrderState,
    Shipment,
    TrackingEvent,
    TrackingRun,
    TrackingStatus,
)
from orders.tasks import export_run_task, tracking_update_task
from orders.tracking import OfflineCarrier, Parcel
from tests.concurrency.worker_process import (
    ErpReceiver,
    WorkerProcess,
    queued_tasks,
    unacked_tasks,
    wait_until,
)
from tests.factories import DistributorFactory, ProductFactory, StaffFactory, place_order
from tests.integration.orders.export_helpers import ORDER_COLUMNS, an_order
from wholesale.celery import app
from wholesale.models import OutboxTask
from wholesale.outbox import GRACE, outbox_flush

pytestmark = [
    pytest.mark.real_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker needs PostgreSQL"),
]


@pytest.fixture(autouse=True)
def _empty_default_queue():
    """The setup's own emails wait on the default queue, which no worker here reads."""
    app.control.purge()
    yield
    app.control.purge()


def paid_orders(count: int) -> list[Order]:
    """`count` paid orders (bank transfer confirmed), changed ten minutes ago and a second
    apart: the worker process runs with the export's default lag of a minute, so orders
    changed just now would wait for its next run."""
    staff = StaffFactory()
    orders = []
    start = timezone.now() - timedelta(minutes=10)
    for index in range(count):
        order = an_order(company=f"Distributor {index}")
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=staff)
        Order.objects.filter(pk=order.pk).update(updated_at=start + timedelta(seconds=index))
        order.refresh_from_db()
        orders.append(order)
    return orders


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))[1:]


def endpoint_profile(url: str) -> ExportProfile:
    profile = ExportProfile(
        name=f"ERP over HTTP {uuid.uuid4().hex[:6]}",
        fields=ORDER_COLUMNS,
        states=[OrderState.PAID],
        endpoint_url=url,  # plain http to 127.0.0.1 passes the profile's validation
        endpoint_secret="s3cret",
    )
    profile.full_clean()
    profile.save()
    return profile


def export_killed_mid_post(tmp_path, *, while_held=None, hold: float = 0) -> dict:
    """Export a new endpoint profile through a worker subprocess whose child is SIGKILLed
    while the ERP holds its first POST; the requeued task runs, then one more delivery of
    the task. `while_held()` runs once the first POST has arrived, `hold` seconds before the
    kill. Returns what the test looks at."""
    export_root = tmp_path / "exports"
    export_root.mkdir()
    worker = WorkerProcess(tmp_path, env={"WHOLESALE_EXPORT_ROOT": str(export_root)})
    with ErpReceiver(hold_first=True) as erp:
        profile = endpoint_profile(erp.url)
        try:
            worker.start()
            task = export_run_task.apply_async((profile.pk,), queue=worker.queue)
            assert erp.first_arrived.wait(timeout=30), "the export never reached the ERP"
            if while_held is not None:
                while_held()
            time.sleep(hold)
            killed = worker.kill_child()  # stuck in its POST, holding the profile's lock
            erp.release.set()
            wait_until(lambda: worker.task_succeeded(task.id), timeout=30, what="the rerun")
            # Another delivery (beat's due-profiles job overlapping a "run now") adds nothing.
            again = export_run_task.apply_async((profile.pk,), queue=worker.queue)
            wait_until(lambda: worker.task_succeeded(again.id), timeout=30, what="the rerun")
            task_runs = worker.task_runs(task.id)
            lost = worker.children_lost()
        finally:
            worker.stop()
    profile.refresh_from_db()
    # What an ERP honouring the idempotency key keeps: the first body of each batch key.
    kept: dict[str, list[list[str]]] = {}
    for request in erp.requests:
        kept.setdefault(request.batch, csv_rows(request.body))
    return {
        "profile": profile,
        "requests": erp.requests,
        "kept": kept,
        "exported": Counter(row[0] for rows in kept.values() for row in rows),
        "runs": list(ExportRun.objects.filter(profile=profile)),
        "killed": killed,
        "task_runs": task_runs,
        "lost": lost,
        "leftovers": sorted(p.name for p in export_root.rglob("*") if p.is_file()),
    }


def print_export_figures(title: str, result: dict) -> None:
    requests, exported = result["requests"], result["exported"]
    print(
        f"\n{title}: child {result['killed']} killed, task received {result['task_runs']} "
        f"times, {result['lost']} child lost; POSTs {len(requests)} under "
        f"{len(result['kept'])} batch key(s), rows per POST "
        f"{[len(csv_rows(request.body)) for request in requests]}; orders kept after dedup "
        f"by batch key {sum(exported.values())} (max {max(exported.values())} each); runs "
        f"{[(run.status, run.row_count, run.attempts) for run in result['runs']]}; files "
        f"left in the export root {result['leftovers']}"
    )


def test_an_export_killed_mid_post_is_sent_again_under_the_same_batch_key(tmp_path):
    orders = paid_orders(4)
    unpaid = an_order(company="Not paid yet")
    Order.objects.filter(pk=unpaid.pk).update(updated_at=timezone.now() - timedelta(minutes=5))

    result = export_killed_mid_post(tmp_path)

    print_export_figures("export kill", result)
    requests, profile = result["requests"], result["profile"]
    assert result["lost"] == 1 and result["task_runs"] == 2  # the killed run, the requeued one
    # The ERP saw the batch twice (the first POST was never answered) under one key and with
    # the same body, so it keeps one copy: each paid order once, the unpaid one not at all.
    assert len(requests) == 2 and len(result["kept"]) == 1
    assert {request.secret for request in requests} == {"s3cret"}
    assert requests[0].body == requests[1].body
    [(batch, rows)] = result["kept"].items()
    assert [row[0] for row in rows] == [order.number for order in orders]
    assert [row[3] for row in rows] == [str(order.grand_total) for order in orders]
    # One succeeded run for the batch, the cursor moved once, to the last order; the second
    # delivery found nothing new.
    [run] = result["runs"]
    assert (run.status, run.row_count) == (ExportRun.Status.SUCCEEDED, 4)
    assert run.cursor_from == "" and run.file == batch
    last = orders[-1]
    assert profile.last_cursor == run.cursor_to == cursor_format(last.updated_at, last.pk)
    # Nothing was delivered as a file, and the rerun removed the killed child's unfinished
    # temporary file.
    assert result["leftovers"] == []


def test_a_whole_worker_killed_mid_export_keeps_its_message_and_the_next_run_sends_the_batch(
    tmp_path,
):
    """Parent and child killed together: the message stays unacknowledged in Redis (back on
    the queue only after the six-hour visibility timeout, so a new worker does not get it),
    the export's transaction died with its connection, and the next run (beat's due-profiles
    job, or "run now") sends the same batch under the same key."""
    orders = paid_orders(3)
    export_root = tmp_path / "exports"
    env = {"WHOLESALE_EXPORT_ROOT": str(export_root)}
    first = WorkerProcess(tmp_path, env=env)
    second = WorkerProcess(tmp_path, env=env, queue=first.queue)
    with ErpReceiver(hold_first=True) as erp:
        profile = endpoint_profile(erp.url)
        try:
            first.start()
            lost_task = export_run_task.apply_async((profile.pk,), queue=first.queue)
            assert erp.first_arrived.wait(timeout=30), "the export never reached the ERP"
            first.kill_all()
            erp.release.set()
            unacked = list(unacked_tasks(first.queue).values())
            cursor_after_kill = ExportProfile.objects.get(pk=profile.pk).last_cursor
            second.start()
            next_run = export_run_task.apply_async((profile.pk,), queue=second.queue)
            wait_until(lambda: second.task_succeeded(next_run.id), timeout=30, what="next run")
            redelivered = second.task_runs(lost_task.id)
        finally:
            first.stop()
            second.stop()

    profile.refresh_from_db()
    bodies = {request.body for request in erp.requests}
    [run] = ExportRun.objects.filter(profile=profile)
    print(
        f"\nwhole worker killed: message left unacknowledged {unacked == [lost_task.id]}, "
        f"cursor after the kill {cursor_after_kill!r}, the lost task run again by the new worker "
        f"{redelivered} times; POSTs {len(erp.requests)} under "
        f"{len({request.batch for request in erp.requests})} key(s), {len(bodies)} distinct "
        f"bodies; run {(run.status, run.row_count)}"
    )
    assert unacked == [lost_task.id] and redelivered == 0
    assert cursor_after_kill == ""
    assert len(erp.requests) == 2 and len({request.batch for request in erp.requests}) == 1
    assert len(bodies) == 1
    assert [row[0] for row in csv_rows(erp.requests[-1].body)] == [o.number for o in orders]
    assert (run.status, run.row_count) == (ExportRun.Status.SUCCEEDED, 3)
    assert profile.last_cursor == run.cursor_to


def test_an_export_rerun_after_a_kill_sends_the_same_orders_under_its_batch_key(tmp_path):
    """The batch key promises the ERP that a second POST with it is the same batch, so the
    rerun of a killed run must send exactly the orders the killed run took. Here: while the
    first POST is held, an order saved 58 seconds ago commits (inside the lag of a minute, so
    rightly left to a later batch); the rerun, 3 seconds later, must not put it into the same
    batch key, or an ERP that already took the first POST would drop the second by its key and
    the order would be lost, the cursor moving past it. The batch (its cursor and upper bound)
    is committed before anything is delivered, so the rerun reuses it as it was."""
    orders = paid_orders(3)
    [late] = paid_orders(1)
    Order.objects.filter(pk=late.pk).update(state=OrderState.PENDING_PAYMENT)

    def saved_58_seconds_ago_commits_now():
        Order.objects.filter(pk=late.pk).update(
            state=OrderState.PAID, updated_at=timezone.now() - timedelta(seconds=58)
        )

    result = export_killed_mid_post(tmp_path, while_held=saved_58_seconds_ago_commits_now, hold=3)

    print_export_figures("export kill, order changed inside the lag", result)
    bodies: dict[str, set[bytes]] = {}
    for request in result["requests"]:
        bodies.setdefault(request.batch, set()).add(request.body)
    assert result["lost"] == 1 and result["task_runs"] == 2
    assert all(len(sent) == 1 for sent in bodies.values()), "one batch key, two contents"
    assert result["exported"] == Counter(order.number for order in [*orders, late])


# Parcels of four ages, each well inside one step of the offline carrier's week (its steps
# move by at most 3 hours), so the sweep's answer cannot change while the test runs:
# 10 h: information received only (no change, no email); 30 h: in transit; 100 h: in
# customs; 9 days: delivered (the order becomes delivered).
AGES = (timedelta(hours=10), timedelta(hours=30), timedelta(hours=100), timedelta(days=9))
PER_AGE = int(os.environ.get("WHOLESALE_KILL_SHIPMENTS_PER_AGE", "200"))


def open_shipments(per_age: int) -> list[Shipment]:
    """`per_age` shipped orders of each age in AGES, one parcel each, made in bulk from one
    order placed through the real services (as bench/tracking_bench.py does)."""
    buyer = DistributorFactory().user
    template = place_order(buyer, {ProductFactory(variants__stock=10**6).variants.first(): 60})
    fields = {
        f.attname: getattr(template, f.attname)
        for f in Order._meta.concrete_fields
        if not f.primary_key
    }
    prefix = uuid.uuid4().hex[:4].upper()
    copies = [
        Order(
            **{
                **fields,
                "number": f"K{prefix}{index:06d}",
                "checkout_key": uuid.uuid4(),
                "state": OrderState.SHIPPED,
            }
        )
        for index in range(per_age * len(AGES))
    ]
    orders = Order.objects.bulk_create(copies, batch_size=2000)
    now = timezone.now()
    return Shipment.objects.bulk_create(
        (
            Shipment(
                order=order,
                carrier="China Post",
                tracking_number=f"LK{prefix}{index:07d}CN",
                shipped_at=now - AGES[index % len(AGES)],
                created_by=buyer,
            )
            for index, order in enumerate(orders)
        ),
        batch_size=2000,
    )


def tracking_emails() -> list[tuple[int, str]]:
    """(shipment, status) of each tracking email task waiting on the default queue."""
    return [
        (kwargs["shipment_id"], kwargs["status"])
        for name, args, kwargs in queued_tasks()
        if name == "orders.tasks.order_email_task" and args == ["tracking_update"]
    ]


def stored_events() -> set[tuple]:
    columns = ("shipment_id", "carrier_event_id", "occurred_at", "status")
    return set(TrackingEvent.objects.values_list(*columns))


def test_a_sweep_killed_midway_runs_again_and_stores_and_emails_each_change_once(tmp_path):
    shipments = open_shipments(PER_AGE)
    # What one clean sweep stores and changes: the offline carrier is deterministic.
    carrier, now = OfflineCarrier(), timezone.now()
    clean = {
        shipment.pk: carrier.events_for(
            Parcel(shipment.tracking_number, shipment.carrier, shipment.shipped_at), now
        )
        for shipment in shipments
    }
    clean_events = {
        (pk, event.carrier_event_id, event.occurred_at, event.status)
        for pk, events in clean.items()
        for event in events
    }
    clean_status = {pk: events[-1].status for pk, events in clean.items()}
    changes = {
        (pk, status)
        for pk, status in clean_status.items()
        if status != TrackingStatus.INFO_RECEIVED
    }
    delivered_orders = {
        shipment.order_id
        for shipment in shipments
        if clean_status[shipment.pk] == TrackingStatus.DELIVERED
    }
    app.control.purge()  # the template order's own emails

    worker = WorkerProcess(tmp_path)
    try:
        worker.start()
        task = tracking_update_task.apply_async(queue=worker.queue)
        started = time.monotonic()
        at_kill = wait_until(
            lambda: (
                TrackingRun.objects.exists()
                and 0 < (stored := TrackingEvent.objects.count()) < len(clean_events)
                and stored
            ),
            timeout=60,
            interval=0.01,
            what="the sweep to be part way",
        )
        killed = worker.kill_child()
        wait_until(lambda: worker.task_succeeded(task.id), timeout=60, what="the rerun")
        elapsed = time.monotonic() - started
        rows_after_rerun = (TrackingEvent.objects.count(), OrderEvent.objects.count())
        # N5: one more delivery (beat's next time, or a beat overlap) changes nothing.
        again = tracking_update_task.apply_async(queue=worker.queue)
        wait_until(lambda: worker.task_succeeded(again.id), timeout=60, what="the next run")
        runs_of_task = worker.task_runs(task.id)
        lost = worker.children_lost()
    finally:
        worker.stop()

    events = stored_events()
    status = dict(Shipment.objects.values_list("pk", "status"))
    lagging = sorted(pk for pk, value in status.items() if value != clean_status[pk])
    delivered = set(Order.objects.filter(state=OrderState.DELIVERED).values_list("pk", flat=True))
    transitions = Counter(
        OrderEvent.objects.filter(to_state=OrderState.DELIVERED).values_list("order_id", flat=True)
    )
    # The buyers' emails: handed to the broker by the sweeps, or still in the outbox when the
    # kill came between a batch's commit and its hand-over; the outbox flush (beat, every
    # minute) sends those once they are older than its grace period.
    queued = len(tracking_emails())
    waiting = OutboxTask.objects.filter(task_name="orders.tasks.order_email_task").count()
    flushed = outbox_flush(now=timezone.now() + GRACE + timedelta(seconds=1))
    emails = Counter(tracking_emails())
    runs = list(
        TrackingRun.objects.order_by("started_at").values_list(
            "status", "shipments_checked", "events_added"
        )
    )
    print(
        f"\ntracking kill: {len(shipments)} shipments, child {killed} killed at "
        f"{at_kill}/{len(clean_events)} events, task received {runs_of_task} times, "
        f"{lost} child lost, {elapsed:.1f} s to the rerun's end; events {len(events)} "
        f"(clean sweep {len(clean_events)}); shipments off the clean status {len(lagging)}; "
        f"orders delivered {len(delivered)}/{len(delivered_orders)}, delivered transitions "
        f"{sum(transitions.values())}; email tasks queued by the sweeps {queued}, left in "
        f"the outbox {waiting} (flushed {flushed}), in all {sum(emails.values())} for "
        f"{len(changes)} key changes (max {max(emails.values(), default=0)} per change); "
        f"runs {runs}"
    )
    assert lost == 1 and runs_of_task == 2
    # Every scan stored once, exactly those of one clean sweep.
    assert events == clean_events
    assert TrackingEvent.objects.count() == len(clean_events)
    # Statuses and orders as after one clean sweep, each order moved once.
    assert lagging == []
    assert delivered == delivered_orders
    assert set(transitions) == delivered_orders and set(transitions.values()) == {1}
    # One email per key change. The outbox delivers at least once: a kill between the broker
    # taking a task and the outbox row's deletion sends that one email twice, and a single
    # kill can catch at most one hand-over in that gap.
    assert set(emails) == changes
    assert sum(emails.values()) - len(changes) <= 1
    assert not OutboxTask.objects.exists()
    # The rerun's log is complete (the killed run's row is left as it was, running).
    assert runs[-2][0] == runs[-1][0] == TrackingRun.Status.SUCCEEDED
    assert runs[-1][2] == 0 and rows_after_rerun == (
        TrackingEvent.objects.count(),
        OrderEvent.objects.count(),
    )
