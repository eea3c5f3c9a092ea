"""Report periods: a date range (both days included, in the shop's time zone), the period it
is compared with, and the buckets a chart groups it by. Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from django.utils import timezone

MAX_DAYS = 5 * 366  # a longer range is cut to the last five years


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Compare(StrEnum):
    PREVIOUS = "previous"  # the same number of days just before
    YEAR = "year"  # the same dates a year earlier
    NONE = "none"


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("a period ends on or after its start")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """[start of the first day, start of the day after the last) as aware datetimes."""
        zone = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )

    def previous(self) -> Period:
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def year_before(self) -> Period:
        return Period(_year_back(self.start), _year_back(self.end))

    def compared(self, compare: Compare) -> Period | None:
        if compare == Compare.PREVIOUS:
            return self.previous()
        if compare == Compare.YEAR:
            return self.year_before()
        return None

    def __str__(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


# The dates a report may cover: a shop's history lies between them, and a period at either
# end still has a comparison period and bounds that stay within the calendar.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def period_default(today: date | None = None, days: int = 30) -> Period:
    """The last `days` days, today included."""
    today = today or timezone.localdate()
    return Period(today - timedelta(days=days - 1), today)


def period_clamped(start: date, end: date) -> Period:
    """The range asked for, turned the right way round, kept within EARLIEST and LATEST and
    cut to MAX_DAYS."""
    if end < start:
        start, end = end, start
    start, end = max(start, EARLIEST), min(end, LATEST)
    end = max(start, end)
    if (end - start).days >= MAX_DAYS:
        start = end - timedelta(days=MAX_DAYS - 1)
    return Period(start, end)


def grain_default(period: Period) -> Grain:
    if period.days <= 62:
        return Grain.DAY
    if period.days <= 190:
        return Grain.WEEK
    return Grain.MONTH


def bucket_of(day: date, grain: Grain) -> date:
    """The first day of the bucket holding `day` (weeks start on Monday)."""
    if grain == Grain.WEEK:
        return day - timedelta(days=day.weekday())
    if grain == Grain.MONTH:
        return day.replace(day=1)
    return day


def buckets(period: Period, grain: Grain) -> list[date]:
    """The first day of every bucket the period touches, in order."""
    found = []
    day = bucket_of(period.start, grain)
    while day <= period.end:
        found.append(day)
        if grain == Grain.DAY:
            day += timedelta(days=1)
        elif grain == Grain.WEEK:
            day += timedelta(days=7)
        else:
            day = month_add(day, 1)
    return found


def month_add(day: date, n: int) -> date:
    """The first day of the month `n` months after the one `day` falls in (n may be
    negative)."""
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def whole_months(period: Period) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """The calendar months `period` covers whole, as (first month, last month) (None when it
    covers none), and the runs of days outside them, (first day, last day) each."""
    first = period.start if period.start.day == 1 else month_add(period.start, 1)
    # The month before the one the day after the period falls in.
    last = month_add(period.end + timedelta(days=1), -1)
    if first > last:
        return None, [(period.start, period.end)]
    edges = []
    if period.start < first:
        edges.append((period.start, first - timedelta(days=1)))
    month_after = month_add(last, 1)
    if month_after <= period.end:
        edges.append((month_after, period.end))
    return (first, last), edges


def bucket_label(day: date, grain: Grain) -> str:
    if grain == Grain.MONTH:
        return day.strftime("%Y-%m")
    if grain == Grain.WEEK:
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return day.isoformat()
