"""ERP exports (orders.exports): formats, incremental batches exactly once, failures and
retries (F11, N5), two runs at once, formula injection (B7) and streaming."""

from __future__ import annotations

import csv
import io
import json
import threading
import tracemalloc
import urllib.error
import xml.etree.ElementTree as ET
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone
from openpyxl import load_workbook

from orders.exports import SOURCES, batch_name, export_root, export_run, profiles_due
from orders.models import ExportProfile, ExportRun, Order
from tests.integration.orders.export_helpers import (
    LINE_COLUMNS,
    a_profile,
    a_salesperson,
    an_order,
    orders_cloned,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _export_root(settings, tmp_path):
    settings.WHOLESALE_EXPORT_ROOT = tmp_path / "exports"
    settings.WHOLESALE_EXPORT_LAG_SECONDS = 0


def read_csv(run: ExportRun) -> list[list[str]]:
    text = (export_root() / run.file).read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text)))


def touch(order: Order, *, later=timedelta(0)) -> None:
    """The order changed (as a save would), `later` after now."""
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() + later)


class TestFormats:
    def test_csv_has_the_chosen_columns_and_one_row_per_order(self):
        sales = a_salesperson()
        first = an_order(company="Acme Trading", owner=sales)
        second = an_order(company="Beta GmbH")
        run = export_run(a_profile().pk)

        assert run.status == "succeeded" and run.row_count == 2
        rows = read_csv(run)
        assert rows[0] == ["Order", "Company", "Sales", "Total", "Paid?"]
        assert rows[1:] == [
            [first.number, "Acme Trading", sales.email, str(first.grand_total), "pending"],
            [second.number, "Beta GmbH", "", str(second.grand_total), "pending"],
        ]

    def test_json_and_xml_carry_the_same_rows_under_the_column_names(self):
        order = an_order(company="Acme & Sons")
        json_run = export_run(a_profile(format="json").pk)
        xml_run = export_run(a_profile(format="xml").pk)

        records = json.loads((export_root() / json_run.file).read_text(encoding="utf-8"))
        assert records == [
            {
                "Order": order.number,
                "Company": "Acme & Sons",
                "Sales": "",
                "Total": str(order.grand_total),
                "Paid?": "pending",
            }
        ]
        tree = ET.parse(export_root() / xml_run.file)  # noqa: S314 - our own file
        fields = [(f.get("name"), f.text or "") for f in tree.getroot().find("row")]
        assert fields == [(key, str(value)) for key, value in records[0].items()]

    def test_xlsx_has_a_header_row_and_numbers_as_numbers(self):
        order = an_order()
        run = export_run(a_profile(format="xlsx").pk)

        sheet = load_workbook(export_root() / run.file).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == ("Order", "Company", "Sales", "Total", "Paid?")
        assert rows[1][0] == order.number and float(rows[1][3]) == float(order.grand_total)

    def test_a_line_level_profile_writes_one_row_per_order_line(self):
        two_lines = an_order(variants=2)
        one_line = an_order(variants=1)
        run = export_run(a_profile(fields=LINE_COLUMNS).pk)

        rows = read_csv(run)[1:]
        expected = [
            [order.number, line.sku, line.product_name, str(line.quantity), str(line.line_total)]
            for order in (two_lines, one_line)
            for line in order.lines.order_by("position", "pk")
        ]
        assert len(expected) == 3 and rows == expected and run.row_count == 3

    def test_states_and_dates_select_the_orders(self):
        an_order()
        kept = an_order()
        Order.objects.filter(pk=kept.pk).update(state="paid")
        run = export_run(a_profile(states=["paid"]).pk)
        assert [row[0] for row in read_csv(run)[1:]] == [kept.number]

        tomorrow = timezone.localdate() + timedelta(days=1)
        assert export_run(a_profile(date_from=tomorrow).pk) is None  # nothing placed then

    def test_every_source_in_the_catalogue_exports(self):
        an_order(owner=a_salesperson())
        columns = [{"source": key, "column": key} for key in SOURCES]
        run = export_run(a_profile(fields=columns).pk)
        rows = read_csv(run)
        assert rows[0] == list(SOURCES) and len(rows) == 2  # header + the one line


class TestFormulaInjection:
    """B7: a company or product name starting with =, +, - or @ is prefixed, CWE-1236."""

    def test_csv_and_xlsx_cells_are_neutralised(self):
        an_order(company='=HYPERLINK("http://x")', product_name="+SUM(A1)")
        csv_run = export_run(
            a_profile(
                fields=[
                    LINE_COLUMNS[0],
                    {"source": "customer_company", "column": "Company"},
                    {"source": "line_product", "column": "Product"},
                ]
            ).pk
        )
        xlsx_run = export_run(
            a_profile(format="xlsx", fields=[{"source": "customer_company", "column": "@C"}]).pk
        )

        row = read_csv(csv_run)[1]
        print("exported cells:", row[1:])
        assert row[1] == '\'=HYPERLINK("http://x")' and row[2] == "'+SUM(A1)"
        sheet = load_workbook(export_root() / xlsx_run.file).active
        assert list(sheet.iter_rows(values_only=True)) == [
            ("'@C",),
            ('\'=HYPERLINK("http://x")',),
        ]


class TestIncremental:
    def test_the_second_run_exports_only_new_and_changed_orders(self):
        first, second = an_order(), an_order()
        profile = a_profile()
        run1 = export_run(profile.pk)
        touch(second, later=timedelta(seconds=1))
        third = an_order()
        Order.objects.filter(pk=third.pk).update(updated_at=timezone.now() + timedelta(seconds=2))
        with mock.patch("orders.exports.timezone.now", return_value=timezone.now() + timedelta(5)):
            run2 = export_run(profile.pk)

        assert [row[0] for row in read_csv(run1)[1:]] == [first.number, second.number]
        assert [row[0] for row in read_csv(run2)[1:]] == [second.number, third.number]
        assert run2.cursor_from == run1.cursor_to
        assert run1.file != run2.file

    def test_a_rerun_with_nothing_new_writes_no_file_and_records_no_run(self):
        an_order()
        profile = a_profile()
        run = export_run(profile.pk)
        files = sorted((export_root() / "erp").iterdir())

        assert export_run(profile.pk) is None
        assert sorted((export_root() / "erp").iterdir()) == files
        assert list(ExportRun.objects.filter(profile=profile)) == [run]

    def test_a_full_profile_exports_everything_each_time(self):
        an_order(), an_order()
        profile = a_profile(incremental=False)
        assert export_run(profile.pk).row_count == 2
        assert export_run(profile.pk).row_count == 2
        assert ExportRun.objects.filter(profile=profile, status="succeeded").count() == 2

    def test_an_inactive_profile_does_not_run(self):
        an_order()
        assert export_run(a_profile(is_active=False).pk) is None


class _Response:
    def __init__(self, status=200):
        self.status = status

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def endpoint_profile(**fields):
    return a_profile(
        folder="",
        endpoint_url="https://erp.example.test/import",
        endpoint_secret="s3cret",
        **fields,
    )


class TestEndpointFaults:
    """F11 / N5: a refused or silent endpoint records a failed run; the retry sends the same
    rows, once, and only then does the cursor move."""

    @pytest.mark.parametrize(
        "fault",
        [
            urllib.error.HTTPError("https://erp", 500, "Server Error", {}, None),
            TimeoutError("timed out"),
        ],
        ids=["http-500", "timeout"],
    )
    def test_a_failed_post_is_recorded_and_the_retry_sends_the_same_rows_once(self, fault):
        first, second = an_order(), an_order()
        profile = endpoint_profile()
        bodies = []

        def answer(request, timeout):
            bodies.append((dict(request.header_items()), request.data.read().decode()))
            if len(bodies) == 1:
                raise fault
            return _Response(200)

        with mock.patch("orders.exports.urllib.request.urlopen", side_effect=answer):
            failed = export_run(profile.pk)
            profile.refresh_from_db()
            assert failed.status == "failed" and failed.error
            assert profile.last_cursor == "" and profile.last_success_at is None
            later = an_order()  # changed after the failed batch's upper bound
            touch(later, later=timedelta(seconds=5))
            retried = export_run(profile.pk)

        assert retried.pk == failed.pk and retried.status == "succeeded"
        assert retried.attempts == 2 and retried.row_count == 2
        assert bodies[0][1] == bodies[1][1]  # the same batch, byte for byte
        numbers = [row[0] for row in csv.reader(io.StringIO(bodies[1][1]))][1:]
        assert numbers == [first.number, second.number]
        headers = {key.lower(): value for key, value in bodies[1][0].items()}
        assert headers["x-export-secret"] == "s3cret"
        assert headers["x-export-batch"] == batch_name(profile, retried)
        profile.refresh_from_db()
        assert profile.last_cursor == retried.cursor_to
        print("attempts:", retried.attempts, "final status:", retried.status)

        with (
            mock.patch("orders.exports.urllib.request.urlopen", side_effect=answer),
            mock.patch("orders.exports.timezone.now", return_value=timezone.now() + timedelta(9)),
        ):
            following = export_run(profile.pk)
        assert following.row_count == 1 and later.number in bodies[2][1]
        assert first.number not in bodies[2][1]

    def test_the_task_raises_for_a_failed_run_so_celery_retries_it(self):
        from orders.exports import ExportFailed
        from orders.tasks import export_run_task

        an_order()
        profile = endpoint_profile()
        error = urllib.error.HTTPError("https://erp", 503, "Unavailable", {}, None)
        with (
            mock.patch("orders.exports.urllib.request.urlopen", side_effect=error),
            pytest.raises(ExportFailed),
        ):
            export_run_task.run(profile.pk)
        assert export_run_task.max_retries == 5 and export_run_task.retry_jitter
        assert ExportRun.objects.get(profile=profile).status == "failed"


class TestRerunAfterCrash:
    def test_a_crash_after_the_file_is_written_leaves_one_file_for_the_batch(self):
        """F6 / N5: the worker dies after the rename but before the commit; the rerun writes
        the same batch under the same name, so the folder holds it once."""
        an_order(), an_order()
        profile = a_profile()
        with (
            mock.patch("orders.exports.cursor_format", side_effect=RuntimeError("killed")),
            pytest.raises(RuntimeError),
        ):
            export_run(profile.pk)
        # The delivery rolled back; the batch it had taken stays, for the rerun to send again.
        assert ExportRun.objects.get(profile=profile).status == "running"

        run = export_run(profile.pk)
        assert (run.row_count, run.attempts) == (2, 2)
        assert [path.name for path in (export_root() / "erp").iterdir()] == [
            batch_name(profile, run)
        ]


@pytest.mark.django_db(transaction=True)
class TestTwoRunsAtOnce:
    def test_a_run_finding_the_profile_locked_does_nothing(self):
        an_order()
        profile = a_profile()
        results = []

        def other_worker():
            results.append(export_run(profile.pk))
            connection.close()

        with transaction.atomic():
            ExportProfile.objects.select_for_update().get(pk=profile.pk)
            thread = threading.Thread(target=other_worker)
            thread.start()
            thread.join()
        assert results == [None] and not ExportRun.objects.exists()

    def test_two_runs_started_together_export_each_order_once(self):
        orders = [an_order() for _ in range(3)]
        profile = a_profile()
        barrier = threading.Barrier(2)
        results = []

        def worker():
            barrier.wait()
            results.append(export_run(profile.pk))
            connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        runs = [run for run in results if run is not None]
        assert len(runs) == 1 and runs[0].row_count == 3
        assert ExportRun.objects.count() == 1
        exported = [row[0] for row in read_csv(runs[0])[1:]]
        assert sorted(exported) == sorted(order.number for order in orders)


class TestStreaming:
    def test_thousands_of_orders_export_in_bounded_memory(self):
        clones = orders_cloned(an_order(), 3000)
        profile = a_profile()
        tracemalloc.start()
        try:
            run = export_run(profile.pk)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        print(f"3001 orders: peak {peak / 1e6:.1f} MB")
        assert run.row_count == 3001
        assert len(read_csv(run)) == 3002
        assert {row[0] for row in read_csv(run)[1:]} >= {order.number for order in clones}
        assert peak < 40e6  # chunks of 2,000 orders, not the whole result


class TestProfiles:
    def test_a_folder_outside_the_root_is_refused(self):
        from django.core.exceptions import ValidationError

        profile = ExportProfile(name="x", fields=LINE_COLUMNS, folder="../../etc")
        with pytest.raises(ValidationError) as caught:
            profile.full_clean()
        assert "folder" in caught.value.message_dict

    def test_due_profiles_are_those_whose_period_has_passed(self):
        hourly = a_profile(schedule="hourly")
        daily = a_profile(schedule="daily")
        a_profile(schedule="manual")
        ExportRun.objects.create(
            profile=daily, upper_bound=timezone.now(), started_at=timezone.now()
        )
        assert profiles_due() == [hourly.pk]
        later = timezone.now() + timedelta(days=1, minutes=1)
        assert profiles_due(later) == [hourly.pk, daily.pk]
