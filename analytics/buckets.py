"""Grouping rows by the chart's buckets (day, week from Monday, month) in the database."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from .periods import Grain, Period, bucket_label, buckets

TRUNC = {Grain.DAY: TruncDay, Grain.WEEK: TruncWeek, Grain.MONTH: TruncMonth}


def trunc(field: str, grain: Grain):
    return TRUNC[grain](field, tzinfo=timezone.get_current_timezone())


def as_day(value) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def labels_of(period: Period, grain: Grain) -> list[str]:
    return [bucket_label(day, grain) for day in buckets(period, grain)]
