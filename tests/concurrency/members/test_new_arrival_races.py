"""The daily new-arrival job delivered twice at the same moment (a beat overlap, a redelivery),
on the real PostgreSQL: the lock on an address's alert rows makes the second run wait and find
the window closed, so each address hears about each product once (RELIABILITY F10's rule for
this job)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from members import subscriptions as subs
from members.models import NewArrivalSent, Subscription
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def live_alert(category, email):
    subscription = Subscription.objects.create(
        email=email,
        kind=Subscription.Kind.NEW_ARRIVALS,
        category=category,
        confirmed_at=timezone.now() - timedelta(days=2),
    )
    return subscription


def run_together(count: int) -> list[int]:
    barrier = threading.Barrier(count)
    queued = []
    lock = threading.Lock()

    def work():
        try:
            barrier.wait(timeout=30)
            sent = subs.new_arrivals_alerts_send()
        finally:
            connection.close()
        with lock:
            queued.append(sent)

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(queued)


def test_two_runs_at_once_tell_each_address_about_each_product_once(monkeypatch):
    emails = []  # (subscription id, product ids) of each email queued
    monkeypatch.setattr(
        subs,
        "_email_later",
        lambda kind, **params: emails.append((params["subscription_id"], params["product_ids"])),
    )
    bags = CategoryFactory(name="Bags")
    totes = CategoryFactory(name="Totes", parent=bags)
    products = [ProductFactory(category=totes) for _ in range(3)]
    Subscription.objects.all().delete()
    addresses = [f"buyer{n}@example.test" for n in range(6)]
    for email in addresses:
        live_alert(bags, email)
        live_alert(totes, email)  # the same products are new in both of their categories

    queued = run_together(2)

    told = list(NewArrivalSent.objects.values_list("email", "product_id"))
    in_emails = [pk for _subscription, product_ids in emails for pk in product_ids]
    print(f"\nnew arrivals race: queued {queued}, told {len(told)}, emails {len(emails)}")
    assert sum(queued) == len(addresses)  # split between the runs as the locks fell
    assert len(told) == len(set(told)) == len(addresses) * len(products)
    assert len(emails) == len(addresses)
    assert len(in_emails) == len(told)
