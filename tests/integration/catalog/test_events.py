"""Product views and searches: buffered in Redis, written in batches, never lost or doubled."""

import threading

import pytest
from django.db import connection
from django.test import RequestFactory

from catalog.models import ProductView, SearchLog
from catalog.services import (
    catalog_events_flush,
    product_view_record,
    search_record,
)
from catalog.tasks import catalog_events_flush_task
from tests.factories import ProductFactory, UserFactory


def a_request(user=None):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = user or AnonymousUser()
    return request


@pytest.mark.django_db
class TestRecording:
    def test_views_wait_in_redis_until_flushed(self, settings):
        assert settings.REDIS_URL, "these tests run against Redis"
        product = ProductFactory()
        member = UserFactory()
        product_view_record(request=a_request(member), product_id=product.pk)
        search_record(request=a_request(), term="Tote Bag", results=7)
        assert ProductView.objects.count() == 0

        assert catalog_events_flush() == 2
        view = ProductView.objects.get()
        assert (view.product_id, view.member_id) == (product.pk, member.pk)
        assert SearchLog.objects.get().term == "tote bag"
        assert catalog_events_flush() == 0

    def test_the_beat_task_flushes(self):
        product = ProductFactory()
        product_view_record(request=a_request(), product_id=product.pk)
        assert catalog_events_flush_task() == 1
        assert ProductView.objects.count() == 1

    def test_without_redis_events_are_written_at_once(self, settings):
        settings.REDIS_URL = ""
        product = ProductFactory()
        product_view_record(request=a_request(), product_id=product.pk)
        assert ProductView.objects.count() == 1

    def test_with_redis_down_events_are_written_at_once(self, settings):
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        product = ProductFactory()
        product_view_record(request=a_request(), product_id=product.pk)
        assert ProductView.objects.count() == 1

    def test_a_failed_write_puts_the_batch_back(self, monkeypatch):
        from catalog import services

        product = ProductFactory()
        for _ in range(3):
            product_view_record(request=a_request(), product_id=product.pk)

        def broken(events):
            raise RuntimeError("database went away")

        monkeypatch.setattr(services, "_events_write", broken)
        with pytest.raises(RuntimeError):
            catalog_events_flush()
        monkeypatch.undo()
        assert catalog_events_flush() == 3
        assert ProductView.objects.count() == 3

    def test_views_of_a_deleted_product_are_dropped(self):
        # Never stocked: a product with a stock history is protected from deletion.
        product = ProductFactory(variants__stock=0)
        product_view_record(request=a_request(), product_id=product.pk)
        product.delete()
        assert catalog_events_flush() == 1
        assert ProductView.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_flushes_at_once_write_each_event_once():
    product = ProductFactory()
    for _ in range(400):
        product_view_record(request=a_request(), product_id=product.pk)
    barrier = threading.Barrier(2)
    counts = []

    def flush():
        barrier.wait()
        try:
            counts.append(catalog_events_flush(batch=50))
        finally:
            connection.close()

    threads = [threading.Thread(target=flush) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 400
    assert ProductView.objects.count() == 400
