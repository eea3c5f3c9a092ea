"""Subscriptions over HTTP: the footer and category forms, the subscribe page (no enumeration,
bad input, XSS), confirming, the one-click unsubscribe (RFC 8058, no CSRF token), a member's
subscriptions page, and the staff's read-only list with its CSV export."""

from __future__ import annotations

import re

import pytest
from allauth.account.adapter import get_adapter
from django.core import mail
from django.test import Client, RequestFactory
from django.utils import timezone

from members import subscriptions as subs
from members.models import Subscription
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from tests.integration.members.subscription_helpers import (
    CONFIRM_LINK,
    SITE,
    UNSUBSCRIBE_LINK,
    path_in,
    sent_to,
)
from tests.integration.staff.inquiry_helpers import XSS_IMG, XSS_SCRIPT, staff_in

pytestmark = pytest.mark.django_db

SUBSCRIBE = "/subscribe/"
THANKS = "/subscribe/thanks/"
ACCOUNT = "/account/subscriptions/"
Kind = Subscription.Kind


@pytest.fixture(autouse=True)
def _site(settings):
    settings.WHOLESALE_SITE_URL = SITE


def csrf_of(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def post_subscribe(client, capture, data):
    with capture(execute=True):
        return client.post(SUBSCRIBE, data)


def live(email="ana@example.test", **options) -> Subscription:
    subscription = subs.subscribe(email=email, kind=options.pop("kind", Kind.NEWSLETTER), **options)
    subscription.confirmed_at = timezone.now()
    subscription.save()
    return subscription


class TestTheForms:
    def test_a_guest_footer_form_carries_no_token_and_keeps_the_page_cacheable(
        self, client, django_assert_num_queries
    ):
        CategoryFactory(name="Bags")
        first = client.get("/catalog/?category=bags")
        html = first.content.decode()
        assert 'data-testid="newsletter-form"' in html
        assert "csrfmiddlewaretoken" not in html
        assert 'data-testid="new-arrivals-alert"' in html
        assert '<input type="hidden" name="category" value="bags">' in html
        with django_assert_num_queries(0):
            second = client.get("/catalog/?category=bags")
        assert second.content == first.content

    def test_the_category_form_leads_to_that_category_alert(self, client):
        CategoryFactory(name="Bags")
        page = client.get(SUBSCRIBE, {"category": "bags", "email": "ana@example.test"})
        assert page.status_code == 200
        html = page.content.decode()
        assert "New arrivals in Bags" in html
        assert 'value="ana@example.test"' in html and 'value="bags"' in html

    def test_the_all_products_page_offers_no_alert(self, client):
        assert 'data-testid="new-arrivals-alert"' not in client.get("/catalog/").content.decode()

    def test_a_member_footer_form_posts_with_their_address(self, buyer_client, buyer):
        html = buyer_client.get("/catalog/").content.decode()
        form = html[html.index('data-testid="newsletter-form"') - 200 :]
        assert 'method="post"' in form[:400]
        assert f'value="{buyer.email}"' in form

    def test_an_unknown_category_in_the_link_is_a_404(self, client):
        assert client.get(SUBSCRIBE, {"category": "nope"}).status_code == 404


class TestSubscribing:
    def test_known_and_unknown_addresses_get_the_same_answer(
        self, client, django_capture_on_commit_callbacks
    ):
        live("known@example.test")
        known = post_subscribe(
            client, django_capture_on_commit_callbacks, {"email": "known@example.test"}
        )
        unknown = post_subscribe(
            client, django_capture_on_commit_callbacks, {"email": "new@example.test"}
        )
        assert known.status_code == unknown.status_code == 302
        assert known["Location"] == unknown["Location"] == THANKS
        assert known.content == unknown.content
        # The address already subscribed is sent nothing; the new one its link.
        assert sent_to("known@example.test") == []
        assert len(sent_to("new@example.test")) == 1
        thanks = client.get(THANKS).content.decode()
        assert "unless this address is already subscribed" in thanks
        print(f"\nB9 (subscriptions): known {known.status_code} vs unknown {unknown.status_code}")

    def test_the_whole_loop_subscribe_confirm_unsubscribe(
        self, client, django_capture_on_commit_callbacks
    ):
        CategoryFactory(name="Bags")
        post_subscribe(
            client,
            django_capture_on_commit_callbacks,
            {"email": "ana@example.test", "category": "bags"},
        )
        subscription = Subscription.objects.get()
        assert subscription.kind == Kind.NEW_ARRIVALS and not subscription.is_live
        (message,) = mail.outbox
        confirm = path_in(message, CONFIRM_LINK)

        # GET only shows the button (mail scanners open links): not live yet.
        page = client.get(confirm)
        assert page.status_code == 200
        assert "Confirm my subscription" in page.content.decode()
        subscription.refresh_from_db()
        assert not subscription.is_live

        done = client.post(confirm)
        assert done.status_code == 200
        assert "You are subscribed" in done.content.decode()
        subscription.refresh_from_db()
        assert subscription.is_live

        unsubscribe = path_in(message, UNSUBSCRIBE_LINK)
        page = client.get(unsubscribe)
        assert "Stop the new-arrival alerts for Bags" in page.content.decode()
        subscription.refresh_from_db()
        assert subscription.unsubscribed_at is None
        ended = client.post(unsubscribe)
        assert ended.status_code == 200
        assert "You are unsubscribed" in ended.content.decode()
        subscription.refresh_from_db()
        assert subscription.unsubscribed_at is not None

    @pytest.mark.parametrize(
        ("data", "error"),
        [
            ({"email": "not-an-email"}, "Enter a valid email address."),
            ({"email": ""}, "This field is required."),
            ({"email": "ana@example.test", "category": "nope"}, "There is no such category."),
            ({"email": "a" * 250 + "@example.test"}, "at most 254 characters"),
        ],
    )
    def test_bad_input_is_a_form_error_and_changes_nothing(
        self, client, django_capture_on_commit_callbacks, data, error
    ):
        response = post_subscribe(client, django_capture_on_commit_callbacks, data)
        assert response.status_code == 400
        assert error in response.content.decode()
        assert not Subscription.objects.exists()
        assert mail.outbox == []

    def test_script_in_the_email_field_is_escaped(self, client, django_capture_on_commit_callbacks):
        for payload in (f"{XSS_SCRIPT}@example.test", f"a{XSS_IMG}@example.test"):
            response = post_subscribe(
                client, django_capture_on_commit_callbacks, {"email": payload}
            )
            assert response.status_code == 400
            html = response.content.decode()
            assert "<script>alert(1)" not in html
            assert "<img src=x onerror" not in html
            assert "&lt;script&gt;" in html or "&quot;&gt;&lt;img" in html
        page = client.get(SUBSCRIBE, {"email": XSS_IMG}).content.decode()
        assert "<img src=x onerror" not in page
        assert not Subscription.objects.exists()

    def test_the_form_needs_its_csrf_token(self):
        client = Client(enforce_csrf_checks=True)
        assert client.post(SUBSCRIBE, {"email": "ana@example.test"}).status_code == 403
        assert not Subscription.objects.exists()

    def test_too_many_requests_from_one_ip_are_refused(
        self, client, settings, django_capture_on_commit_callbacks
    ):
        settings.WHOLESALE_SUBSCRIPTIONS_PER_HOUR = 2
        codes = [
            post_subscribe(
                client, django_capture_on_commit_callbacks, {"email": f"a{n}@example.test"}
            ).status_code
            for n in range(4)
        ]
        assert codes == [302, 302, 429, 429]
        assert Subscription.objects.count() == 2

    def test_behind_our_proxy_each_visitor_has_their_own_limit(
        self, settings, django_capture_on_commit_callbacks
    ):
        # The address the visitor's country is found from (wholesale.geo) is the one limited,
        # for the shop's limits and allauth's alike.
        settings.WHOLESALE_SUBSCRIPTIONS_PER_HOUR = 1
        settings.WHOLESALE_TRUSTED_PROXIES = ["10.0.0.0/8"]

        def through_proxy(visitor):
            return Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=visitor)

        codes = [
            post_subscribe(
                through_proxy(visitor), django_capture_on_commit_callbacks, {"email": email}
            ).status_code
            for visitor, email in [
                ("203.0.113.1", "a@example.test"),
                ("203.0.113.2", "b@example.test"),
                ("203.0.113.1", "c@example.test"),
            ]
        ]
        assert codes == [302, 302, 429]
        request = RequestFactory().get(
            "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7"
        )
        assert get_adapter(request).get_client_ip(request) == "198.51.100.7"

    def test_with_the_cache_down_a_subscription_still_goes_through(
        self, client, settings, django_capture_on_commit_callbacks
    ):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"socket_connect_timeout": 0.2},
            }
        }
        response = post_subscribe(
            client, django_capture_on_commit_callbacks, {"email": "ana@example.test"}
        )
        assert response.status_code == 302
        assert Subscription.objects.filter(email="ana@example.test").exists()


class TestTokensOverHttp:
    def test_a_tampered_confirmation_link_says_so_and_changes_nothing(
        self, client, django_capture_on_commit_callbacks
    ):
        post_subscribe(client, django_capture_on_commit_callbacks, {"email": "ana@example.test"})
        confirm = path_in(mail.outbox[0], CONFIRM_LINK)
        tampered = confirm[:-3] + ("x" if confirm[-3] != "x" else "y") + "/"
        for method in (client.get, client.post):
            response = method(tampered)
            assert response.status_code == 400
            assert "This link is not valid" in response.content.decode()
        assert not Subscription.objects.get().is_live

    def test_an_expired_confirmation_link_says_so(
        self, client, settings, django_capture_on_commit_callbacks
    ):
        post_subscribe(client, django_capture_on_commit_callbacks, {"email": "ana@example.test"})
        confirm = path_in(mail.outbox[0], CONFIRM_LINK)
        settings.WHOLESALE_SUBSCRIPTION_CONFIRM_SECONDS = -1
        response = client.post(confirm)
        assert response.status_code == 400
        assert "This confirmation link has expired" in response.content.decode()
        assert not Subscription.objects.get().is_live

    def test_the_one_click_post_needs_no_csrf_token(self, django_capture_on_commit_callbacks):
        subscription = live()
        token = subs.unsubscribe_token(subscription)
        mail_client = Client(enforce_csrf_checks=True)
        response = mail_client.post(
            f"/unsubscribe/{token}/",
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
        subscription.refresh_from_db()
        assert subscription.unsubscribed_at is not None
        # Again: the same answer, nothing changes.
        ended = subscription.unsubscribed_at
        assert mail_client.post(f"/unsubscribe/{token}/").status_code == 200
        subscription.refresh_from_db()
        assert subscription.unsubscribed_at == ended

    def test_a_tampered_unsubscribe_link_ends_nothing(self):
        subscription = live()
        token = subs.unsubscribe_token(subscription)
        response = Client(enforce_csrf_checks=True).post(f"/unsubscribe/{token[:-2]}zz/")
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
        subscription.refresh_from_db()
        assert subscription.unsubscribed_at is None

    def test_the_unsubscribe_page_escapes_the_address(self):
        subscription = Subscription.objects.create(
            email=f"{XSS_SCRIPT}@example.test", kind=Kind.NEWSLETTER
        )
        html = Client().get(f"/unsubscribe/{subs.unsubscribe_token(subscription)}/")
        html = html.content.decode()
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


class TestTheMembersPage:
    def test_lists_only_their_own_subscriptions(
        self, buyer_client, buyer, django_assert_max_num_queries
    ):
        bags, shoes = CategoryFactory(name="Bags"), CategoryFactory(name="Shoes")
        mine = live(buyer.email)  # by their verified address, made as a guest
        alert = live(buyer.email, kind=Kind.NEW_ARRIVALS, category=bags, member=buyer)
        foreign = live("other@example.test", kind=Kind.NEW_ARRIVALS, category=shoes)
        buyer_client.get(ACCOUNT)
        with django_assert_max_num_queries(12):
            response = buyer_client.get(ACCOUNT)
        html = response.content.decode()
        assert f'data-testid="subscription-{mine.pk}"' in html
        assert f'data-testid="subscription-{alert.pk}"' in html
        assert f'data-testid="subscription-{foreign.pk}"' not in html
        assert "other@example.test" not in html

    def test_the_query_count_does_not_grow_with_the_list(self, buyer_client, buyer):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def cost() -> int:
            buyer_client.get(ACCOUNT)  # warm the per-process caches first
            with CaptureQueriesContext(connection) as queries:
                assert buyer_client.get(ACCOUNT).status_code == 200
            return len(queries.captured_queries)

        live(buyer.email)
        one = cost()
        for n in range(6):
            category = CategoryFactory(name=f"Cat {n}")
            live(buyer.email, kind=Kind.NEW_ARRIVALS, category=category, member=buyer)
        assert cost() == one > 0

    def test_unsubscribes_with_a_button_and_another_members_id_is_a_404(self, buyer_client, buyer):
        mine = live(buyer.email)
        foreign = live("other@example.test")
        response = buyer_client.post(f"{ACCOUNT}{foreign.pk}/unsubscribe/")
        assert response.status_code == 404
        foreign.refresh_from_db()
        assert foreign.unsubscribed_at is None
        response = buyer_client.post(f"{ACCOUNT}{mine.pk}/unsubscribe/")
        assert response.status_code == 302
        mine.refresh_from_db()
        assert mine.unsubscribed_at is not None

    def test_subscribes_to_a_category_with_a_confirmation_email(
        self, buyer_client, buyer, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            CategoryFactory(name="Bags")
        with django_capture_on_commit_callbacks(execute=True):
            response = buyer_client.post(ACCOUNT, {"kind": "alert", "category": "bags"})
        assert response.status_code == 302
        subscription = Subscription.objects.get()
        assert subscription.member == buyer and subscription.email == buyer.email
        assert not subscription.is_live
        assert len(sent_to(buyer.email)) == 1
        page = buyer_client.get(ACCOUNT).content.decode()
        assert "waiting for your confirmation" in page

    def test_an_unknown_category_is_a_form_error(self, buyer_client):
        response = buyer_client.post(ACCOUNT, {"kind": "alert", "category": "nope"})
        assert response.status_code == 400
        assert "There is no such category." in response.content.decode()
        assert not Subscription.objects.exists()

    def test_guests_are_sent_to_log_in(self, client):
        response = client.get(ACCOUNT)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_the_account_hub_links_here(self, buyer_client):
        assert ACCOUNT in buyer_client.get("/account/").content.decode()


class TestTheStaffList:
    ADMIN = "/admin/members/subscription/"

    def test_the_manager_reads_and_cannot_change(self, client, django_assert_max_num_queries):
        manager = staff_in("manager")
        client.force_login(manager)
        subscription = live()
        for n in range(5):
            live(f"reader{n}@example.test")
        client.get(self.ADMIN)
        with django_assert_max_num_queries(12):
            assert client.get(self.ADMIN).status_code == 200
        assert client.get(f"{self.ADMIN}?q=ana@").status_code == 200
        assert client.get(f"{self.ADMIN}?confirmed=yes&unsubscribed=no").status_code == 200
        assert client.get(f"{self.ADMIN}{subscription.pk}/change/").status_code == 200
        assert client.get(f"{self.ADMIN}add/").status_code == 403
        response = client.post(f"{self.ADMIN}{subscription.pk}/change/", {"email": "x@x.test"})
        assert response.status_code == 403
        subscription.refresh_from_db()
        assert subscription.email == "ana@example.test"

    def test_finance_sees_nothing(self, client):
        client.force_login(staff_in("finance"))
        assert client.get(self.ADMIN).status_code == 403

    def test_the_csv_export_lists_live_subscribers_with_formulas_neutralised(self, client):
        client.force_login(staff_in("manager"))
        formula = live("=1+cmd|calc@example.test")
        plain = live("plain@example.test")
        waiting = subs.subscribe(email="waiting@example.test", kind=Kind.NEWSLETTER)
        ended = live("ended@example.test")
        subs.unsubscribe(subs.unsubscribe_token(ended))
        response = client.post(
            self.ADMIN,
            {
                "action": "export_live_csv",
                "_selected_action": [s.pk for s in (formula, plain, waiting, ended)],
            },
        )
        assert response.status_code == 200
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert "'=1+cmd|calc@example.test" in body
        assert "plain@example.test" in body
        assert "waiting@example.test" not in body and "ended@example.test" not in body


def test_the_alert_form_and_the_job_end_to_end(client, django_capture_on_commit_callbacks):
    """Subscribe from a category page, confirm, a product arrives, the job emails it once."""
    from members.tasks import new_arrivals_alerts_task

    with django_capture_on_commit_callbacks(execute=True):
        bags = CategoryFactory(name="Bags")
    post_subscribe(
        client,
        django_capture_on_commit_callbacks,
        {"email": "ana@example.test", "category": "bags"},
    )
    client.post(path_in(mail.outbox[0], CONFIRM_LINK))
    with django_capture_on_commit_callbacks(execute=True):
        ProductFactory(name="Brand new bag", category=bags, published_at=timezone.now())
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            new_arrivals_alerts_task.delay()
    alerts = [m for m in sent_to("ana@example.test") if "New in Bags" in m.subject]
    assert len(alerts) == 1
    assert "Brand new bag" in alerts[0].body
    assert UserFactory._meta.model.objects.count() == 0  # a guest all along
