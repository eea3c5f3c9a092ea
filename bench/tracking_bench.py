"""One tracking sweep over 10,000 open shipments with the offline carrier, as production runs
it (issue 6). ``.venv/bin/python bench/tracking_bench.py [--shipments N] [--sample N]``.

Needs PostgreSQL (postgres@127.0.0.1:5432, trust) and Redis. Uses its own database,
``wholesale_bench_jobs`` (``BENCH_JOBS_DATABASE_URL`` overrides), migrated on first use and
emptied of orders before each run: one order placed through the real services is copied in
bulk, each copy shipped a few days ago, then ``orders.tracking.tracking_update`` runs once.

Tasks are not run inline: the Celery broker is the local Redis (``BENCH_BROKER_URL``, default
``redis://127.0.0.1:6379/7``), so each buyer email the sweep asks for is written to the outbox
in its batch's transaction and handed to the broker after commit, where a worker would take
it. The bench prints, apart:

(a) the sweep: its wall time (and the part spent handing emails to the broker), its queries
    (the outbox's row written and deleted per email among them), and its peak Python memory,
    taken in a second run of the same sweep from the same start under tracemalloc, which
    slows Python down too much to time the first;
(b) the emails queued: handed to the broker, waiting in its queue, left in the outbox;
(c) what sending them costs a worker: a sample of the queued emails rendered and sent inline
    (emails kept in memory), per email and for all of them.

The queue is purged at the start, between the runs and at the end, so no worker ever sends
the bench's emails. ``--days 8`` sweeps parcels all delivered, which also moves every order.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/wholesale_bench_jobs"
DEFAULT_BROKER = "redis://127.0.0.1:6379/7"


def _database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


class Published:
    """Counts the email tasks handed to the broker and keeps the first `keep` of them."""

    def __init__(self, task_name: str, keep: int):
        self.task_name = task_name
        self.keep = keep
        self.count = 0
        self.sample: list[tuple[list, dict]] = []

    def __call__(self, sender=None, body=None, **_kwargs):
        if sender != self.task_name:
            return
        self.count += 1
        if len(self.sample) < self.keep:
            args, kwargs, _embed = body  # Celery's message protocol 2
            self.sample.append((list(args), dict(kwargs)))


class Queries:
    """Counts the queries run, and those on the outbox's table apart."""

    def __init__(self, outbox_table: str):
        self.outbox_table = outbox_table
        self.total = 0
        self.outbox = 0

    def __call__(self, execute, sql, params, many, context):
        self.total += 1
        if self.outbox_table in sql:
            self.outbox += 1
        return execute(sql, params, many, context)


class Handover:
    """Wraps the outbox's after-commit hand-over to time it; calls it unchanged."""

    def __init__(self, module):
        self.send = module._send
        self.calls = 0
        self.seconds = 0.0

    def __call__(self, row):
        started = time.perf_counter()
        try:
            return self.send(row)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1


def _tracking_reset(connection) -> None:
    """Back to the state before the sweep: no events, runs or outbox rows; every parcel
    unchecked and just received; the copied orders shipped, without the sweep's history rows
    (removed in SQL: the order history is append-only through the ORM, rightly)."""
    from orders.models import Order, OrderState, Shipment, TrackingStatus
    from orders.tracking import SYSTEM_LABEL

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE orders_trackingevent, orders_trackingrun, wholesale_outboxtask")
        cursor.execute(
            "DELETE FROM orders_orderevent WHERE actor_label = %s AND order_id IN "
            "(SELECT id FROM orders_order WHERE number LIKE %s)",
            [SYSTEM_LABEL, "B%"],
        )
    Shipment.objects.update(
        status=TrackingStatus.INFO_RECEIVED, last_checked_at=None, delivered_at=None
    )
    Order.objects.filter(number__startswith="B").update(state=OrderState.SHIPPED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=4, help="since the parcels were sent")
    parser.add_argument("--sample", type=int, default=200, help="emails rendered and sent inline")
    options = parser.parse_args()
    url = os.environ.get("BENCH_JOBS_DATABASE_URL", DEFAULT_URL)
    broker = os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER)
    _database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ.pop("REDIS_URL", None)  # the cache stays in memory; only the broker is Redis
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wholesale.settings")
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-" + "x" * 40)
    import django

    django.setup()
    from celery.signals import after_task_publish
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    from wholesale.celery import app

    if app.conf.task_always_eager:
        sys.exit("tasks would run inline: CELERY_BROKER_URL was not taken")
    try:
        with app.connection_for_write() as broker_connection:
            broker_connection.ensure_connection(max_retries=1)
    except Exception as error:
        sys.exit(f"the broker {broker} does not answer: {error}")
    queue = app.conf.task_default_queue

    from django.utils import timezone

    from orders import emails
    from orders.models import Order, OrderEvent, OrderState, Shipment, TrackingEvent
    from orders.tasks import order_email_task
    from orders.tracking import OfflineCarrier, tracking_update
    from tests.factories import DistributorFactory, ProductFactory, place_order
    from wholesale import outbox
    from wholesale.models import OutboxTask

    with connection.cursor() as cursor:  # a clean slate: the ledgers are append-only
        cursor.execute(
            "TRUNCATE orders_trackingevent, orders_trackingrun, orders_shipment, "
            "orders_orderevent, orders_orderline, orders_payment, orders_order, "
            "catalog_stockmovement, members_pointsentry, members_user, catalog_product, "
            "catalog_category, wholesale_outboxtask CASCADE"
        )
    buyer = DistributorFactory().user
    template = place_order(buyer, {ProductFactory(variants__stock=10**6).variants.first(): 60})
    fields = {
        f.attname: getattr(template, f.attname)
        for f in Order._meta.concrete_fields
        if not f.primary_key
    }
    shipped = timezone.now() - timedelta(days=options.days)
    copies = [
        Order(
            **{
                **fields,
                "number": f"B{index:07d}",
                "checkout_key": uuid.uuid4(),
                "state": OrderState.SHIPPED,
            }
        )
        for index in range(options.shipments)
    ]
    orders = Order.objects.bulk_create(copies, batch_size=2000)
    Shipment.objects.bulk_create(
        (
            Shipment(
                order=order,
                carrier="Offline",
                tracking_number=f"LB{index:09d}CN",
                shipped_at=shipped,
                created_by=buyer,
            )
            for index, order in enumerate(orders)
        ),
        batch_size=2000,
    )
    print(
        f"{options.shipments} open shipments shipped {options.days} days ago, offline carrier, "
        f"batches of {OfflineCarrier.batch_size}, broker {broker}",
        flush=True,
    )
    handover = Handover(outbox)
    outbox._send = handover  # timed, not changed: the after-commit hand-over to the broker
    try:
        app.control.purge()  # the set-up's own email, and whatever an earlier run left
        published = Published(order_email_task.name, options.sample)
        queries = Queries(OutboxTask._meta.db_table)
        after_task_publish.connect(published, weak=False)
        print("sweeping…", flush=True)
        started = time.perf_counter()
        with connection.execute_wrapper(queries):
            run = tracking_update(provider=OfflineCarrier())
        elapsed = time.perf_counter() - started
        after_task_publish.disconnect(published)
        handed, handing = handover.calls, handover.seconds
        with app.connection_for_read() as broker_connection:
            waiting = broker_connection.default_channel.client.llen(queue)
        left = OutboxTask.objects.count()
        events = TrackingEvent.objects.count()
        delivered = OrderEvent.objects.filter(to_state=OrderState.DELIVERED).count()

        # The same sweep again from the same start, under tracemalloc, for the memory: the
        # tracing slows Python down several times, so it is kept out of the timed run.
        app.control.purge()
        _tracking_reset(connection)
        print("sweeping again under tracemalloc…", flush=True)
        tracemalloc.start()
        traced_started = time.perf_counter()
        traced_run = tracking_update(provider=OfflineCarrier())
        traced = time.perf_counter() - traced_started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        mail.outbox = []
        sending_started = time.perf_counter()
        for args, kwargs in published.sample:
            emails.send_now(*args, **kwargs)  # what order_email_task does in a worker
        sending = time.perf_counter() - sending_started
        rendered = len(mail.outbox)
    finally:
        outbox._send = handover.send
        purged = app.control.purge()

    checked = run.shipments_checked
    batches = -(-checked // OfflineCarrier.batch_size)
    rest = queries.total - queries.outbox
    per_email = sending / rendered if rendered else 0
    print(
        f"(a) sweep: {elapsed:.1f} s wall time ({elapsed / max(checked, 1) * 1000:.2f} ms a "
        f"shipment), of which {handing:.1f} s handing {handed} emails to the "
        f"broker after each batch's commit; {checked} shipments checked in {batches} "
        f"batches, {events} events stored, {delivered} orders delivered, run {run.status}, "
        f"errors: {run.errors or 'none'}\n"
        f"    queries: {queries.total}, of which {queries.outbox} on the outbox (a row written "
        f"and deleted per email) and {rest} for the rest ({rest / max(batches, 1):.1f} a batch)\n"
        f"    peak Python memory {peak / 2**20:.1f} MiB (the same sweep under tracemalloc: "
        f"{traced:.1f} s, {traced_run.shipments_checked} shipments, run {traced_run.status})"
    )
    print(
        f"(b) emails: {published.count} handed to the broker, {waiting} waiting in its queue "
        f"'{queue}', {left} left in the outbox"
    )
    if rendered:
        print(
            f"(c) sending them (a worker's work, after the sweep): {rendered} of them rendered "
            f"and sent inline in {sending:.2f} s, {per_email * 1000:.1f} ms an email, so about "
            f"{per_email * published.count:.0f} s of one worker's time for all "
            f"{published.count}"
        )
    print(f"purged {purged} tasks from the queue '{queue}'")


if __name__ == "__main__":
    main()
