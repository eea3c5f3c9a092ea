"""Inquiries and buyer messages: who they land with, replies and the time to first reply, the
emails, and the spam guard's clock and counter (staff.inquiries, staff.inquiry_guard)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from staff import inquiry_guard
from staff.inquiries import (
    access_member_inquiry,
    inquiries_of_member,
    inquiries_seed_demo,
    inquiry_close,
    inquiry_message_add,
    inquiry_reassign,
    inquiry_reply,
    reply_times,
    reply_times_by_salesperson,
)
from staff.models import Inquiry, InquiryMessage, SalesProfile
from tests.factories import DistributorFactory, ProductFactory, StaffFactory, UserFactory
from tests.integration.staff.inquiry_helpers import (
    XSS_IMG,
    XSS_SCRIPT,
    customer_of,
    guest_inquiry,
    member_message,
    sales,
    staff_in,
)

pytestmark = pytest.mark.django_db

State = Inquiry.State


@pytest.fixture
def lily():
    return sales("Lily")


@pytest.fixture
def kevin():
    return sales("Kevin")


@pytest.fixture
def buyer1(lily):
    return customer_of(lily, company_name="Brightside Goods").user


class TestWhereAnInquiryLands:
    def test_a_members_message_goes_to_their_own_salesperson_without_taking_a_turn(
        self, lily, kevin, buyer1
    ):
        inquiry = member_message(buyer1)
        assert inquiry.owner == lily
        assert inquiry.kind == Inquiry.Kind.MESSAGE and inquiry.state == State.NEW
        assert list(inquiry.messages.values_list("body", "from_staff", "author")) == [
            ("Can we get samples?", False, buyer1.pk)
        ]
        assert sum(SalesProfile.objects.values_list("assigned_count", flat=True)) == 0

    def test_guests_are_assigned_in_turn(self, lily, kevin):
        owners = [guest_inquiry(email=f"g{n}@example.test").owner for n in range(4)]
        assert owners[0] != owners[1]
        assert owners[:2] == owners[2:]
        assert set(owners) == {lily, kevin}
        assert sorted(SalesProfile.objects.values_list("assigned_count", flat=True)) == [2, 2]

    def test_a_known_customer_writing_as_a_guest_lands_with_their_salesperson(
        self, lily, kevin, buyer1
    ):
        SalesProfile.objects.filter(user=lily).update(last_assigned_at=timezone.now())
        inquiry = guest_inquiry(email=buyer1.email.upper())
        assert inquiry.owner == lily
        assert inquiry.member is None

    def test_a_member_without_a_salesperson_is_assigned_in_turn(self, lily):
        member = DistributorFactory().user
        assert member_message(member).owner == lily

    def test_with_no_salesperson_it_waits_unassigned_and_nobody_is_emailed(
        self, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            inquiry = guest_inquiry()
        assert inquiry.owner is None
        assert mailoutbox == []

    def test_the_product_is_attached(self, lily):
        product = ProductFactory()
        assert guest_inquiry(product=product).product == product

    def test_a_buyer_message_needs_a_member(self, lily):
        with pytest.raises(ValidationError):
            guest_inquiry(kind="message")
        assert not Inquiry.objects.exists()

    def test_an_empty_or_oversized_message_is_refused_and_nothing_is_written(self, lily):
        for body in ("   ", "x" * 5001):
            with pytest.raises(ValidationError):
                guest_inquiry(body=body)
        assert not Inquiry.objects.exists() and not InquiryMessage.objects.exists()


class TestTheSalespersonIsEmailed:
    def test_after_commit_with_the_message_and_a_link_to_the_admin(
        self, lily, buyer1, mailoutbox, django_capture_on_commit_callbacks, settings
    ):
        settings.WHOLESALE_SITE_URL = "https://shop.example"
        with django_capture_on_commit_callbacks(execute=True):
            inquiry = member_message(buyer1, subject="Samples please")
        [email] = mailoutbox
        assert email.to == [lily.email]
        assert "New inquiry" in email.subject and "Samples please" in email.subject
        assert "Can we get samples?" in email.body
        assert f"https://shop.example/admin/staff/inquiry/{inquiry.pk}/change/" in email.body
        html = email.alternatives[0][0]
        assert "Can we get samples?" in html

    def test_nothing_is_sent_when_the_transaction_rolls_back(
        self, lily, mailoutbox, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            guest_inquiry()
            raise RuntimeError("boom")
        assert callbacks == [] and mailoutbox == []
        assert not Inquiry.objects.exists()

    def test_the_customer_writing_again_is_sent_too(
        self, lily, buyer1, mailoutbox, django_capture_on_commit_callbacks
    ):
        inquiry = member_message(buyer1)
        with django_capture_on_commit_callbacks(execute=True):
            inquiry_message_add(inquiry_id=inquiry.pk, member=buyer1, body="Any news?")
        [email] = mailoutbox
        assert "wrote again" in email.subject and "Any news?" in email.body


class TestReplying:
    def test_the_first_reply_sets_the_reply_time_once(self, lily, buyer1):
        inquiry = member_message(buyer1)
        inquiry_reply(inquiry_id=inquiry.pk, by=lily, body="Yes, two of each.")
        inquiry.refresh_from_db()
        first = inquiry.first_reply_at
        assert first is not None and inquiry.state == State.ANSWERED
        assert inquiry.reply_time == first - inquiry.created_at

        inquiry_message_add(inquiry_id=inquiry.pk, member=buyer1, body="Thanks! And colours?")
        inquiry.refresh_from_db()
        assert inquiry.state == State.NEW
        inquiry_reply(inquiry_id=inquiry.pk, by=lily, body="All six.")
        inquiry.refresh_from_db()
        assert inquiry.first_reply_at == first and inquiry.state == State.ANSWERED
        assert inquiry.messages.filter(from_staff=True).count() == 2

    def test_a_member_is_emailed_a_link_to_the_conversation(
        self, lily, buyer1, mailoutbox, django_capture_on_commit_callbacks, settings
    ):
        settings.WHOLESALE_SITE_URL = "https://shop.example"
        inquiry = member_message(buyer1)
        with django_capture_on_commit_callbacks(execute=True):
            inquiry_reply(inquiry_id=inquiry.pk, by=lily, body="Yes, two of each.")
        [email] = mailoutbox
        assert email.to == [buyer1.email]
        assert email.reply_to == []
        assert email.subject.endswith("Re: Samples")
        assert "Yes, two of each." in email.body
        assert f"https://shop.example/account/messages/{inquiry.pk}/" in email.body

    def test_a_guest_replies_by_email_to_the_salesperson(
        self, lily, mailoutbox, django_capture_on_commit_callbacks
    ):
        inquiry = guest_inquiry()
        with django_capture_on_commit_callbacks(execute=True):
            inquiry_reply(inquiry_id=inquiry.pk, by=lily, body="300 pieces: 3.30 each.")
        [email] = mailoutbox
        assert email.to == ["maria@rossi.example"]
        assert email.reply_to == [lily.email]
        assert "/account/messages/" not in email.body

    def test_an_empty_reply_is_refused(self, lily):
        inquiry = guest_inquiry()
        with pytest.raises(ValidationError):
            inquiry_reply(inquiry_id=inquiry.pk, by=lily, body=" ")
        inquiry.refresh_from_db()
        assert inquiry.first_reply_at is None and inquiry.messages.count() == 1


class TestEmailsEscapeWhatCustomersWrite:
    def test_script_and_attribute_payloads_are_escaped_in_the_html_part(
        self, lily, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            inquiry = guest_inquiry(
                name=XSS_IMG, company=XSS_SCRIPT, subject=XSS_SCRIPT, body=XSS_IMG + XSS_SCRIPT
            )
        with django_capture_on_commit_callbacks(execute=True):
            inquiry_reply(inquiry_id=inquiry.pk, by=lily, body=XSS_SCRIPT)
        assert len(mailoutbox) == 2
        for email in mailoutbox:
            html = email.alternatives[0][0]
            assert "<script" not in html and "<img" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
            # The text part is plain text: shown as written, never as markup.
            assert XSS_SCRIPT in email.body
        print("\nB8 (emails): 0 raw <script or <img in 2 HTML parts")


class TestConversationsOfAMember:
    def test_only_their_own_and_another_members_is_a_404(self, lily, buyer1):
        mine = member_message(buyer1)
        theirs = member_message(customer_of(lily).user)
        assert list(inquiries_of_member(member=buyer1)) == [mine]
        assert access_member_inquiry(member=buyer1, inquiry_id=mine.pk) == mine
        with pytest.raises(Http404):
            access_member_inquiry(member=buyer1, inquiry_id=theirs.pk)
        with pytest.raises(Http404):
            inquiry_message_add(inquiry_id=theirs.pk, member=buyer1, body="hi")
        assert theirs.messages.count() == 1

    def test_writing_in_a_closed_conversation_reopens_it(self, lily, buyer1):
        inquiry = member_message(buyer1)
        inquiry_close(inquiry_id=inquiry.pk, by=lily)
        inquiry.refresh_from_db()
        assert inquiry.state == State.CLOSED
        inquiry_message_add(inquiry_id=inquiry.pk, member=buyer1, body="One more thing")
        inquiry.refresh_from_db()
        assert inquiry.state == State.NEW


class TestReassigning:
    def test_goes_into_the_history_with_who_from_and_to(self, lily, kevin, buyer1):
        manager = staff_in("manager", first_name="Ming")
        inquiry = member_message(buyer1)
        inquiry_reassign(inquiry_id=inquiry.pk, to_owner=kevin, by=manager)
        inquiry.refresh_from_db()
        assert inquiry.owner == kevin
        entry = LogEntry.objects.get(object_id=str(inquiry.pk), user=manager)
        assert "Lily" in entry.change_message and "Kevin" in entry.change_message

    def test_only_to_a_salesperson(self, lily, buyer1):
        inquiry = member_message(buyer1)
        with pytest.raises(ValidationError):
            inquiry_reassign(inquiry_id=inquiry.pk, to_owner=StaffFactory(), by=lily)
        inquiry.refresh_from_db()
        assert inquiry.owner == lily


def _answered(owner, minutes, *, email="x@example.test"):
    inquiry = guest_inquiry(email=email)
    created = timezone.now() - timedelta(days=1)
    Inquiry.objects.filter(pk=inquiry.pk).update(
        owner=owner,
        created_at=created,
        first_reply_at=None if minutes is None else created + timedelta(minutes=minutes),
        state=State.NEW if minutes is None else State.ANSWERED,
    )
    return inquiry


class TestTimeToFirstReply:
    def test_average_and_median_per_salesperson_in_one_query(
        self, lily, kevin, django_assert_num_queries
    ):
        for minutes in (10, 20, 90):
            _answered(lily, minutes)
        for minutes in (60, 120, None):
            _answered(kevin, minutes)
        with django_assert_num_queries(1):
            rows = {row.owner_id: row for row in reply_times_by_salesperson()}
        assert rows[lily.pk].average == timedelta(minutes=40)
        assert rows[lily.pk].median == timedelta(minutes=20)
        assert (rows[lily.pk].answered, rows[lily.pk].waiting) == (3, 0)
        assert rows[kevin.pk].average == timedelta(minutes=90)
        assert rows[kevin.pk].median == timedelta(minutes=90)
        assert (rows[kevin.pk].answered, rows[kevin.pk].waiting) == (2, 1)
        assert rows[lily.pk].owner_name.startswith("Lily")

    def test_over_a_scope(self, lily, kevin, django_assert_num_queries):
        for minutes in (10, 20, 90):
            _answered(lily, minutes)
        _answered(kevin, 600)
        with django_assert_num_queries(1):
            summary = reply_times(queryset=Inquiry.objects.filter(owner=lily))
        assert summary.average == timedelta(minutes=40)
        assert summary.median == timedelta(minutes=20)
        everyone = reply_times()
        assert everyone.median == timedelta(minutes=55)
        assert everyone.answered == 4

    def test_nothing_answered_yet(self, lily):
        _answered(lily, None)
        summary = reply_times()
        assert (summary.average, summary.median, summary.waiting) == (None, None, 1)


class TestSpamGuard:
    def test_the_render_stamp(self, settings):
        assert inquiry_guard.stamp_verdict(inquiry_guard.form_stamp()) == inquiry_guard.TOO_FAST
        aged = inquiry_guard.form_stamp(at=time.time() - 10)
        assert inquiry_guard.stamp_verdict(aged) is None
        stale = inquiry_guard.form_stamp(at=time.time() - 2 * 86400)
        assert inquiry_guard.stamp_verdict(stale) == inquiry_guard.EXPIRED
        assert inquiry_guard.stamp_verdict(aged[:-2] + "xx") == inquiry_guard.EXPIRED
        assert inquiry_guard.stamp_verdict("") == inquiry_guard.EXPIRED
        assert inquiry_guard.stamp_verdict(None) == inquiry_guard.EXPIRED

    def test_the_counter_lives_in_the_cache(self):
        hits = [inquiry_guard.rate_limited("ip:203.0.113.9", limit=3) for _ in range(5)]
        assert hits == [False, False, False, True, True]
        assert inquiry_guard.rate_limited("ip:203.0.113.10", limit=3) is False


class TestDemoData:
    def test_idempotent(self, lily, kevin):
        for email, user in (("sales1@demo.test", lily), ("sales2@demo.test", kevin)):
            type(user).objects.filter(pk=user.pk).update(email=email)
        buyer = customer_of(lily, user=UserFactory(email="buyer1@demo.test")).user
        ProductFactory()
        assert inquiries_seed_demo() == 3
        assert inquiries_seed_demo() == 0
        assert Inquiry.objects.count() == 3
        assert Inquiry.objects.filter(member=buyer, owner=lily).count() == 2
        guest = Inquiry.objects.get(member__isnull=True)
        assert guest.owner == kevin and guest.product is not None
        answered = Inquiry.objects.get(state=State.ANSWERED)
        assert answered.reply_time == timedelta(hours=2)
