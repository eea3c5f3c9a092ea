"""Celery tasks of the analytics app: thin, each calls one function."""

from celery import shared_task
from django.utils import timezone

from .rollups import rollup_days_all, rollups_refresh


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def rollups_refresh_task(all_days: bool = False) -> int:
    """Beat job (hourly): rebuild the rollup days that changed since the last run and the days
    up to today; with `all_days` (nightly, say) every day, so buyers handed to another
    salesperson or moved to another level or country are regrouped in the past too.
    Idempotent and serialised by a lock (analytics.rollups), so a redelivery or a beat overlap
    rebuilds the same rows again rather than doubling them."""
    days = rollup_days_all(today=timezone.localdate()) if all_days else None
    return rollups_refresh(days=days).days
