from celery import shared_task

from .services import catalog_events_flush


@shared_task(acks_late=True, ignore_result=True)
def catalog_events_flush_task():
    """Beat job: write buffered product views and searches to the database."""
    return catalog_events_flush()
