"""★ The ERP export through a real Celery worker and the Redis broker, end to end (the issue's
"CI starts a real Celery worker against Redis and runs the tracking job and an export
through it"; RELIABILITY N5: a redelivery or a beat overlap exports nothing twice).

The tracking job's real-worker test is in test_tracking_races.py; the kills (F6) are in
test_worker_kill.py. Run with -s to see the figures each test reports.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connection

from orders import lifecycle
from orders.exports import export_root
from orders.models import ExportProfile, ExportRun, Order, OrderState
from orders.tasks import export_run_task, exports_run_due_task
from tests.concurrency.worker_process import ErpReceiver, wait_until
from tests.factories import StaffFactory
from tests.integration.orders.export_helpers import ORDER_COLUMNS, an_order
from wholesale.celery import app

pytestmark = [
    pytest.mark.real_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker needs PostgreSQL"),
]

EXPORT_TASK = "orders.tasks.export_run_task"
DUE_TASK = "orders.tasks.exports_run_due_task"


@pytest.fixture(autouse=True)
def _export_settings(settings, tmp_path):
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "the worker needs Redis"
    assert not app.conf.task_always_eager
    settings.WHOLESALE_EXPORT_ROOT = tmp_path / "exports"
    settings.WHOLESALE_EXPORT_LAG_SECONDS = 0


@pytest.fixture
def finished():
    """(task name, return value) of each task the in-process worker finished, in order."""
    done: list[tuple[str, object]] = []

    def record(sender=None, retval=None, **_kwargs):
        done.append((sender.name, retval))
        connection.close()  # the worker thread's own database connection

    task_postrun.connect(record, weak=False)
    yield done
    task_postrun.disconnect(record)


def paid_order(company: str) -> Order:
    order = an_order(company=company)
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=StaffFactory())
    order.refresh_from_db()
    return order


def exports_done(finished) -> list:
    return [value for name, value in finished if name == EXPORT_TASK]


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_folder_export_runs_through_the_worker_and_a_second_delivery_adds_nothing(finished):
    paid = [paid_order(f"Distributor {index}") for index in range(3)]
    an_order(company="Not paid yet")
    profile = ExportProfile(
        name="ERP folder",
        fields=ORDER_COLUMNS,
        states=[OrderState.PAID],
        folder="erp",
        schedule=ExportProfile.Schedule.HOURLY,
    )
    profile.full_clean()
    profile.save()

    app.control.purge()  # nothing left over from an earlier test runs first
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # Beat's due-profiles job finds the profile due and queues it while staff press
        # "run now", and the broker hands that message out once more (a redelivery).
        exports_run_due_task.delay()
        export_run_task.delay(profile.pk)
        export_run_task.delay(profile.pk)
        wait_until(lambda: len(exports_done(finished)) == 3, timeout=30, what="three exports")
        first_batch = list(ExportRun.objects.filter(profile=profile))
        files_after_duplicates = sorted(p.name for p in (export_root() / "erp").iterdir())
        # A new paid order: the next run exports it alone, in a file of its own.
        late = paid_order("Late Distributor")
        export_run_task.delay(profile.pk)
        wait_until(lambda: len(exports_done(finished)) == 4, timeout=30, what="the next export")
        time.sleep(0.2)  # let the worker settle before it is stopped

    runs = list(ExportRun.objects.filter(profile=profile).order_by("started_at", "pk"))
    files = sorted((export_root() / "erp").iterdir())
    exported = Counter(row[0] for path in files for row in csv_rows(path.read_text())[1:])
    profile.refresh_from_db()
    print(
        f"\nexport worker: task results {exports_done(finished)}, due job queued "
        f"{[value for name, value in finished if name == DUE_TASK]}; runs "
        f"{[(run.status, run.row_count) for run in runs]}; files {[p.name for p in files]}; "
        f"orders exported {sum(exported.values())} (max {max(exported.values())} each)"
    )
    # Three deliveries of one batch: one wrote the file, the others found nothing new.
    assert Counter(exports_done(finished)[:3]) == Counter({3: 1, 0: 2})
    assert [(run.status, run.row_count) for run in first_batch] == [(ExportRun.Status.SUCCEEDED, 3)]
    assert len(files_after_duplicates) == 1
    first_rows = csv_rows((export_root() / first_batch[0].file).read_text())
    assert first_rows[0] == [column["column"] for column in ORDER_COLUMNS]
    assert [(row[0], row[1], row[3]) for row in first_rows[1:]] == [
        (order.number, order.company_name, str(order.grand_total)) for order in paid
    ]
    # The late order went out alone; every paid order is in exactly one file, the unpaid
    # one in none; the cursor stands on the last order exported.
    assert exports_done(finished)[3] == 1
    assert [(run.status, run.row_count) for run in runs] == [
        (ExportRun.Status.SUCCEEDED, 3),
        (ExportRun.Status.SUCCEEDED, 1),
    ]
    assert runs[1].cursor_from == runs[0].cursor_to
    assert profile.last_cursor == runs[1].cursor_to
    assert len(files) == 2
    assert exported == Counter(order.number for order in [*paid, late])


def test_an_http_export_is_posted_once_with_its_secret_and_batch_key(finished):
    paid = [paid_order(f"Distributor {index}") for index in range(3)]
    with ErpReceiver() as erp:
        profile = ExportProfile(
            name="ERP endpoint",
            fields=ORDER_COLUMNS,
            states=[OrderState.PAID],
            endpoint_url=erp.url,  # plain http to 127.0.0.1 passes the profile's validation
            endpoint_secret="s3cret",
        )
        profile.full_clean()
        profile.save()

        app.control.purge()
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            export_run_task.delay(profile.pk)
            export_run_task.delay(profile.pk)  # a redelivery
            wait_until(lambda: len(exports_done(finished)) == 2, timeout=30, what="two exports")
            time.sleep(0.2)

    [run] = ExportRun.objects.filter(profile=profile)
    print(
        f"\nexport worker over HTTP: task results {exports_done(finished)}; POSTs "
        f"{[(request.batch, len(request.body)) for request in erp.requests]}; run "
        f"{(run.status, run.row_count, run.file)}"
    )
    assert Counter(exports_done(finished)) == Counter({3: 1, 0: 1})
    [request] = erp.requests
    assert request.secret == "s3cret"
    assert request.batch == run.file
    rows = csv_rows(request.body.decode("utf-8"))
    assert [row[0] for row in rows[1:]] == [order.number for order in paid]
    assert (run.status, run.row_count) == (ExportRun.Status.SUCCEEDED, 3)
    # Nothing is left on disk for an endpoint: the temporary file is removed after the POST.
    assert [path for path in export_root().rglob("*") if path.is_file()] == []
