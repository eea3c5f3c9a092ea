"""Every analytics report page on a large shop: 20,000 buyers, about 1,000,000 order lines
(issue 7). ``.venv/bin/python bench/analytics_bench.py [--buyers N] [--requests N]
[--regenerate]``.

Needs PostgreSQL (postgres@127.0.0.1:5432, trust). Uses its own database,
``wholesale_bench_analytics`` (``BENCH_ANALYTICS_DATABASE_URL`` overrides), migrated on first
use. Unless it already holds a history of the size asked for (``--regenerate`` forces it), the
bench empties it and writes one: staff (a super admin, finance, six salespeople), a catalog of
1,500 products launched over the last 14 months (bulk inserts), then
``analytics.history.history_generate`` (timed), in ``--workers`` processes (2), each writing its
share of the buyers. It refreshes the rollup tables when
``analytics.rollups.rollups_refresh`` exists (timed), runs ``VACUUM ANALYZE``, then requests
each report page (``analytics.registry.reports_in_order``) over the last 12 months through
Django's test client, logged in as the super admin, `--requests` times after one unrecorded
request, and the reports open to salespeople once more as a salesperson; a minimal Django view
served the same way (``bench.urls``) gives the floor. It prints p50 and p99 per page, the
ratio to the minimal view and the queries one request runs. DEBUG is off and the static files
are collected (manifest storage, as in production); the cache is the local memory one (the
reports cache nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/wholesale_bench_analytics"
DOMAIN = "history.bench.test"
TARGET_MS = 1000


def _database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def _staff():
    """The super admin, finance (confirms transfers, refunds) and six salespeople."""
    from django.contrib.auth.models import Group

    from members.models import User
    from staff import roles
    from staff.models import SalesProfile

    groups = {group.name: group for group in Group.objects.all()}
    admin = User.objects.create_superuser("admin@bench.test", is_staff=True)
    finance = User.objects.create_user("finance@bench.test", is_staff=True)
    finance.groups.add(groups[roles.FINANCE])
    for index in range(6):
        user = User.objects.create_user(
            f"sales{index + 1}@bench.test", is_staff=True, first_name=f"Seller{index + 1}"
        )
        user.groups.add(groups[roles.SALES])
        SalesProfile.objects.create(user=user, referral_code=f"seller{index + 1}")
    return admin


def _catalog(products: int, *, now) -> None:
    """30 categories (6 with 4 children), `products` products with 2 to 5 variants and three
    tiers each, launched over the last 14 months, in bulk."""
    from catalog.models import Category, PriceTier, Product, Variant

    rng = random.Random(20261126)
    tops = Category.objects.bulk_create(
        Category(name=f"Department {index}", slug=f"department-{index}", position=index)
        for index in range(6)
    )
    children = Category.objects.bulk_create(
        Category(name=f"Line {top.pk}-{index}", slug=f"line-{top.pk}-{index}", parent=top)
        for top in tops
        for index in range(4)
    )
    leaves = tops + children
    nouns = ["Tote", "Mug", "Hoodie", "Cap", "Bottle", "Notebook", "Scarf", "Lamp", "Sock", "Pen"]
    made = Product.objects.bulk_create(
        (
            Product(
                name=f"{rng.choice(['Classic', 'Eco', 'Premium', 'Nordic'])} "
                f"{nouns[index % len(nouns)]} {index}",
                slug=f"bench-product-{index}",
                category=leaves[index % len(leaves)],
                status=Product.Status.PUBLISHED,
                published_at=now - timedelta(days=425 * rng.random() ** 0.7),
                option1_name="Colour",
                option2_name="Size",
                moq=rng.choice([1, 1, 5, 10]),
                order_increment=rng.choice([1, 1, 1, 2, 5]),
            )
            for index in range(products)
        ),
        batch_size=2000,
    )
    colours = ["Black", "White", "Navy", "Red", "Green", "Grey", "Sand"]
    variants, tiers = [], []
    for product in made:
        base = Decimal(rng.randint(150, 2500)) / 100
        for position in range(rng.randint(2, 5)):
            variants.append(
                Variant(
                    product=product,
                    sku=f"B{product.pk}-{position}",
                    option1=colours[(product.pk + position) % len(colours)],
                    option2=["S", "M", "L", "XL"][position % 4],
                    weight_grams=rng.randint(80, 900),
                    stock=0,
                    position=position,
                )
            )
        for step, minimum in enumerate((1, 50, 200)):
            price = (base * Decimal(str(1 - 0.08 * step))).quantize(Decimal("0.01"))
            tiers.append(PriceTier(product=product, min_quantity=minimum, unit_price=price))
    Variant.objects.bulk_create(variants, batch_size=5000)
    PriceTier.objects.bulk_create(tiers, batch_size=5000)


def _generate(options, connection) -> None:
    from django.utils import timezone

    with connection.cursor() as cursor:  # a clean slate: several ledgers are append-only
        cursor.execute(
            "TRUNCATE members_user, catalog_category, catalog_product, "
            "analytics_productsalesday, analytics_productactivityday, analytics_rolluprun "
            "CASCADE"
        )
    now = timezone.now()
    _staff()
    _catalog(options.products, now=now)
    workers = max(1, min(options.workers, options.buyers))
    print(
        f"generating {options.buyers:,} buyers over {options.months} months "
        f"in {workers} processes…",
        flush=True,
    )
    started = time.perf_counter()
    share = -(-options.buyers // workers)
    processes = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(index), "--now", now.isoformat(),
             "--buyers", str(min(share, options.buyers - index * share)),
             "--months", str(options.months)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(workers)
    ]  # fmt: skip
    written = Counter()
    for process in processes:
        out, _err = process.communicate()
        if process.returncode:
            raise SystemExit(f"a history worker failed ({process.returncode})")
        written.update(json.loads(out.strip().splitlines()[-1]))
    elapsed = time.perf_counter() - started
    print(
        f"history_generate: {elapsed:.0f} s — "
        + ", ".join(f"{value:,} {key.replace('_', ' ')}" for key, value in written.items()),
        flush=True,
    )


def _worker(options) -> None:
    """One share of the history, in its own process (chunks of buyers are independent):
    seeded by its index, its buyers under a domain of its own."""
    from datetime import datetime

    from analytics.history import history_generate

    written = history_generate(
        buyers=options.buyers,
        months=options.months,
        seed=7 + options.worker,
        now=datetime.fromisoformat(options.now),
        domain=f"w{options.worker}.{DOMAIN}",
    )
    print(json.dumps(written), flush=True)


def _rollups() -> None:
    try:
        from analytics import rollups
    except ImportError:
        print("analytics.rollups missing: no rollup refresh", flush=True)
        return
    refresh = getattr(rollups, "rollups_refresh", None)
    if refresh is None:
        print("analytics.rollups.rollups_refresh missing: no rollup refresh", flush=True)
        return
    from django.utils import timezone

    days = None
    if hasattr(rollups, "rollup_days_all"):
        days = rollups.rollup_days_all(today=timezone.localdate())
    started = time.perf_counter()
    run = refresh(days=days) if days is not None else refresh()
    print(
        f"rollups_refresh: {time.perf_counter() - started:.1f} s, "
        f"{getattr(run, 'days', '?')} days, {getattr(run, 'rows', '?')} rows",
        flush=True,
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _measure(client, url: str, requests: int) -> tuple[int, list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        status = client.get(url).status_code  # unrecorded: warms the connection
    queries = len(captured)  # now: the next request empties the log
    times = []
    for _request in range(requests):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return status, times, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--products", type=int, default=1_500)
    parser.add_argument("--requests", type=int, default=20, help="per page, after a warm-up")
    parser.add_argument("--regenerate", action="store_true", help="write a new history")
    parser.add_argument("--only", default="", help="comma-separated report slugs to time")
    parser.add_argument("--workers", type=int, default=2, help="processes writing the history")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    options = parser.parse_args()
    url = os.environ.get("BENCH_ANALYTICS_DATABASE_URL", DEFAULT_URL)
    _database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ["DEBUG"] = "0"
    os.environ["WHOLESALE_URLCONF"] = "bench.urls"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["WHOLESALE_SSL_REDIRECT"] = "0"
    os.environ["WHOLESALE_STATIC_ROOT"] = str(Path(__file__).resolve().parent / "results/static")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wholesale.settings")
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-" + "x" * 40)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if options.worker is not None:
        _worker(options)
        return
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # manifest storage, as served
    from analytics.access import Audience
    from analytics.registry import reports_in_order
    from members.models import User
    from orders.models import OrderLine

    held = User.objects.filter(email__endswith=f".{DOMAIN}").count()
    if options.regenerate or held != options.buyers:
        _generate(options, connection)
        _rollups()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        print(f"reusing the history of {held:,} buyers (--regenerate writes a new one)")
    print(f"{OrderLine.objects.count():,} order lines", flush=True)

    today = timezone.localdate()
    window = f"?start={today.replace(year=today.year - 1) + timedelta(days=1)}&end={today}"
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    seller = User.objects.filter(sales_profile__isnull=False).order_by("pk").first()
    pages = [("minimal", "-", "/bench/minimal", admin)]
    only = {slug for slug in options.only.split(",") if slug}
    chosen = [r for r in reports_in_order() if not only or r.slug in only]
    for report in chosen:
        url = f"/analytics/{report.slug}/{window}"
        pages.append((f"{report.number}. {report.slug}", "admin", url, admin))
    for report in chosen:
        if Audience.SALES in report.audiences:
            url = f"/analytics/{report.slug}/{window}"
            pages.append((f"{report.number}. {report.slug}", "sales", url, seller))
    clients = {}
    rows = []
    for name, who, url, user in pages:
        client = clients.get(user.pk)
        if client is None:
            client = clients[user.pk] = Client(raise_request_exception=False)
            client.force_login(user)
        status, times, queries = _measure(client, url, options.requests)
        rows.append((name, who, status, _percentile(times, 0.5), _percentile(times, 0.99), queries))
        print(f"  {name} ({who}): {statistics.median(times):.0f} ms", flush=True)

    floor = rows[0][3] or 1
    print()
    print(f"{'page':<28} {'viewer':<6} {'status':>6} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'× minimal':>10} {'queries':>8}  under {TARGET_MS} ms?")  # fmt: skip
    for name, who, status, p50, p99, queries in rows:
        met = "yes" if status == 200 and p99 < TARGET_MS else "NO"
        print(f"{name:<28} {who:<6} {status:>6} {p50:>8.1f} {p99:>8.1f} "
              f"{p50 / floor:>10.0f} {queries:>8}  {met}")  # fmt: skip
    print(f"\n{options.requests} requests per page after one unrecorded; 12 months: {window[1:]}")


if __name__ == "__main__":
    main()
