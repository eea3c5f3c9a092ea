"""ERP exports: a profile's orders written as CSV, JSON, XML or XLSX to a folder or an HTTP
endpoint, exactly once per batch (RELIABILITY.md F6, F11, B7, N5).

A run, under the profile's row lock (a second run at the same time finds it locked and does
nothing; a killed worker's connection drops and frees it):
1. takes its batch: the orders whose (updated_at, pk) is above the profile's cursor and whose
   updated_at is at most an upper bound fixed at the start (a little in the past, so orders
   still being saved are left for the next run), and commits it as a running ExportRun. A
   failed or unfinished batch of the same cursor (its worker killed mid-delivery) is reused
   with its own upper bound, so a retry exports the same orders under the same key, not more;
2. locks the profile again and streams the rows (`iterator(chunk_size=...)`) into a
   temporary file beside the target;
3. renames it atomically into place (one name per batch, so a rerun overwrites rather than
   doubles) or POSTs it with the X-Export-Secret header and an X-Export-Batch idempotency key;
4. only then marks the run succeeded and moves the cursor, in the transaction of step 2.
A failure (an exception, HTTP 4xx/5xx, a timeout) is recorded on the run and the cursor stays.
When nothing changed since the last run, no file is written and no run is recorded.

The lock is on our own profile row, which only the export admin writes, so holding it across
the POST (bounded by WHOLESALE_EXPORT_TIMEOUT) blocks nobody's checkout.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wholesale.csv_export import csv_cell

from .models import ExportProfile, ExportRun, Order, OrderLine, OrderState, Payment

CHUNK_SIZE = 2000


def export_root() -> Path:
    return Path(getattr(settings, "WHOLESALE_EXPORT_ROOT", Path(settings.BASE_DIR) / "var/exports"))


def _timeout() -> float:
    return float(getattr(settings, "WHOLESALE_EXPORT_TIMEOUT", 30))


def _lag() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "WHOLESALE_EXPORT_LAG_SECONDS", 60)))


# --- The catalogue of sources -------------------------------------------------------------


def _distributor(order):
    try:
        return order.member.distributor
    except ObjectDoesNotExist:
        return None


def _salesperson_email(order):
    distributor = _distributor(order)
    owner = distributor.owner if distributor is not None else None
    return owner.email if owner is not None else ""


def _customer_country(order):
    distributor = _distributor(order)
    return str(distributor.country) if distributor is not None else ""


@dataclass(frozen=True)
class Source:
    label: object
    value: Callable
    line: bool = False  # a line field: the profile writes one row per order line


def _order(attr):
    return lambda order, line: getattr(order, attr)


def _line(attr):
    return lambda order, line: getattr(line, attr)


SOURCES: dict[str, Source] = {
    "order_number": Source(_("Order number"), _order("number")),
    "placed_at": Source(_("Placed at"), lambda o, line: o.placed_at.isoformat()),
    "state": Source(_("State"), _order("state")),
    "currency": Source(_("Currency"), _order("currency")),
    "goods_total": Source(_("Goods total"), _order("goods_total")),
    "discount_total": Source(_("Discount total"), _order("discount_total")),
    "shipping_total": Source(_("Shipping total"), _order("shipping_total")),
    "grand_total": Source(_("Grand total"), _order("grand_total")),
    "grand_total_base": Source(_("Total in base currency"), _order("grand_total_base")),
    "customer_email": Source(_("Customer email"), _order("email")),
    "customer_company": Source(_("Customer company"), _order("company_name")),
    "customer_country": Source(_("Customer country"), lambda o, line: _customer_country(o)),
    "salesperson_email": Source(_("Salesperson email"), lambda o, line: _salesperson_email(o)),
    "shipping_method": Source(_("Shipping method"), _order("shipping_method_name")),
    "ship_name": Source(_("Ship to name"), _order("ship_name")),
    "ship_company": Source(_("Ship to company"), _order("ship_company")),
    "ship_line1": Source(_("Ship to address line 1"), _order("ship_line1")),
    "ship_line2": Source(_("Ship to address line 2"), _order("ship_line2")),
    "ship_city": Source(_("Ship to city"), _order("ship_city")),
    "ship_region": Source(_("Ship to region"), _order("ship_region")),
    "ship_postal_code": Source(_("Ship to postal code"), _order("ship_postal_code")),
    "ship_country": Source(_("Ship to country"), lambda o, line: str(o.ship_country)),
    "ship_phone": Source(_("Ship to phone"), _order("ship_phone")),
    "payment_method": Source(_("Payment method"), _order("payment_method")),
    "payment_status": Source(
        _("Payment status"), lambda o, line: getattr(o, "export_payment_status", None) or ""
    ),
    "line_sku": Source(_("SKU"), _line("sku"), line=True),
    "line_product": Source(_("Product name"), _line("product_name"), line=True),
    "line_quantity": Source(_("Quantity"), _line("quantity"), line=True),
    "line_unit_price": Source(_("Unit price"), _line("unit_price"), line=True),
    "line_total": Source(_("Line total"), _line("line_total"), line=True),
}


def source_choices() -> list[tuple[str, object]]:
    return [(key, source.label) for key, source in SOURCES.items()]


def xlsx_available() -> bool:
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        return False
    return True


def _folder_path(folder: str) -> Path | None:
    """The folder under the export root, or None if it would leave the root."""
    root = export_root().resolve()
    target = (root / folder).resolve()
    return target if target.is_relative_to(root) else None


def profile_errors(profile: ExportProfile) -> dict[str, list]:
    """What is wrong with a profile, by field (the model's clean)."""
    errors: dict[str, list] = {}
    columns = profile.fields
    if not isinstance(columns, list) or not columns:
        errors.setdefault("fields", []).append(_("Choose at least one column."))
    else:
        for item in columns:
            if (
                not isinstance(item, dict)
                or item.get("source") not in SOURCES
                or not str(item.get("column") or "").strip()
            ):
                errors.setdefault("fields", []).append(
                    _("Each column needs a known source and a column name.")
                )
                break
    states = profile.states or []
    if not isinstance(states, list) or set(states) - set(OrderState.values):
        errors.setdefault("states", []).append(_("Unknown order state."))
    if profile.date_from and profile.date_to and profile.date_from > profile.date_to:
        errors.setdefault("date_to", []).append(_("The end date is before the start date."))
    if profile.format == ExportProfile.Format.XLSX and not xlsx_available():
        errors.setdefault("format", []).append(_("Excel export needs openpyxl installed."))
    if bool(profile.folder) == bool(profile.endpoint_url):
        errors.setdefault("folder", []).append(_("Give either a folder or an endpoint URL."))
    if profile.folder and _folder_path(profile.folder) is None:
        errors.setdefault("folder", []).append(_("The folder must be inside the export root."))
    if profile.endpoint_url and not profile.endpoint_secret:
        errors.setdefault("endpoint_secret", []).append(_("An endpoint needs a secret."))
    return errors


# --- Cursors --------------------------------------------------------------------------------


def cursor_format(updated_at: datetime, pk: int) -> str:
    return f"{updated_at.isoformat()}/{pk}"


def cursor_parse(cursor: str) -> tuple[datetime, int] | None:
    if not cursor or "/" not in cursor:
        return None
    stamp, pk = cursor.rsplit("/", 1)
    return datetime.fromisoformat(stamp), int(pk)


# --- Selecting and writing ------------------------------------------------------------------


def _orders(profile: ExportProfile, run: ExportRun):
    orders = Order.objects.filter(updated_at__lte=run.upper_bound)
    cursor = cursor_parse(run.cursor_from) if profile.incremental else None
    if cursor is not None:
        stamp, pk = cursor
        orders = orders.filter(Q(updated_at__gt=stamp) | Q(updated_at=stamp, pk__gt=pk))
    if profile.states:
        orders = orders.filter(state__in=profile.states)
    if profile.date_from:
        orders = orders.filter(placed_at__date__gte=profile.date_from)
    if profile.date_to:
        orders = orders.filter(placed_at__date__lte=profile.date_to)
    return orders


def _payment_status():
    return Subquery(
        Payment.objects.filter(order=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values("status")[:1]
    )


def _is_line_level(profile: ExportProfile) -> bool:
    return any(SOURCES[item["source"]].line for item in profile.fields)


def _rows(profile: ExportProfile, run: ExportRun, last: list) -> Iterator[list]:
    """The profile's rows, streamed; `last` gets the (updated_at, pk) of the last order."""
    columns = [SOURCES[item["source"]] for item in profile.fields]
    orders = _orders(profile, run).select_related("member__distributor__owner")
    if _is_line_level(profile):
        lines = (
            OrderLine.objects.filter(order__in=orders.values("pk"))
            .select_related("order__member__distributor__owner")
            .annotate(export_payment_status=_payment_status_for_line())
            .order_by("order__updated_at", "order__pk", "position", "pk")
        )
        for line in lines.iterator(chunk_size=CHUNK_SIZE):
            order = line.order
            order.export_payment_status = line.export_payment_status
            last[:] = [order.updated_at, order.pk]
            yield [source.value(order, line) for source in columns]
    else:
        orders = orders.annotate(export_payment_status=_payment_status()).order_by(
            "updated_at", "pk"
        )
        for order in orders.iterator(chunk_size=CHUNK_SIZE):
            last[:] = [order.updated_at, order.pk]
            yield [source.value(order, None) for source in columns]


def _payment_status_for_line():
    return Subquery(
        Payment.objects.filter(order=OuterRef("order_id"))
        .order_by("-created_at", "-pk")
        .values("status")[:1]
    )


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    return "" if value is None else value


def _write_csv(handle, header, rows) -> int:
    writer = csv.writer(handle)
    writer.writerow([csv_cell(cell) for cell in header])
    count = 0
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
        count += 1
    return count


def _write_json(handle, header, rows) -> int:
    handle.write("[")
    count = 0
    for row in rows:
        record = {column: _plain(value) for column, value in zip(header, row, strict=True)}
        handle.write(("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False))
        count += 1
    handle.write("\n]\n")
    return count


def _write_xml(handle, header, rows) -> int:
    handle.write('<?xml version="1.0" encoding="UTF-8"?>\n<orders>\n')
    count = 0
    for row in rows:
        cells = "".join(
            f"<field name={quoteattr(column)}>{escape(str(_plain(value)))}</field>"
            for column, value in zip(header, row, strict=True)
        )
        handle.write(f"<row>{cells}</row>\n")
        count += 1
    handle.write("</orders>\n")
    return count


def _write_xlsx(path: Path, header, rows) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)  # rows go to a temporary file, not kept in memory
    sheet = workbook.create_sheet("orders")
    sheet.append([csv_cell(cell) for cell in header])
    count = 0
    for row in rows:
        sheet.append(
            [value if isinstance(value, Decimal | int) else csv_cell(value) for value in row]
        )
        count += 1
    workbook.save(path)
    return count


def _write(profile: ExportProfile, path: Path, rows) -> int:
    header = [str(item["column"]) for item in profile.fields]
    if profile.format == ExportProfile.Format.XLSX:
        return _write_xlsx(path, header, rows)
    writer = {
        ExportProfile.Format.CSV: _write_csv,
        ExportProfile.Format.JSON: _write_json,
        ExportProfile.Format.XML: _write_xml,
    }[profile.format]
    with path.open("w", encoding="utf-8", newline="") as handle:
        return writer(handle, header, rows)


def batch_name(profile: ExportProfile, run: ExportRun) -> str:
    """One file name per batch: a rerun of the batch overwrites its file, never adds one."""
    key = hashlib.sha256(run.cursor_from.encode()).hexdigest()[:12]
    return f"profile{profile.pk}-{key}.{profile.format}"


class ExportFailed(Exception):
    """The destination refused or did not answer; the run is recorded failed."""


def _post(profile: ExportProfile, run: ExportRun, path: Path) -> None:
    content_types = {
        "csv": "text/csv; charset=utf-8",
        "json": "application/json",
        "xml": "application/xml",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    if not profile.endpoint_url.startswith(("https://", "http://")):
        raise ExportFailed("the endpoint must be an http(s) URL")
    with path.open("rb") as body:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            profile.endpoint_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": content_types[profile.format],
                "Content-Length": str(path.stat().st_size),
                "X-Export-Secret": profile.endpoint_secret,
                "X-Export-Batch": batch_name(profile, run),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=_timeout()) as response:  # noqa: S310
                status = response.status
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ExportFailed(f"POST {profile.endpoint_url}: {exc}") from exc
    if status >= 300:
        raise ExportFailed(f"POST {profile.endpoint_url}: HTTP {status}")


def _deliver(profile: ExportProfile, run: ExportRun) -> tuple[int, str, list]:
    """Write the batch and put it in place; returns (rows, file, last order cursor)."""
    last: list = []
    name = batch_name(profile, run)
    if profile.folder:
        folder = _folder_path(profile.folder)
        if folder is None:
            raise ExportFailed("folder outside the export root")
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
    else:
        folder = export_root() / ".outgoing"
        folder.mkdir(parents=True, exist_ok=True)
        target = None
    # A worker killed while writing this batch left its temporary file; the profile's lock
    # is ours, so no other run is writing one of them now.
    for leftover in folder.glob(f".{name}.*.part"):
        leftover.unlink(missing_ok=True)
    temporary = folder / f".{name}.{uuid.uuid4().hex}.part"
    try:
        count = _write(profile, temporary, _rows(profile, run, last))
        if target is not None:
            os.replace(temporary, target)  # atomic on one filesystem: the ERP never sees half
            file = str(target.relative_to(export_root().resolve()))
        else:
            _post(profile, run, temporary)
            file = name
    finally:
        temporary.unlink(missing_ok=True)
    return count, file, last


# --- Running --------------------------------------------------------------------------------


def _batch_take(profile: ExportProfile) -> ExportRun | None:
    """The run for the profile's next batch: a failed one of the same cursor is reused (same
    upper bound, same orders); None when an incremental profile has nothing new."""
    now = timezone.now()
    if profile.incremental:
        run = ExportRun.objects.filter(profile=profile, cursor_from=profile.last_cursor).first()
        if run is not None:
            # A failed batch is retried as it was; a succeeded one with this cursor found no
            # rows after all (they changed again meanwhile), so it looks again up to now.
            if run.status == ExportRun.Status.SUCCEEDED:
                run.upper_bound = now - _lag()
                if not _orders(profile, run).exists():
                    return None
            run.attempts += 1
            run.started_at = now
            return run
        run = ExportRun(profile=profile, cursor_from=profile.last_cursor, upper_bound=now - _lag())
        if not _orders(profile, run).exists():
            return None
        return run
    latest = ExportRun.objects.filter(profile=profile).first()
    if latest is not None and latest.status != ExportRun.Status.SUCCEEDED:
        latest.attempts += 1
        latest.started_at = now
        return latest
    upper = now - _lag()
    return ExportRun(profile=profile, cursor_from=f"full@{upper.isoformat()}", upper_bound=upper)


def _profile_lock(profile_id: int) -> ExportProfile | None:
    """The active profile, locked; None when it is inactive or another run holds it."""
    try:
        with transaction.atomic():
            return (
                ExportProfile.objects.select_for_update(nowait=True)
                .filter(pk=profile_id, is_active=True)
                .first()
            )
    except DatabaseError:
        return None  # another run holds the profile


def export_run(profile_id: int) -> ExportRun | None:
    """Run one profile's next batch (see the module notes). Returns the run, or None when the
    profile is busy with another run, inactive, or has nothing new."""
    # The batch (its cursor and upper bound) is committed before anything is delivered: a
    # worker killed while delivering loses its transaction but not the batch, so the rerun
    # sends the same orders under the same batch key, never more.
    with transaction.atomic():
        profile = _profile_lock(profile_id)
        if profile is None:
            return None
        run = _batch_take(profile)
        if run is None:
            return None
        run.status = ExportRun.Status.RUNNING
        run.save()
    with transaction.atomic():
        profile = _profile_lock(profile_id)
        if profile is None:
            return None
        run.refresh_from_db()
        if run.status == ExportRun.Status.SUCCEEDED:
            return None  # another run took the profile between our two steps and sent it
        try:
            with transaction.atomic():
                count, file, last = _deliver(profile, run)
        except Exception as exc:  # every failure is recorded on the run
            run.status = ExportRun.Status.FAILED
            run.error = str(exc)[:2000] or exc.__class__.__name__
            run.finished_at = timezone.now()
            run.save()
            return run
        run.status = ExportRun.Status.SUCCEEDED
        run.row_count = count
        run.file = file
        run.error = ""
        run.finished_at = timezone.now()
        run.cursor_to = cursor_format(*last) if last else run.cursor_from
        run.save()
        profile.last_success_at = run.finished_at
        if profile.incremental and last:
            profile.last_cursor = run.cursor_to
        profile.save(update_fields=["last_success_at", "last_cursor"])
    return run


SCHEDULE_PERIODS = {
    ExportProfile.Schedule.HOURLY: timedelta(hours=1),
    ExportProfile.Schedule.DAILY: timedelta(days=1),
}


def profiles_due(now: datetime | None = None) -> list[int]:
    """The scheduled profiles whose period has passed since their last run started."""
    now = now or timezone.now()
    due = []
    profiles = ExportProfile.objects.filter(
        is_active=True, schedule__in=list(SCHEDULE_PERIODS)
    ).order_by("pk")
    for profile in profiles:
        latest = profile.runs.order_by("-started_at").values_list("started_at", flat=True).first()
        if latest is None or latest <= now - SCHEDULE_PERIODS[profile.schedule]:
            due.append(profile.pk)
    return due


def run_file_path(run: ExportRun) -> Path | None:
    """The file of a succeeded folder export, if it is still there and inside the root."""
    if not run.file or not run.profile.folder:
        return None
    root = export_root().resolve()
    path = (root / run.file).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path
