"""One ERP export of 100,000 orders: time and peak Python memory (issue 6).
``.venv/bin/python bench/export_bench.py [--orders N] [--format csv] [--lines] [--no-trace]``.

Needs PostgreSQL (postgres@127.0.0.1:5432, trust). Uses its own database,
``wholesale_bench_exports`` (``BENCH_EXPORTS_DATABASE_URL`` overrides), migrated on first use
and emptied of orders before each run: one order placed through the real services is copied
in bulk with its line, then ``orders.exports.export_run`` exports them all once to a folder
under a temporary export root (an order-level profile, or one row per line with ``--lines``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/wholesale_bench_exports"
ORDER_COLUMNS = [
    "order_number",
    "placed_at",
    "state",
    "currency",
    "grand_total",
    "customer_email",
    "customer_company",
    "customer_country",
    "salesperson_email",
    "shipping_method",
    "ship_city",
    "ship_country",
    "payment_method",
    "payment_status",
]
LINE_COLUMNS = ["order_number", "line_sku", "line_product", "line_quantity", "line_total"]


def _database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--format", default="csv", choices=["csv", "json", "xml", "xlsx"])
    parser.add_argument("--lines", action="store_true", help="one row per order line")
    parser.add_argument(
        "--no-trace", action="store_true", help="time only: tracemalloc slows Python down"
    )
    options = parser.parse_args()
    url = os.environ.get("BENCH_EXPORTS_DATABASE_URL", DEFAULT_URL)
    _database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wholesale.settings")
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-" + "x" * 40)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    from orders.exports import export_root, export_run
    from orders.models import ExportProfile, Order, OrderLine
    from tests.factories import DistributorFactory, ProductFactory, place_order

    settings.WHOLESALE_EXPORT_ROOT = Path(tempfile.mkdtemp(prefix="export-bench-"))
    settings.WHOLESALE_EXPORT_LAG_SECONDS = 0
    with connection.cursor() as cursor:  # a clean slate: the ledgers are append-only
        cursor.execute(
            "TRUNCATE orders_exportrun, orders_exportprofile, orders_trackingevent, "
            "orders_trackingrun, orders_shipment, orders_orderevent, orders_orderline, "
            "orders_payment, orders_order, catalog_stockmovement, members_pointsentry, "
            "members_user, catalog_product, catalog_category CASCADE"
        )
    buyer = DistributorFactory().user
    template = place_order(buyer, {ProductFactory(variants__stock=10**6).variants.first(): 60})
    line = template.lines.get()
    fields = {
        f.attname: getattr(template, f.attname)
        for f in Order._meta.concrete_fields
        if not f.primary_key
    }
    line_fields = {
        f.attname: getattr(line, f.attname)
        for f in OrderLine._meta.concrete_fields
        if not f.primary_key and f.attname != "order_id"
    }
    made = 0
    while made < options.orders:
        size = min(5000, options.orders - made)
        orders = Order.objects.bulk_create(
            Order(**{**fields, "number": f"E{made + i:07d}", "checkout_key": uuid.uuid4()})
            for i in range(size)
        )
        OrderLine.objects.bulk_create(OrderLine(**line_fields, order=order) for order in orders)
        made += size
    columns = LINE_COLUMNS if options.lines else ORDER_COLUMNS
    profile = ExportProfile.objects.create(
        name="bench",
        fields=[{"source": key, "column": key} for key in columns],
        format=options.format,
        folder="bench",
    )
    total = Order.objects.count()
    print(f"{total} orders, {options.format}, {len(columns)} columns; exporting…", flush=True)
    if not options.no_trace:
        tracemalloc.start()
    started = time.perf_counter()
    run = export_run(profile.pk)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if not options.no_trace else None
    tracemalloc.stop()
    size = (export_root() / run.file).stat().st_size
    memory = "not traced" if peak is None else f"{peak / 2**20:.1f} MiB"
    print(
        f"export run: {elapsed:.1f} s, peak Python memory {memory}, "
        f"{run.row_count} rows, file {size / 2**20:.1f} MiB, status {run.status}"
        + (f", error: {run.error}" if run.error else "")
    )


if __name__ == "__main__":
    main()
