"""``manage.py rollups_refresh``: rebuild the analytics rollup tables now (analytics.rollups).

Without options it rebuilds what the hourly job would (the days changed since the last run and
the days up to today); ``--days N`` also rebuilds the last N days, ``--all`` every day from the
first sale, view or cart addition.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from analytics.rollups import rollup_days_all, rollups_refresh


class Command(BaseCommand):
    help = "Rebuild the analytics rollups: the days due, the last N days (--days) or all (--all)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Rebuild the last N days too.")
        parser.add_argument(
            "--all", action="store_true", help="Rebuild every day from the first sale or view."
        )

    def handle(self, *args, days: int | None, all: bool, **options):
        if days is not None and days < 1:
            raise CommandError("--days takes a number of days, at least 1.")
        if days is not None and all:
            raise CommandError("Use --days or --all, not both.")
        today = timezone.localdate()
        wanted = None
        if all:
            wanted = rollup_days_all(today=today)
        elif days is not None:
            wanted = [today - timedelta(days=n) for n in range(days)]
        run = rollups_refresh(days=wanted)
        seconds = (run.finished_at - run.started_at).total_seconds()
        span = f" ({run.first_day} to {run.last_day})" if run.days else ""
        self.stdout.write(
            self.style.SUCCESS(f"{run.days} days rebuilt{span}, {run.rows} rows, {seconds:.1f} s.")
        )
