"""The contact / request-a-quote page, a buyer's message pages and the inquiries admin, over
HTTP: spam checks, product attachment, buyer IDOR (RELIABILITY A5), escaping (B8) and admin
scoping (A2, A3). Run with -s for the figures."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry

from staff.grants import access_grant
from staff.inquiries import inquiry_reply
from staff.models import AccessGrant, Inquiry, InquiryMessage
from tests.factories import DistributorFactory, ProductFactory
from tests.integration.staff.inquiry_helpers import (
    XSS_IMG,
    XSS_SCRIPT,
    aged_stamp,
    contact_data,
    customer_of,
    guest_inquiry,
    member_message,
    sales,
    staff_in,
)

pytestmark = pytest.mark.django_db

CONTACT = "/contact/"
MESSAGES = "/account/messages/"
ADMIN = "/admin/staff/inquiry/"


@pytest.fixture
def world():
    lily, kevin = sales("Lily"), sales("Kevin")
    buyer1 = customer_of(lily, company_name="Brightside Goods", contact_name="Olivia Hart").user
    buyer2 = customer_of(kevin, company_name="Casa Nova").user
    return {"lily": lily, "kevin": kevin, "buyer1": buyer1, "buyer2": buyer2}


def change_url(inquiry) -> str:
    return f"{ADMIN}{inquiry.pk}/change/"


def assert_escaped(page: str) -> None:
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x onerror" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


class TestTheContactPage:
    def test_a_guest_gets_an_empty_form_with_the_spam_fields(self, client):
        response = client.get(CONTACT)
        assert response.status_code == 200
        page = response.content.decode()
        assert 'name="homepage"' in page and 'name="rendered"' in page
        assert 'class="hp-field" aria-hidden="true"' in page

    def test_a_member_finds_their_details_filled_in(self, client, world):
        client.force_login(world["buyer1"])
        form = client.get(CONTACT).context["form"]
        assert form.initial["email"] == world["buyer1"].email
        assert form.initial["company"] == "Brightside Goods"
        assert form.initial["name"] == "Olivia Hart"

    def test_a_guest_inquiry_lands_with_a_salesperson_who_is_emailed(
        self, client, world, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(CONTACT, contact_data())
        assert response.status_code == 302 and response["Location"] == "/contact/thanks/"
        inquiry = Inquiry.objects.get()
        assert inquiry.member is None and inquiry.kind == Inquiry.Kind.INQUIRY
        assert inquiry.owner in (world["lily"], world["kevin"])
        assert inquiry.company == "Boutique Rossi" and inquiry.country == "IT"
        assert [m.to for m in mailoutbox] == [[inquiry.owner.email]]
        assert client.get(response["Location"]).status_code == 200

    def test_a_members_inquiry_goes_to_their_salesperson_and_into_their_messages(
        self, client, world
    ):
        client.force_login(world["buyer1"])
        client.post(CONTACT, contact_data(email=world["buyer1"].email))
        inquiry = Inquiry.objects.get()
        assert inquiry.member == world["buyer1"] and inquiry.owner == world["lily"]
        assert inquiry.subject in client.get(MESSAGES).content.decode()

    def test_a_product_is_shown_and_attached(self, client, world):
        product = ProductFactory(name="Canvas Tote Bag")
        response = client.get(CONTACT, {"product": product.slug})
        page = response.content.decode()
        assert "Canvas Tote Bag" in page and 'data-testid="inquiry-product"' in page
        assert response.context["form"].initial["product"] == product.slug
        assert "Quote request: Canvas Tote Bag" in page
        client.post(CONTACT, contact_data(product=product.slug))
        assert Inquiry.objects.get().product == product

    def test_an_unknown_product_is_left_out_of_the_page_and_refused_on_the_form(
        self, client, world
    ):
        response = client.get(CONTACT, {"product": "no-such-thing"})
        assert response.status_code == 200 and response.context["product"] is None
        response = client.post(CONTACT, contact_data(product="no-such-thing"))
        assert response.status_code == 400
        assert "no longer in the catalog" in response.content.decode()
        assert not Inquiry.objects.exists()

    def test_each_product_page_has_the_button(self, client):
        product = ProductFactory()
        page = client.get(product.get_absolute_url()).content.decode()
        assert f'href="/contact/?product={product.slug}"' in page


class TestSpamIsRefused:
    def test_a_filled_honeypot_is_thanked_and_dropped(self, client, world, mailoutbox):
        response = client.post(CONTACT, contact_data(homepage="http://spam.example"))
        assert response.status_code == 302 and response["Location"] == "/contact/thanks/"
        assert not Inquiry.objects.exists() and mailoutbox == []

    def test_a_form_sent_straight_after_it_was_served_is_sent_back(self, client, world):
        stamp = client.get(CONTACT).context["form"].initial["rendered"]
        response = client.post(CONTACT, contact_data(rendered=stamp))
        assert response.status_code == 400
        assert "quicker than we expected" in response.content.decode()
        assert not Inquiry.objects.exists()
        # Sent back with a fresh stamp and what was written, so a person just sends it again.
        form = response.context["form"]
        assert form.data["rendered"] != stamp and form.data["subject"] == "Price for 300 pieces"

    @pytest.mark.parametrize(
        "stamp", ["", "forged", aged_stamp(2 * 86400)], ids=["missing", "forged", "a-day-old"]
    )
    def test_a_missing_forged_or_stale_stamp_is_sent_back(self, client, world, stamp):
        response = client.post(CONTACT, contact_data(rendered=stamp))
        assert response.status_code == 400
        assert "open too long" in response.content.decode()
        assert not Inquiry.objects.exists()

    def test_the_sixth_inquiry_in_an_hour_from_one_address_is_refused(self, client, world):
        statuses = [
            client.post(CONTACT, contact_data(subject=f"Quote {n}")).status_code for n in range(7)
        ]
        assert statuses == [302] * 5 + [429] * 2
        assert Inquiry.objects.count() == 5
        other = client.post(CONTACT, contact_data(), REMOTE_ADDR="198.51.100.7")
        assert other.status_code == 302
        print(f"\nRate limit: statuses {statuses}, inquiries {Inquiry.objects.count()}")

    def test_with_the_cache_down_an_inquiry_still_goes_through(self, client, world, settings):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"socket_connect_timeout": 0.2},
            }
        }
        assert client.post(CONTACT, contact_data()).status_code == 302
        assert Inquiry.objects.count() == 1

    @pytest.mark.parametrize(
        "fields",
        [
            {"name": ""},
            {"email": "not-an-email"},
            {"subject": "x" * 201},
            {"message": "x" * 5001},
            {"message": ""},
            {"name": "nul\x00byte"},
            {"country": "XX"},
        ],
        ids=["no-name", "bad-email", "long-subject", "long-message", "no-message", "nul", "ctry"],
    )
    def test_bad_input_gets_form_errors_and_writes_nothing(self, client, world, fields):
        response = client.post(CONTACT, contact_data(**fields))
        assert response.status_code == 400
        assert response.context["form"].errors
        assert 'class="errorlist' in response.content.decode()
        assert not Inquiry.objects.exists()


class TestABuyersMessages:
    def test_needs_a_login(self, client):
        response = client.get(MESSAGES)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_the_hub_links_to_them(self, client, world):
        client.force_login(world["buyer1"])
        assert f'href="{MESSAGES}"' in client.get("/account/").content.decode()

    def test_a_new_message_starts_a_conversation_with_their_salesperson(self, client, world):
        client.force_login(world["buyer1"])
        assert client.get(f"{MESSAGES}new/").status_code == 200
        response = client.post(
            f"{MESSAGES}new/", {"subject": "Samples", "message": "Two of each colour?"}
        )
        inquiry = Inquiry.objects.get()
        assert response.status_code == 302 and response["Location"] == f"{MESSAGES}{inquiry.pk}/"
        assert inquiry.kind == Inquiry.Kind.MESSAGE and inquiry.owner == world["lily"]
        assert inquiry.email == world["buyer1"].email and inquiry.company == "Brightside Goods"

    def test_an_empty_new_message_is_a_form_error(self, client, world):
        client.force_login(world["buyer1"])
        response = client.post(f"{MESSAGES}new/", {"subject": "", "message": ""})
        assert response.status_code == 400 and response.context["form"].errors
        assert not Inquiry.objects.exists()

    def test_the_thread_shows_the_reply_and_writing_again_reopens_it(self, client, world):
        inquiry = member_message(world["buyer1"])
        inquiry_reply(inquiry_id=inquiry.pk, by=world["lily"], body="Yes, sending today.")
        client.force_login(world["buyer1"])
        page = client.get(f"{MESSAGES}{inquiry.pk}/").content.decode()
        assert "Yes, sending today." in page and "Lily" in page
        response = client.post(f"{MESSAGES}{inquiry.pk}/", {"message": "Great, thanks"})
        assert response.status_code == 302
        inquiry.refresh_from_db()
        assert inquiry.state == Inquiry.State.NEW and inquiry.messages.count() == 3

    def test_another_members_conversations_are_a_404_and_stay_untouched(self, client, world):
        """RELIABILITY A5 for messages: buyer1 walks over every conversation id."""
        mine = member_message(world["buyer1"], subject="Mine")
        theirs = [member_message(world["buyer2"], subject=f"Theirs {n}") for n in range(3)]
        guest = guest_inquiry(subject="A guest's")
        client.force_login(world["buyer1"])
        listing = client.get(MESSAGES).content.decode()
        assert "Mine" in listing and "Theirs" not in listing and "A guest" not in listing
        foreign = [*theirs, guest]
        statuses = []
        for inquiry in foreign:
            statuses.append(client.get(f"{MESSAGES}{inquiry.pk}/").status_code)
            statuses.append(client.post(f"{MESSAGES}{inquiry.pk}/", {"message": "x"}).status_code)
        assert set(statuses) == {404}
        assert InquiryMessage.objects.filter(inquiry__in=foreign).count() == len(foreign)
        assert client.get(f"{MESSAGES}{mine.pk}/").status_code == 200
        top = max(i.pk for i in (mine, *foreign)) + 5
        walked = [client.get(f"{MESSAGES}{pk}/").status_code for pk in range(1, top)]
        assert walked.count(200) == 1
        print(f"\nA5 (messages): 0 of {len(walked) - 1} foreign ids opened, statuses {statuses}")

    def test_the_list_costs_the_same_for_3_or_30_conversations(
        self, client, world, django_assert_max_num_queries
    ):
        product = ProductFactory()
        client.force_login(world["buyer1"])
        for n in range(3):
            member_message(world["buyer1"], subject=f"Question {n}", product=product)
        client.get(MESSAGES)  # shop-wide parts of the page cached, as on a live site
        with django_assert_max_num_queries(6) as few:
            client.get(MESSAGES)
        for n in range(3, 30):
            member_message(world["buyer1"], subject=f"Question {n}", product=product)
        with django_assert_max_num_queries(6) as many:
            response = client.get(MESSAGES)
        assert len(response.context["page"].object_list) == 20
        assert len(many.captured_queries) == len(few.captured_queries)

    def test_what_customers_wrote_is_escaped(self, client, world):
        inquiry = member_message(
            world["buyer1"], name=XSS_IMG, subject=XSS_SCRIPT, body=XSS_IMG + XSS_SCRIPT
        )
        inquiry_reply(inquiry_id=inquiry.pk, by=world["lily"], body=XSS_SCRIPT)
        client.force_login(world["buyer1"])
        for url in (MESSAGES, f"{MESSAGES}{inquiry.pk}/"):
            assert_escaped(client.get(url).content.decode())
        print("\nB8 (buyer pages): 0 raw <script or <img on 2 pages")


class TestTheAdmin:
    @pytest.fixture
    def inquiries(self, world):
        return {
            "mine": member_message(world["buyer1"], subject="Lily's samples"),
            "theirs": member_message(world["buyer2"], subject="Kevin's samples"),
        }

    def test_a_salesperson_sees_only_their_own(self, client, world, inquiries):
        """RELIABILITY A2, A3 for inquiries."""
        client.force_login(world["lily"])
        listing = client.get(ADMIN).content.decode()
        assert "Lily&#x27;s samples" in listing and "Kevin&#x27;s samples" not in listing
        searched = client.get(ADMIN, {"q": "samples"}).content.decode()
        assert "Kevin&#x27;s samples" not in searched
        by_body = client.get(ADMIN, {"q": "Can we get samples"})
        assert list(by_body.context["cl"].result_list) == [inquiries["mine"]]
        assert client.get(change_url(inquiries["mine"])).status_code == 200
        theirs = inquiries["theirs"]
        statuses = [
            client.get(change_url(theirs)).status_code,
            client.get(f"{ADMIN}{theirs.pk}/history/").status_code,
            client.get(f"{ADMIN}{theirs.pk}/delete/").status_code,
            client.post(f"{ADMIN}{theirs.pk}/reply/", {"message": "hi"}).status_code,
            client.post(f"{ADMIN}{theirs.pk}/close/").status_code,
        ]
        assert all(status in (403, 404) for status in statuses), statuses
        theirs.refresh_from_db()
        assert theirs.messages.count() == 1 and theirs.state == Inquiry.State.NEW
        print(f"\nA2/A3 (inquiries): sales1 sees 1 of 2; foreign URLs answer {statuses}")

    def test_the_owner_filter_offers_only_owners_in_scope(self, client, world, inquiries):
        client.force_login(world["lily"])
        page = client.get(ADMIN).content.decode()
        assert "Kevin" not in page

    def test_customer_service_sees_only_what_was_handed_over(self, client, world, inquiries):
        service = staff_in("customer_service", first_name="Sunny")
        client.force_login(service)
        assert list(client.get(ADMIN).context["cl"].result_list) == []
        assert client.get(change_url(inquiries["mine"])).status_code == 404
        access_grant(
            inquiries["mine"], to=service, by=world["lily"], kind=AccessGrant.Kind.HANDOVER
        )
        assert list(client.get(ADMIN).context["cl"].result_list) == [inquiries["mine"]]
        assert client.get(change_url(inquiries["mine"])).status_code == 200
        assert client.get(change_url(inquiries["theirs"])).status_code == 404
        response = client.post(f"{ADMIN}{inquiries['mine'].pk}/reply/", {"message": "On it."})
        assert response.status_code == 302
        assert inquiries["mine"].messages.filter(author=service).exists()

    def test_the_manager_sees_all_and_finance_nothing(self, client, world, inquiries):
        client.force_login(staff_in("manager"))
        assert len(client.get(ADMIN).context["cl"].result_list) == 2
        client.force_login(staff_in("finance"))
        assert client.get(ADMIN).status_code == 403
        assert client.get(change_url(inquiries["mine"])).status_code in (403, 404)
        response = client.post(f"{ADMIN}{inquiries['mine'].pk}/reply/", {"message": "x"})
        assert response.status_code in (403, 404)
        assert inquiries["mine"].messages.count() == 1

    def test_a_salesperson_replies_and_closes_from_the_page(
        self, client, world, inquiries, mailoutbox, django_capture_on_commit_callbacks
    ):
        mine = inquiries["mine"]
        client.force_login(world["lily"])
        page = client.get(change_url(mine)).content.decode()
        assert 'data-testid="inquiry-reply-form"' in page and "Can we get samples?" in page
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"{ADMIN}{mine.pk}/reply/", {"message": "Sending today."})
        assert response.status_code == 302 and response["Location"] == change_url(mine)
        mine.refresh_from_db()
        assert mine.state == Inquiry.State.ANSWERED and mine.first_reply_at is not None
        assert [m.to for m in mailoutbox] == [[world["buyer1"].email]]
        assert client.get(f"{ADMIN}{mine.pk}/reply/").status_code == 405
        client.post(f"{ADMIN}{mine.pk}/reply/", {"message": ""})
        assert mine.messages.count() == 2
        client.post(f"{ADMIN}{mine.pk}/close/")
        mine.refresh_from_db()
        assert mine.state == Inquiry.State.CLOSED

    def test_a_salesperson_cannot_change_the_owner(self, client, world, inquiries):
        mine = inquiries["mine"]
        client.force_login(world["lily"])
        page = client.get(change_url(mine)).content.decode()
        assert 'name="owner"' not in page
        response = client.post(change_url(mine), {"owner": world["kevin"].pk})
        assert response.status_code == 403
        mine.refresh_from_db()
        assert mine.owner == world["lily"]

    def test_the_manager_reassigns_and_the_history_says_so(self, client, world, inquiries):
        mine = inquiries["mine"]
        manager = staff_in("manager")
        client.force_login(manager)
        page = client.get(change_url(mine)).content.decode()
        assert 'name="owner"' in page
        response = client.post(
            change_url(mine),
            {
                "owner": world["kevin"].pk,
                "messages-TOTAL_FORMS": "1",
                "messages-INITIAL_FORMS": "1",
                "messages-MIN_NUM_FORMS": "0",
                "messages-MAX_NUM_FORMS": "0",
                "messages-0-id": mine.messages.get().pk,
                "messages-0-inquiry": mine.pk,
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        mine.refresh_from_db()
        assert mine.owner == world["kevin"]
        [entry] = LogEntry.objects.filter(object_id=str(mine.pk))
        assert entry.user == manager and "Lily" in entry.get_change_message()
        assert "Kevin" in client.get(f"{ADMIN}{mine.pk}/history/").content.decode()

    def test_the_average_reply_time_heads_the_list_within_scope(self, client, world, inquiries):
        inquiry_reply(inquiry_id=inquiries["mine"].pk, by=world["lily"], body="Hi")
        client.force_login(world["lily"])
        response = client.get(ADMIN)
        summary = response.context["reply_summary"]
        assert (summary.answered, summary.waiting) == (1, 0)
        assert 'data-testid="reply-summary"' in response.content.decode()
        client.force_login(staff_in("manager"))
        response = client.get(ADMIN)
        assert (response.context["reply_summary"].answered,) == (1,)
        assert response.context["reply_summary"].waiting == 1
        assert len(response.context["reply_rows"]) == 2

    def test_the_list_costs_the_same_for_2_or_20_inquiries(
        self, client, world, django_assert_max_num_queries
    ):
        manager = staff_in("manager")
        for n in range(2):
            guest_inquiry(email=f"g{n}@example.test", company="Shop")
        client.force_login(manager)
        client.get(ADMIN)
        with django_assert_max_num_queries(13) as few:
            client.get(ADMIN)
        for n in range(2, 20):
            guest_inquiry(email=f"g{n}@example.test", company="Shop")
        with django_assert_max_num_queries(13) as many:
            response = client.get(ADMIN)
        assert len(response.context["cl"].result_list) == 20
        assert len(many.captured_queries) == len(few.captured_queries)
        client.force_login(world["lily"])
        with django_assert_max_num_queries(13):
            assert client.get(ADMIN).status_code == 200

    def test_what_customers_wrote_is_escaped(self, client, world):
        inquiry = member_message(
            world["buyer1"],
            name=XSS_IMG,
            company=XSS_SCRIPT,
            subject=XSS_SCRIPT,
            body=XSS_IMG + XSS_SCRIPT,
        )
        client.force_login(world["lily"])
        for url in (ADMIN, change_url(inquiry)):
            page = client.get(url).content.decode()
            assert_escaped(page)
            assert not re.search(r"<img[^>]*onerror", page)
        print("\nB8 (admin): 0 raw <script or <img on the list and the change page")


def test_a_distributor_without_an_owner_can_still_write(client, world):
    member = DistributorFactory().user
    client.force_login(member)
    client.post(f"{MESSAGES}new/", {"subject": "Hello", "message": "Anyone there?"})
    assert Inquiry.objects.get().owner in (world["lily"], world["kevin"])
