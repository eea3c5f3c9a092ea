"""Subscriptions: double opt-in, one-click unsubscribe, no enumeration, and the new-arrival
alerts job (members.subscriptions, members.subscription_emails, members.tasks)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import Product
from members import subscriptions as subs
from members.models import NewArrivalSent, Subscription
from members.tasks import new_arrivals_alerts_task
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from tests.integration.members.subscription_helpers import (
    CONFIRM_LINK,
    SITE,
    UNSUBSCRIBE_LINK,
    path_in,
    sent_to,
    token_of,
)

pytestmark = pytest.mark.django_db

KIT_LINK = re.compile(r"https://shop\.example(/account/kits/\?[^\s\"<]+)")

Kind = Subscription.Kind
Outcome = subs.Outcome


@pytest.fixture(autouse=True)
def _site(settings):
    settings.WHOLESALE_SITE_URL = SITE


def ask(capture, email="ana@example.test", **options):
    with capture(execute=True):
        return subs.subscribe(email=email, kind=options.pop("kind", Kind.NEWSLETTER), **options)


def confirm_link_token(address="ana@example.test") -> str:
    return token_of(path_in(sent_to(address)[-1], CONFIRM_LINK))


def later(monkeypatch, seconds: float) -> None:
    """Move the signing clock `seconds` ahead (tokens read their age from time.time())."""
    now = time.time() + seconds
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: now))


class TestDoubleOptIn:
    def test_a_new_address_waits_for_its_confirmation(self, django_capture_on_commit_callbacks):
        subscription = ask(django_capture_on_commit_callbacks, email="  Ana@Example.TEST ")
        subscription.refresh_from_db()
        assert subscription.email == "ana@example.test"
        assert not subscription.is_live
        (message,) = mail.outbox
        assert message.to == ["ana@example.test"]
        assert "newsletter" in message.subject
        assert CONFIRM_LINK.search(message.body)

    def test_the_confirmation_link_makes_it_live_once(self, django_capture_on_commit_callbacks):
        subscription = ask(django_capture_on_commit_callbacks)
        token = confirm_link_token()
        result = subs.subscription_confirm(token)
        assert result.outcome == Outcome.DONE
        subscription.refresh_from_db()
        assert subscription.is_live
        first = subscription.confirmed_at
        assert subs.subscription_confirm(token).outcome == Outcome.DONE
        subscription.refresh_from_db()
        assert subscription.confirmed_at == first

    def test_an_address_already_subscribed_is_sent_nothing_new(
        self, django_capture_on_commit_callbacks
    ):
        ask(django_capture_on_commit_callbacks)
        subs.subscription_confirm(confirm_link_token())
        mail.outbox.clear()
        ask(django_capture_on_commit_callbacks, email="ANA@example.test")
        assert mail.outbox == []
        assert Subscription.objects.count() == 1

    def test_a_waiting_address_gets_its_link_again_a_few_times_a_day(
        self, django_capture_on_commit_callbacks, settings
    ):
        settings.WHOLESALE_SUBSCRIPTION_EMAILS_PER_ADDRESS = 3
        for _ in range(5):
            ask(django_capture_on_commit_callbacks)
        assert len(mail.outbox) == 3
        assert Subscription.objects.count() == 1

    def test_an_unsubscribed_address_subscribes_again_and_confirms_again(
        self, django_capture_on_commit_callbacks
    ):
        subscription = ask(django_capture_on_commit_callbacks)
        old_token = confirm_link_token()
        subs.subscription_confirm(old_token)
        unsubscribe = token_of(path_in(mail.outbox[-1], UNSUBSCRIBE_LINK))
        subs.unsubscribe(unsubscribe)
        mail.outbox.clear()

        ask(django_capture_on_commit_callbacks)
        subscription.refresh_from_db()
        assert subscription.unsubscribed_at is None and subscription.confirmed_at is None
        assert len(mail.outbox) == 1
        # The first request's link confirms nothing now; the new one does.
        assert subs.subscription_confirm(old_token).outcome == Outcome.INVALID
        subscription.refresh_from_db()
        assert not subscription.is_live
        assert subs.subscription_confirm(confirm_link_token()).outcome == Outcome.DONE
        subscription.refresh_from_db()
        assert subscription.is_live

    def test_the_newsletter_has_no_category_and_an_alert_needs_one(self):
        category = CategoryFactory(name="Bags")
        with pytest.raises(ValidationError):
            subs.subscribe(email="a@example.test", kind=Kind.NEWSLETTER, category=category)
        with pytest.raises(ValidationError):
            subs.subscribe(email="a@example.test", kind=Kind.NEW_ARRIVALS)
        category.is_active = False
        category.save()
        with pytest.raises(ValidationError):
            subs.subscribe(email="a@example.test", kind=Kind.NEW_ARRIVALS, category=category)
        with pytest.raises(ValidationError):
            subs.subscribe(email="not an address", kind=Kind.NEWSLETTER)
        assert not Subscription.objects.exists()

    def test_one_address_may_hold_the_newsletter_and_several_alerts(self):
        bags, shoes = CategoryFactory(name="Bags"), CategoryFactory(name="Shoes")
        subs.subscribe(email="a@example.test", kind=Kind.NEWSLETTER)
        subs.subscribe(email="a@example.test", kind=Kind.NEW_ARRIVALS, category=bags)
        subs.subscribe(email="a@example.test", kind=Kind.NEW_ARRIVALS, category=shoes)
        subs.subscribe(email="a@example.test", kind=Kind.NEW_ARRIVALS, category=bags)
        assert Subscription.objects.count() == 3

    def test_a_member_is_linked_only_to_an_address_verified_as_theirs(self):
        member = UserFactory(email="member@example.test")
        mine = subs.subscribe(email="member@example.test", kind=Kind.NEWSLETTER, member=member)
        other = subs.subscribe(email="someone@example.test", kind=Kind.NEWSLETTER, member=member)
        assert mine.member == member
        assert other.member is None
        assert list(subs.subscriptions_of_member(member)) == [mine]

    def test_a_rolled_back_request_sends_nothing(self, django_capture_on_commit_callbacks):
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            subs.subscribe(email="a@example.test", kind=Kind.NEWSLETTER)
            raise RuntimeError
        assert mail.outbox == []
        assert not Subscription.objects.exists()

    def test_without_the_site_address_no_linkless_email_goes_out(
        self, django_capture_on_commit_callbacks, settings, caplog
    ):
        settings.WHOLESALE_SITE_URL = ""
        ask(django_capture_on_commit_callbacks)
        assert mail.outbox == []
        assert "WHOLESALE_SITE_URL" in caplog.text


class TestTokens:
    def test_a_tampered_confirmation_changes_nothing(self, django_capture_on_commit_callbacks):
        subscription = ask(django_capture_on_commit_callbacks)
        token = confirm_link_token()
        for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "nonsense", "", token + "x"):
            assert subs.subscription_confirm(bad).outcome == Outcome.INVALID, bad
        # A genuine unsubscribe token is no confirmation token (salted apart).
        unsubscribe = token_of(path_in(mail.outbox[-1], UNSUBSCRIBE_LINK))
        assert subs.subscription_confirm(unsubscribe).outcome == Outcome.INVALID
        subscription.refresh_from_db()
        assert subscription.confirmed_at is None

    def test_a_confirmation_expires_after_three_days(
        self, django_capture_on_commit_callbacks, monkeypatch
    ):
        subscription = ask(django_capture_on_commit_callbacks)
        token = confirm_link_token()
        later(monkeypatch, 3 * 24 * 3600 + 60)
        assert subs.confirm_token_check(token).outcome == Outcome.EXPIRED
        assert subs.subscription_confirm(token).outcome == Outcome.EXPIRED
        subscription.refresh_from_db()
        assert subscription.confirmed_at is None

    def test_a_confirmation_still_works_just_before(
        self, django_capture_on_commit_callbacks, monkeypatch
    ):
        ask(django_capture_on_commit_callbacks)
        token = confirm_link_token()
        later(monkeypatch, 3 * 24 * 3600 - 60)
        assert subs.subscription_confirm(token).outcome == Outcome.DONE

    def test_unsubscribing_never_expires_and_is_idempotent(
        self, django_capture_on_commit_callbacks, monkeypatch
    ):
        subscription = ask(django_capture_on_commit_callbacks)
        subs.subscription_confirm(confirm_link_token())
        token = token_of(path_in(mail.outbox[-1], UNSUBSCRIBE_LINK))
        later(monkeypatch, 5 * 365 * 24 * 3600)
        assert subs.unsubscribe(token).outcome == Outcome.DONE
        subscription.refresh_from_db()
        ended = subscription.unsubscribed_at
        assert ended is not None
        assert subs.unsubscribe(token).outcome == Outcome.DONE
        subscription.refresh_from_db()
        assert subscription.unsubscribed_at == ended

    def test_a_tampered_unsubscribe_token_ends_nothing(self, django_capture_on_commit_callbacks):
        subscription = ask(django_capture_on_commit_callbacks)
        subs.subscription_confirm(confirm_link_token())
        other = subs.subscribe(email="bob@example.test", kind=Kind.NEWSLETTER)
        token = subs.unsubscribe_token(subscription)
        forged = signing.Signer(salt="another").sign_object([other.pk, "0" * 16])
        for bad in (token[:-2] + "xx", forged, "1:abc", ""):
            assert subs.unsubscribe(bad).outcome == Outcome.INVALID, bad
        subscription.refresh_from_db()
        other.refresh_from_db()
        assert subscription.unsubscribed_at is None and other.unsubscribed_at is None

    def test_a_waiting_subscription_can_be_refused_from_its_first_email(
        self, django_capture_on_commit_callbacks
    ):
        subscription = ask(django_capture_on_commit_callbacks)
        confirm = confirm_link_token()
        subs.unsubscribe(token_of(path_in(mail.outbox[-1], UNSUBSCRIBE_LINK)))
        assert subs.subscription_confirm(confirm).outcome == Outcome.INVALID
        subscription.refresh_from_db()
        assert subscription.confirmed_at is None and subscription.unsubscribed_at is not None


class TestEveryEmailCarriesTheOneClickLink:
    def test_confirmation_email_headers_and_links(self, django_capture_on_commit_callbacks):
        subscription = ask(django_capture_on_commit_callbacks)
        (message,) = mail.outbox
        url = f"{SITE}{path_in(message, UNSUBSCRIBE_LINK)}"
        assert message.extra_headers["List-Unsubscribe"] == f"<{url}>"
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html = message.alternatives[0][0]
        assert url in html
        assert subs.unsubscribe(token_of(url)).subscription == subscription
        # The address is not written into the link (nor into access logs with it).
        payload = signing.b64_decode(token_of(url).split(":")[0].encode()).decode()
        assert "example.test" not in payload


def live_alert(category, *, email="ana@example.test", confirmed_days_ago=2) -> Subscription:
    subscription = subs.subscribe(email=email, kind=Kind.NEW_ARRIVALS, category=category)
    subscription.confirmed_at = timezone.now() - timedelta(days=confirmed_days_ago)
    subscription.save()
    return subscription


@pytest.fixture
def shelf(django_capture_on_commit_callbacks):
    """Bags with Totes below it, and Shoes; products old and new in each."""
    with django_capture_on_commit_callbacks(execute=True):
        bags = CategoryFactory(name="Bags")
        totes = CategoryFactory(name="Totes", parent=bags)
        shoes = CategoryFactory(name="Shoes")
        now = timezone.now()
        made = {
            "old_bag": ProductFactory(
                name="Old bag", category=bags, published_at=now - timedelta(days=5)
            ),
            "new_bag": ProductFactory(
                name="New bag", category=bags, published_at=now - timedelta(days=1)
            ),
            "new_tote": ProductFactory(
                name="New tote", category=totes, published_at=now - timedelta(hours=3)
            ),
            "new_shoe": ProductFactory(
                name="New shoe", category=shoes, published_at=now - timedelta(hours=2)
            ),
            "draft_bag": ProductFactory(
                name="Draft bag", category=bags, status=Product.Status.DRAFT, published_at=None
            ),
            "later_bag": ProductFactory(
                name="Scheduled bag", category=bags, published_at=now + timedelta(days=2)
            ),
        }
    return {"bags": bags, "totes": totes, "shoes": shoes, **made}


def run_job(capture) -> int:
    mail.outbox.clear()
    with capture(execute=True):
        return new_arrivals_alerts_task.delay().get()


class TestNewArrivalAlerts:
    def test_sends_the_new_products_of_the_category_tree_once(
        self, shelf, django_capture_on_commit_callbacks
    ):
        subscription = live_alert(shelf["bags"])
        assert run_job(django_capture_on_commit_callbacks) == 1
        (message,) = mail.outbox
        assert message.to == ["ana@example.test"]
        assert "Bags" in message.subject
        for name in ("New bag", "New tote"):
            assert name in message.body
        for name in ("Old bag", "New shoe", "Draft bag", "Scheduled bag"):
            assert name not in message.body
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert UNSUBSCRIBE_LINK.search(message.body)
        subscription.refresh_from_db()
        assert subscription.last_sent_at is not None

        # Run again: nothing new, nothing sent.
        assert run_job(django_capture_on_commit_callbacks) == 0
        assert mail.outbox == []

        # A product published since goes out alone next time.
        with django_capture_on_commit_callbacks(execute=True):
            ProductFactory(name="Newest tote", category=shelf["totes"], published_at=timezone.now())
        assert run_job(django_capture_on_commit_callbacks) == 1
        (message,) = mail.outbox
        assert "Newest tote" in message.body and "New bag" not in message.body

    def test_only_since_the_confirmation_the_first_time(
        self, shelf, django_capture_on_commit_callbacks
    ):
        live_alert(shelf["bags"], confirmed_days_ago=0)
        assert run_job(django_capture_on_commit_callbacks) == 0
        assert mail.outbox == []

    def test_not_to_the_unconfirmed_nor_the_unsubscribed(
        self, shelf, django_capture_on_commit_callbacks
    ):
        subs.subscribe(email="waiting@example.test", kind=Kind.NEW_ARRIVALS, category=shelf["bags"])
        ended = live_alert(shelf["bags"], email="ended@example.test")
        subs.unsubscribe(subs.unsubscribe_token(ended))
        newsletter = subs.subscribe(email="news@example.test", kind=Kind.NEWSLETTER)
        newsletter.confirmed_at = timezone.now() - timedelta(days=3)
        newsletter.save()
        assert run_job(django_capture_on_commit_callbacks) == 0
        assert mail.outbox == []

    def test_each_subscriber_gets_their_own_category(
        self, shelf, django_capture_on_commit_callbacks
    ):
        live_alert(shelf["totes"], email="totes@example.test")
        live_alert(shelf["shoes"], email="shoes@example.test")
        assert run_job(django_capture_on_commit_callbacks) == 2
        (totes,) = sent_to("totes@example.test")
        (shoes,) = sent_to("shoes@example.test")
        assert "New tote" in totes.body and "New bag" not in totes.body
        assert "New shoe" in shoes.body and "New tote" not in shoes.body

    def test_an_alert_unsubscribed_before_its_email_goes_out_is_not_sent(
        self, shelf, django_capture_on_commit_callbacks
    ):
        subscription = live_alert(shelf["bags"])
        # The job closes the window; the subscriber leaves before the worker sends.
        assert subs.new_arrivals_alerts_send() == 1
        subs.unsubscribe(subs.unsubscribe_token(subscription))
        from members.subscription_emails import send_now

        subscription.refresh_from_db()
        told = list(
            NewArrivalSent.objects.filter(subscription=subscription).values_list(
                "product_id", flat=True
            )
        )
        assert len(told) == 2
        assert not send_now("new_arrivals", subscription_id=subscription.pk, product_ids=told)

    def test_a_long_list_is_cut_with_a_link_to_the_category(
        self, shelf, django_capture_on_commit_callbacks, settings
    ):
        settings.WHOLESALE_NEW_ARRIVALS_ALERT_LIMIT = 2
        live_alert(shelf["bags"])
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(3):
                ProductFactory(name=f"Extra bag {n}", category=shelf["bags"])
        assert run_job(django_capture_on_commit_callbacks) == 1
        (message,) = mail.outbox
        assert "5 products" in message.subject
        assert f"{SITE}/catalog/?category=bags&sort=newest" in message.body
        assert message.body.count(f"{SITE}/products/") == 2

    def test_a_product_in_two_of_ones_categories_is_sent_once(
        self, shelf, django_capture_on_commit_callbacks
    ):
        # Ana follows Bags and Totes (below it): the tote is new in both.
        live_alert(shelf["bags"])
        live_alert(shelf["totes"])
        live_alert(shelf["totes"], email="ben@example.test")
        assert run_job(django_capture_on_commit_callbacks) == 2
        (ana,) = sent_to("ana@example.test")
        (ben,) = sent_to("ben@example.test")
        assert "New tote" in ana.body and "New bag" in ana.body
        assert "New tote" in ben.body  # another person is told on their own
        told = NewArrivalSent.objects.filter(email="ana@example.test")
        assert sorted(told.values_list("product__name", flat=True)) == ["New bag", "New tote"]

    def test_a_product_published_again_is_not_sent_again(
        self, shelf, django_capture_on_commit_callbacks
    ):
        live_alert(shelf["bags"])
        assert run_job(django_capture_on_commit_callbacks) == 1
        # Taken down and published again: a new published_at, inside the next window.
        with django_capture_on_commit_callbacks(execute=True):
            Product.objects.filter(pk=shelf["new_bag"].pk).update(published_at=timezone.now())
        assert run_job(django_capture_on_commit_callbacks) == 0
        assert mail.outbox == []

    def test_subscribing_again_does_not_repeat_what_was_sent(
        self, shelf, django_capture_on_commit_callbacks
    ):
        first = live_alert(shelf["bags"])
        assert run_job(django_capture_on_commit_callbacks) == 1
        subs.unsubscribe(subs.unsubscribe_token(first))
        again = live_alert(shelf["bags"], confirmed_days_ago=3)
        assert again.pk == first.pk
        assert run_job(django_capture_on_commit_callbacks) == 0
        assert mail.outbox == []

    def test_the_email_links_to_a_kit_of_its_products(
        self, shelf, django_capture_on_commit_callbacks
    ):
        live_alert(shelf["bags"])
        run_job(django_capture_on_commit_callbacks)
        (message,) = mail.outbox
        ids = sorted([shelf["new_bag"].pk, shelf["new_tote"].pk])
        link = path_in(message, KIT_LINK)
        assert sorted(int(pk) for pk in parse_qs(urlsplit(link).query)["product"]) == ids
        assert f"{SITE}{link}" in message.alternatives[0][0].replace("&amp;", "&")

    def test_product_names_are_escaped_in_the_html_part(
        self, shelf, django_capture_on_commit_callbacks
    ):
        live_alert(shelf["bags"])
        with django_capture_on_commit_callbacks(execute=True):
            ProductFactory(
                name='<script>alert(1)</script>"><img src=x onerror=alert(2)>',
                slug="nasty",
                category=shelf["bags"],
            )
        run_job(django_capture_on_commit_callbacks)
        html = mail.outbox[0].alternatives[0][0]
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_the_live_alerts_selector(self, shelf):
        live = live_alert(shelf["bags"])
        subs.subscribe(email="waiting@example.test", kind=Kind.NEW_ARRIVALS, category=shelf["bags"])
        shoes = live_alert(shelf["shoes"], email="shoes@example.test")
        assert set(subs.alert_subscriptions_live()) == {live, shoes}
        assert list(subs.alert_subscriptions_live(category_id=shelf["bags"].pk)) == [live]


class TestTheRateLimit:
    def test_counts_per_ip_and_stops_past_the_limit(self, settings):
        settings.WHOLESALE_SUBSCRIPTIONS_PER_HOUR = 3
        verdicts = [subs.subscription_rate_limited("203.0.113.9") for _ in range(5)]
        assert verdicts == [False, False, False, True, True]
        assert subs.subscription_rate_limited("203.0.113.10") is False

    def test_with_the_cache_down_everything_goes_through(self, settings):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"socket_connect_timeout": 0.2},
            }
        }
        settings.WHOLESALE_SUBSCRIPTIONS_PER_HOUR = 1
        assert not any(subs.subscription_rate_limited("203.0.113.9") for _ in range(3))
