"""The jobs' schedule lives in the database (django-celery-beat), where staff see and change it:
beat writes the entries of settings.CELERY_BEAT_SCHEDULE there when it starts."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db(transaction=True)  # beat closes its connection


def test_beat_writes_every_settings_entry_into_the_database():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from wholesale.celery import app

    assert settings.CELERY_BEAT_SCHEDULER.endswith("DatabaseScheduler")
    DatabaseScheduler(app=app, lazy=False)
    stored = dict(PeriodicTask.objects.values_list("name", "task"))
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert stored[name] == entry["task"], name
    tracking = [name for name in stored if name.startswith("orders-tracking")]
    assert len(tracking) == 3  # three times a day by default
