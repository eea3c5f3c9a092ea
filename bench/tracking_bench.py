"""One tracking sweep over 10,000 open shipments with the offline carrier: time and peak Python
memory (issue 6). ``.venv/bin/python bench/tracking_bench.py [--shipments N]``.

Needs PostgreSQL (postgres@127.0.0.1:5432, trust). Uses its own database,
``wholesale_bench_jobs`` (``BENCH_JOBS_DATABASE_URL`` overrides), migrated on first use and
emptied of orders before each run: one order placed through the real services is copied in
bulk, each copy shipped a few days ago, then ``orders.tracking.tracking_update`` runs once with
tasks inline and emails kept in memory (sent, not delivered).
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


def _database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=10_000)
    options = parser.parse_args()
    url = os.environ.get("BENCH_JOBS_DATABASE_URL", DEFAULT_URL)
    _database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wholesale.settings")
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-" + "x" * 40)
    import django

    django.setup()
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    from wholesale.celery import app

    app.conf["CELERY_TASK_ALWAYS_EAGER"] = True
    from orders.models import Order, OrderState, Shipment, TrackingEvent, TrackingRun
    from orders.tracking import OfflineCarrier, tracking_update
    from tests.factories import DistributorFactory, ProductFactory, place_order

    with connection.cursor() as cursor:  # a clean slate: the ledgers are append-only
        cursor.execute(
            "TRUNCATE orders_trackingevent, orders_trackingrun, orders_shipment, "
            "orders_orderevent, orders_orderline, orders_payment, orders_order, "
            "catalog_stockmovement, members_pointsentry, members_user, catalog_product, "
            "catalog_category CASCADE"
        )
    buyer = DistributorFactory().user
    template = place_order(buyer, {ProductFactory(variants__stock=10**6).variants.first(): 60})
    fields = {
        f.attname: getattr(template, f.attname)
        for f in Order._meta.concrete_fields
        if not f.primary_key
    }
    shipped = timezone.now() - timedelta(days=4)
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
    print(f"{options.shipments} open shipments, offline carrier; sweeping…", flush=True)
    tracemalloc.start()
    started = time.perf_counter()
    run = tracking_update(provider=OfflineCarrier())
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    events = TrackingEvent.objects.count()
    print(
        f"tracking run: {elapsed:.1f} s, peak Python memory {peak / 2**20:.1f} MiB, "
        f"{run.shipments_checked} shipments checked, {events} events stored, "
        f"{len(getattr(mail, 'outbox', []))} emails, "
        f"{TrackingRun.objects.count()} run logged, errors: {run.errors or 'none'}"
    )


if __name__ == "__main__":
    main()
