"""How the report pages talk to PostgreSQL.

A report reads a year of orders or rollup rows in a few large aggregates. The shop's pages are
tuned for many small queries; a report is one person asking for a few big ones, so it runs in
a transaction that raises, for itself alone, the memory a sort or hash may use before spilling
to disk and the planner's readiness to split a scan across parallel workers
(WHOLESALE_ANALYTICS_DB_SETTINGS). The values return to the server's own at commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections, transaction

from orders.models import Order


@contextmanager
def report_transaction() -> Iterator[None]:
    """One report's queries, with the analytics settings in force (PostgreSQL only)."""
    using = Order.objects.db
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    tuned = settings.WHOLESALE_ANALYTICS_DB_SETTINGS
    with transaction.atomic(using=using, savepoint=False):
        if tuned:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(tuned)),
                    [part for name, value in tuned.items() for part in (name, str(value))],
                )
        yield
