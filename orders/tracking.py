"""Logistics tracking: carriers tell where parcels are; the sweep stores their scans.

A provider (TrackingProvider) is asked about parcels in batches and answers with raw events.
Two providers: OfflineCarrier, a built-in carrier that moves each parcel through a plausible
week (info received → in transit → customs → out for delivery → delivered) worked out from
its tracking number and its age, for the demo and the tests; and SeventeenTrackProvider, the
17TRACK v2.2 multi-carrier API. Setting WHOLESALE_TRACKING_PROVIDER chooses ("offline" or
"17track", the latter with WHOLESALE_17TRACK_API_KEY).

tracking_update() is the sweep run by beat three times a day (orders.tasks). It is safe to run
twice at once or again after a crash:
- events are unique on (shipment, carrier event id) and inserted with ON CONFLICT DO NOTHING;
- a shipment's status moves with `UPDATE … WHERE status = <the status read>`: of two runs
  seeing the same change only the one whose update hit the row emails the buyer and moves
  the order, so each key change sends one email;
- a batch the carrier fails on is logged in the run (TrackingRun) and the other batches go on.

The carrier is asked about a batch with no lock held; what it said is then written in one
transaction per batch that locks the batch's shipments in pk order and costs the same few
queries whatever the batch size (on PostgreSQL the status moves are one
`UPDATE … FROM (VALUES …) … RETURNING id`), plus one transition for each order that becomes
delivered and the outbox row of each email.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from . import emails, states
from .lifecycle import TransitionRefused, order_transition
from .models import Order, OrderState, Shipment, TrackingEvent, TrackingRun, TrackingStatus

logger = logging.getLogger(__name__)

S = TrackingStatus
# The changes the buyer is emailed about.
KEY_STATUSES = frozenset({S.IN_TRANSIT, S.CUSTOMS, S.OUT_FOR_DELIVERY, S.DELIVERED, S.EXCEPTION})
# Orders whose parcels are no longer followed.
CLOSED_ORDER_STATES = frozenset({OrderState.CANCELLED, OrderState.REFUNDED})
SYSTEM_LABEL = "tracking"


class TrackingUnavailable(Exception):
    """The carrier could not be asked (network, timeout, HTTP error, a reply we cannot read)."""


@dataclass(frozen=True)
class Parcel:
    """What a provider is told about a parcel."""

    number: str
    carrier: str
    shipped_at: datetime


@dataclass(frozen=True)
class RawEvent:
    """One scan as a provider reports it, already mapped to our statuses."""

    carrier_event_id: str
    occurred_at: datetime
    status: str
    location: str = ""
    description: str = ""


class TrackingProvider(Protocol):
    name: str
    batch_size: int

    def register(self, parcels: Sequence[Parcel]) -> None:
        """Tell the provider to follow these parcels (idempotent)."""

    def fetch(self, parcels: Sequence[Parcel]) -> dict[str, list[RawEvent]]:
        """The events of each parcel, keyed by tracking number; raises TrackingUnavailable."""


# --- Offline carrier -----------------------------------------------------------------------

# (status, hours after dispatch, description, location) of the built-in carrier's week.
_OFFLINE_STEPS = (
    (S.INFO_RECEIVED, 2, "Shipment information received", "Origin facility"),
    (S.IN_TRANSIT, 26, "Departed origin facility", "Origin hub"),
    (S.CUSTOMS, 74, "Arrived at customs", "Destination customs"),
    (S.IN_TRANSIT, 110, "Released by customs", "Destination hub"),
    (S.OUT_FOR_DELIVERY, 146, "Out for delivery", "Local depot"),
    (S.DELIVERED, 158, "Delivered", "Recipient address"),
)


class OfflineCarrier:
    """A deterministic carrier: a parcel's events depend only on its number and its age.

    Each step's hour is shifted by up to ±3 hours by a hash of the tracking number, so parcels
    sent together do not all move at the same minute, and asking twice gives the same answer.
    """

    name = "offline"
    batch_size = 100

    def __init__(self, now: datetime | None = None):
        self.now = now

    def register(self, parcels: Sequence[Parcel]) -> None:
        return None

    def events_for(self, parcel: Parcel, now: datetime) -> list[RawEvent]:
        digest = hashlib.sha256(parcel.number.encode()).digest()
        events = []
        for index, (status, hours, description, location) in enumerate(_OFFLINE_STEPS):
            shift = digest[index] % 7 - 3  # −3 … +3 hours
            at = parcel.shipped_at + timedelta(hours=hours + shift)
            if at > now:
                break
            events.append(
                RawEvent(
                    carrier_event_id=f"offline-{index}",
                    occurred_at=at,
                    status=status,
                    location=location,
                    description=description,
                )
            )
        return events

    def fetch(self, parcels: Sequence[Parcel]) -> dict[str, list[RawEvent]]:
        now = self.now or timezone.now()
        return {parcel.number: self.events_for(parcel, now) for parcel in parcels}


# --- 17TRACK --------------------------------------------------------------------------------

SEVENTEEN_TRACK_URL = "https://api.17track.net/track/v2.2/"
# 17TRACK main statuses (track_info.latest_status.status, events[].stage) to ours. NotFound and
# Expired say nothing new about the parcel: events of those stages are kept as "in transit"
# only when they carry a description, and never move the shipment backwards (see _status_of).
SEVENTEEN_TRACK_STATUSES = {
    "NotFound": S.INFO_RECEIVED,
    "InfoReceived": S.INFO_RECEIVED,
    "InTransit": S.IN_TRANSIT,
    "Expired": S.EXCEPTION,
    "AvailableForPickup": S.OUT_FOR_DELIVERY,
    "OutForDelivery": S.OUT_FOR_DELIVERY,
    "DeliveryFailure": S.EXCEPTION,
    "Delivered": S.DELIVERED,
    "Exception": S.EXCEPTION,
}


def seventeen_track_status(stage: str, sub_status: str = "") -> str:
    """Our status for a 17TRACK stage; customs is a sub-status of InTransit at 17TRACK."""
    if "customs" in (sub_status or "").lower():
        return S.CUSTOMS
    return SEVENTEEN_TRACK_STATUSES.get(stage or "", S.IN_TRANSIT)


class SeventeenTrackProvider:
    """17TRACK v2.2: POST /register then /gettrackinfo, at most 40 numbers a call, the key in
    the `17token` header."""

    name = "17track"
    batch_size = 40

    def __init__(self, api_key: str, *, timeout: float = 20, base_url: str = SEVENTEEN_TRACK_URL):
        if not api_key:
            raise ImproperlyConfigured("WHOLESALE_17TRACK_API_KEY is needed for 17TRACK.")
        if not base_url.startswith("https://"):
            raise ImproperlyConfigured("The 17TRACK address must be https.")
        self.api_key = api_key
        self.timeout = timeout
        self.base_url = base_url

    def _post(self, endpoint: str, payload) -> dict:
        request = urllib.request.Request(  # noqa: S310 (https only, checked in __init__)
            self.base_url + endpoint,
            data=json.dumps(payload).encode(),
            headers={"17token": self.api_key, "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
            raise TrackingUnavailable(f"17TRACK {endpoint}: {error}") from error
        if not isinstance(body, dict) or body.get("code") != 0:
            raise TrackingUnavailable(f"17TRACK {endpoint}: refused ({str(body)[:200]})")
        return body.get("data") or {}

    def _batches(self, parcels: Sequence[Parcel]) -> Iterable[Sequence[Parcel]]:
        for start in range(0, len(parcels), self.batch_size):
            yield parcels[start : start + self.batch_size]

    def register(self, parcels: Sequence[Parcel]) -> None:
        # A number registered before is "rejected" as already registered: that is fine.
        for batch in self._batches(parcels):
            self._post("register", [{"number": parcel.number} for parcel in batch])

    def fetch(self, parcels: Sequence[Parcel]) -> dict[str, list[RawEvent]]:
        result: dict[str, list[RawEvent]] = {}
        for batch in self._batches(parcels):
            data = self._post("gettrackinfo", [{"number": parcel.number} for parcel in batch])
            for accepted in data.get("accepted") or []:
                result[accepted.get("number", "")] = self.events_of(accepted)
        return result

    @staticmethod
    def events_of(accepted: dict) -> list[RawEvent]:
        """Our events from one `accepted` item of a gettrackinfo reply."""
        info = accepted.get("track_info") or {}
        providers = (info.get("tracking") or {}).get("providers") or []
        events = []
        for provider in providers:
            for event in provider.get("events") or []:
                occurred_at = parse_datetime(event.get("time_utc") or event.get("time_iso") or "")
                if occurred_at is None:
                    continue
                if timezone.is_naive(occurred_at):
                    occurred_at = timezone.make_aware(occurred_at, timezone.UTC)
                description = (event.get("description") or "").strip()
                location = (event.get("location") or "").strip()
                # 17TRACK gives events no id: a scan is its time, place and wording.
                key = f"{occurred_at.isoformat()}|{location}|{description}"
                events.append(
                    RawEvent(
                        carrier_event_id="17t-" + hashlib.sha256(key.encode()).hexdigest()[:32],
                        occurred_at=occurred_at,
                        status=seventeen_track_status(
                            event.get("stage") or "", event.get("sub_status") or ""
                        ),
                        location=location[:200],
                        description=description[:500],
                    )
                )
        return events


def provider_default() -> TrackingProvider:
    choice = getattr(settings, "WHOLESALE_TRACKING_PROVIDER", "offline")
    if choice == "offline":
        return OfflineCarrier()
    if choice == "17track":
        return SeventeenTrackProvider(getattr(settings, "WHOLESALE_17TRACK_API_KEY", ""))
    raise ImproperlyConfigured("WHOLESALE_TRACKING_PROVIDER: offline or 17track.")


# --- The sweep ------------------------------------------------------------------------------


def shipments_to_track(*, now: datetime, min_interval: timedelta):
    """Shipments not delivered, of orders still open, not checked in the last `min_interval`
    (so a retry after a failed batch does not ask the carrier again about the others)."""
    queryset = Shipment.objects.exclude(status=S.DELIVERED).exclude(
        order__state__in=CLOSED_ORDER_STATES
    )
    if min_interval:
        queryset = queryset.exclude(last_checked_at__gt=now - min_interval)
    return queryset.order_by("pk")


def _latest_status_subquery():
    return Subquery(
        TrackingEvent.objects.filter(shipment=OuterRef("pk"))
        .order_by("-occurred_at", "-pk")
        .values("status")[:1]
    )


def _delivered_at_subquery():
    return Subquery(
        TrackingEvent.objects.filter(shipment=OuterRef("pk"), status=S.DELIVERED)
        .order_by("-occurred_at", "-pk")
        .values("occurred_at")[:1]
    )


@dataclass(frozen=True)
class _Move:
    """A shipment whose stored events say it is no longer where its row says."""

    shipment_id: int
    order_id: int
    old: str
    new: str
    delivered_at: datetime | None


def _events_store(shipments: Sequence[Shipment], answers, now: datetime) -> int:
    """Insert the events not stored yet; returns how many. The caller holds the shipments'
    row locks, so another sweep cannot be inserting the same events meanwhile and the count
    is exact; the unique constraint (ON CONFLICT DO NOTHING) still has the last word."""
    known = set(
        TrackingEvent.objects.filter(shipment__in=shipments).values_list(
            "shipment_id", "carrier_event_id"
        )
    )
    rows = []
    for shipment in shipments:
        for event in answers.get(shipment.tracking_number, []):
            key = (shipment.pk, event.carrier_event_id)
            if key in known:
                continue
            known.add(key)  # a carrier may repeat a scan within one answer
            rows.append(
                TrackingEvent(
                    order_id=shipment.order_id,
                    shipment_id=shipment.pk,
                    carrier_event_id=event.carrier_event_id,
                    occurred_at=event.occurred_at,
                    status=event.status,
                    location=event.location,
                    description=event.description,
                    created_at=now,
                )
            )
    if rows:
        TrackingEvent.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _moves_apply_postgresql(moves: Sequence[_Move]) -> set[int]:
    """One conditional UPDATE for the whole batch; the ids whose row it changed."""
    table = connection.ops.quote_name(Shipment._meta.db_table)
    rows = ", ".join(["(%s::bigint, %s::text, %s::text, %s::timestamptz)"] * len(moves))
    sql = (
        f"UPDATE {table} AS s SET status = v.new, delivered_at = v.delivered_at "  # noqa: S608 - our table name, values are parameters
        f"FROM (VALUES {rows}) AS v (id, old, new, delivered_at) "
        "WHERE s.id = v.id AND s.status = v.old RETURNING s.id"
    )
    params = [value for m in moves for value in (m.shipment_id, m.old, m.new, m.delivered_at)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _moves_apply_one_by_one(moves: Sequence[_Move]) -> set[int]:
    """The same conditional update, a row at a time, for SQLite (the demo), which lacks
    UPDATE … FROM … RETURNING on older versions and has one writer at a time anyway."""
    changed = set()
    for move in moves:
        hit = Shipment.objects.filter(pk=move.shipment_id, status=move.old).update(
            status=move.new, delivered_at=move.delivered_at
        )
        if hit:
            changed.add(move.shipment_id)
    return changed


def _moves_apply(moves: Sequence[_Move]) -> set[int]:
    """Move each shipment from the status read to the new one, only if it still has the status
    read: of two sweeps seeing the same change, only the one whose update hit the row gets
    its id back, and so only it emails the buyer and moves the order."""
    if not moves:
        return set()
    if connection.vendor == "postgresql":
        return _moves_apply_postgresql(moves)
    return _moves_apply_one_by_one(moves)


def _orders_deliver(order_ids: Iterable[int]) -> None:
    """Orders become delivered once every parcel of theirs is delivered (and if allowed).

    The orders are locked, in pk order, before their parcels are counted: two sweeps
    delivering the last two parcels of one order in different batches at the same time then
    count one after the other, and the second sees the first's parcel delivered."""
    order_ids = sorted(set(order_ids))
    if not order_ids:
        return
    deliverable = [
        pk
        for pk, state in Order.objects.select_for_update()
        .filter(pk__in=order_ids)
        .order_by("pk")
        .values_list("pk", "state")
        if states.can_move(state, OrderState.DELIVERED)
    ]
    if not deliverable:
        return
    waiting = set(
        Shipment.objects.filter(order_id__in=deliverable)
        .exclude(status=S.DELIVERED)
        .values_list("order_id", flat=True)
    )
    for order_id in deliverable:
        if order_id in waiting:
            continue
        try:
            order_transition(
                order_id=order_id,
                to_state=OrderState.DELIVERED,
                actor_label=SYSTEM_LABEL,
                reason=_("Delivered, as the carrier reports."),
            )
        except TransitionRefused:
            logger.info("order %s not moved to delivered: not allowed from its state", order_id)


def _batch_store(shipments: Sequence[Shipment], answers, now: datetime) -> int:
    """Write what the carrier said about a batch, in a bounded number of queries whatever the
    batch size (plus one transition per order that becomes delivered). Returns the number
    of new events. Runs inside the caller's transaction."""
    ids = [shipment.pk for shipment in shipments]
    # Locked in pk order (RELIABILITY: no deadlock between two sweeps); also drops a shipment
    # deleted since the batch was read.
    read = dict(
        Shipment.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "status")
    )
    shipments = [shipment for shipment in shipments if shipment.pk in read]
    if not shipments:
        return 0
    Shipment.objects.filter(pk__in=list(read)).update(last_checked_at=now)
    added = _events_store(shipments, answers, now)
    latest = {
        pk: (status, delivered_at)
        for pk, status, delivered_at in Shipment.objects.filter(pk__in=list(read))
        .annotate(latest=_latest_status_subquery(), delivered=_delivered_at_subquery())
        .values_list("pk", "latest", "delivered")
    }
    moves = []
    for shipment in shipments:
        new, delivered_at = latest.get(shipment.pk, (None, None))
        old = read[shipment.pk]
        if new and new != old:
            moves.append(
                _Move(
                    shipment_id=shipment.pk,
                    order_id=shipment.order_id,
                    old=old,
                    new=new,
                    delivered_at=delivered_at if new == S.DELIVERED else None,
                )
            )
    changed = _moves_apply(moves)
    made = [move for move in moves if move.shipment_id in changed]
    _orders_deliver(move.order_id for move in made if move.new == S.DELIVERED)
    for move in made:
        if move.new in KEY_STATUSES:
            emails.send_later("tracking_update", shipment_id=move.shipment_id, status=move.new)
    return added


def _batch_update(provider: TrackingProvider, shipments: list[Shipment], now: datetime) -> int:
    parcels = [
        Parcel(
            number=shipment.tracking_number,
            carrier=shipment.carrier,
            shipped_at=shipment.shipped_at,
        )
        for shipment in shipments
    ]
    # The carrier is asked before any row is locked: no lock is held across its HTTP calls.
    if any(shipment.last_checked_at is None for shipment in shipments):
        provider.register(
            [p for p, s in zip(parcels, shipments, strict=True) if s.last_checked_at is None]
        )
    answers = provider.fetch(parcels)
    with transaction.atomic():
        return _batch_store(shipments, answers, now)


def tracking_update(
    *,
    now: datetime | None = None,
    provider: TrackingProvider | None = None,
    min_interval: timedelta | None = None,
) -> TrackingRun:
    """Ask the carrier about every open shipment, batch by batch; store new events, move
    shipments and orders, email the buyers. Returns the run log (errors listed per batch)."""
    now = now or timezone.now()
    provider = provider or provider_default()
    if min_interval is None:
        min_interval = timedelta(minutes=settings.WHOLESALE_TRACKING_RECHECK_MINUTES)
    run = TrackingRun.objects.create(started_at=timezone.now(), provider=provider.name)
    errors: list[str] = []
    checked = added = 0
    ids = list(shipments_to_track(now=now, min_interval=min_interval).values_list("pk", flat=True))
    for start in range(0, len(ids), provider.batch_size):
        batch_ids = ids[start : start + provider.batch_size]
        shipments = list(
            Shipment.objects.filter(pk__in=batch_ids)
            .only("pk", "order_id", "carrier", "tracking_number", "shipped_at", "last_checked_at")
            .order_by("pk")
        )
        try:
            added += _batch_update(provider, shipments, now)
        except TrackingUnavailable as error:
            logger.warning("tracking batch of %s shipments failed: %s", len(shipments), error)
            errors.append(
                f"{', '.join(s.tracking_number for s in shipments[:5])}"
                f"{'…' if len(shipments) > 5 else ''}: {error}"
            )
            continue
        checked += len(shipments)
        TrackingRun.objects.filter(pk=run.pk).update(shipments_checked=checked, events_added=added)
    if not errors:
        status = TrackingRun.Status.SUCCEEDED
    elif checked:
        status = TrackingRun.Status.PARTIAL
    else:
        status = TrackingRun.Status.FAILED
    TrackingRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(),
        shipments_checked=checked,
        events_added=added,
        errors="\n".join(errors),
        status=status,
    )
    run.refresh_from_db()
    logger.info(
        "tracking run %s: %s shipments, %s new events, %s failed batches",
        run.pk,
        checked,
        added,
        len(errors),
    )
    return run
