"""The tracking sweep's beat entries from WHOLESALE_TRACKING_TIMES ("06:00,14:00,22:00").

Pure (no Django models), so settings can import it.
"""

from __future__ import annotations

from celery.schedules import crontab

TRACKING_TASK = "orders.tasks.tracking_update_task"


def tracking_times(value: str) -> list[tuple[int, int]]:
    """[(hour, minute), …] from "HH:MM,HH:MM"; ValueError on anything else."""
    times = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        hour_text, sep, minute_text = part.partition(":")
        if not sep or not hour_text.isdigit() or not minute_text.isdigit():
            raise ValueError(f"WHOLESALE_TRACKING_TIMES: {part!r} is not HH:MM")
        hour, minute = int(hour_text), int(minute_text)
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError(f"WHOLESALE_TRACKING_TIMES: {part!r} is not a time of day")
        times.append((hour, minute))
    if not times:
        raise ValueError("WHOLESALE_TRACKING_TIMES: give at least one HH:MM")
    return sorted(set(times))


def tracking_beat_entries(value: str) -> dict[str, dict]:
    """One beat entry per time of day (in CELERY_TIMEZONE)."""
    return {
        f"orders-tracking-{hour:02d}{minute:02d}": {
            "task": TRACKING_TASK,
            "schedule": crontab(hour=hour, minute=minute),
        }
        for hour, minute in tracking_times(value)
    }
