"""Follow-up emails as services: the default templates, filling merge fields from an order,
sending (record, history note, email after commit) and the append-only log."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from orders.models import OrderEvent, Shipment
from staff.followups import (
    MERGE_FIELDS,
    followup_fill,
    followup_render,
    followup_send,
    merge_fields_unknown,
)
from staff.models import FollowUpSent, FollowUpTemplate
from tests.factories import DistributorFactory
from tests.integration.staff.followup_helpers import (
    order_for,
    owned_distributor,
    sales_user,
    ship,
    staff_in,
)
from wholesale.ledger import AppendOnlyError
from wholesale.money import format_money

pytestmark = pytest.mark.django_db

migration = importlib.import_module("staff.migrations.0007_followup_templates")


@pytest.fixture
def lily():
    return sales_user("Lily", last_name="Chen", email="lily@shop.example")


@pytest.fixture
def order(lily):
    distributor = owned_distributor(
        lily, company_name="Ana Trading SL", contact_name="Ana Ruiz", user__email="ana@shop.test"
    )
    return order_for(distributor)


@pytest.fixture
def finance():
    return staff_in("finance")


def template(step: str) -> FollowUpTemplate:
    return FollowUpTemplate.objects.get(step=step)


class TestTheDefaultTemplates:
    def test_one_active_template_for_each_of_the_six_steps(self):
        steps = list(FollowUpTemplate.objects.values_list("step", flat=True))
        assert steps == [
            "tax_number",
            "shipping_notice",
            "tracking_update",
            "customs_help",
            "delivery_check",
            "after_sales",
        ]
        assert set(steps) == set(FollowUpTemplate.Step.values)
        assert FollowUpTemplate.objects.filter(is_active=True).count() == 6

    def test_use_only_known_merge_fields(self):
        for each in FollowUpTemplate.objects.all():
            assert merge_fields_unknown(each.subject) == [], each.step
            assert merge_fields_unknown(each.body) == [], each.step
        texts = " ".join(t.subject + t.body for t in FollowUpTemplate.objects.all())
        for used in ("{order_number}", "{tracking_number}", "{eta}", "{salesperson_name}"):
            assert used in texts

    def test_running_the_migration_again_adds_nothing_and_keeps_edits(self):
        FollowUpTemplate.objects.filter(step="customs_help").update(subject="Our own wording")
        FollowUpTemplate.objects.filter(step="after_sales").delete()
        migration.create_templates(apps, None)
        migration.create_templates(apps, None)
        assert FollowUpTemplate.objects.count() == 6
        assert template("customs_help").subject == "Our own wording"
        assert FollowUpTemplate.objects.filter(step="after_sales").count() == 1


class TestFillingInAnOrder:
    def test_every_merge_field_comes_from_the_order_and_its_latest_parcel(
        self, order, finance, settings
    ):
        settings.WHOLESALE_SHOP_NAME = "Factory Direct"
        ship(order, by=finance, carrier="EMS", tracking_number="EE000000001CN")
        latest = ship(order, by=finance, carrier="DHL Express", tracking_number="JD0146")
        Shipment.objects.filter(pk=latest.pk).update(shipped_at=timezone.now() + timedelta(hours=1))
        order.refresh_from_db()
        text = " | ".join(f"{name}={{{name}}}" for name in MERGE_FIELDS)

        subject, body = followup_fill(order, subject="Order {order_number}", body=text)

        latest.refresh_from_db()
        first_day = timezone.localtime(latest.shipped_at + timedelta(days=5))
        assert subject == f"Order {order.number}"
        values = dict(part.split("=", 1) for part in body.split(" | "))
        assert values == {
            "customer_name": "Ana Ruiz",
            "company": "Ana Trading SL",
            "order_number": order.number,
            "order_total": values["order_total"],
            "order_date": values["order_date"],
            "tracking_number": "JD0146",
            "tracking_url": "https://track.example/JD0146",
            "carrier": "DHL Express",
            "eta": values["eta"],
            "salesperson_name": "Lily Chen",
            "salesperson_email": "lily@shop.example",
            "shop_name": "Factory Direct",
        }
        assert values["order_total"] == format_money(order.money("grand_total"))
        assert str(order.grand_total) in values["order_total"].replace(",", "")
        assert str(timezone.localtime(order.placed_at).year) in values["order_date"]
        assert first_day.strftime("%b") in values["eta"] and " – " in values["eta"]

    def test_a_template_renders_for_the_order(self, order, finance):
        ship(order, by=finance)
        subject, body = followup_render(order, template("shipping_notice"))
        assert subject == f"Order {order.number} has shipped"
        assert "Dear Ana Ruiz," in body
        assert "Tracking number: JD014600006281230" in body
        assert "https://track.example/JD014600006281230" in body
        assert "Lily Chen" in body and "{" not in body

    def test_before_any_parcel_the_eta_is_the_delivery_estimate(self, order):
        _subject, body = followup_fill(order, subject="x", body="[{tracking_number}] {eta}")
        assert body == f"[] {order.delivery_min_days}–{order.delivery_max_days} days after dispatch"

    def test_unknown_merge_fields_are_refused_per_field(self, order):
        with pytest.raises(ValidationError) as refused:
            followup_fill(order, subject="About {order_no}", body="Hi {name}, {name} {eta}")
        errors = refused.value.message_dict
        assert "{order_no}" in errors["subject"][0]
        assert "{name}" in errors["body"][0] and "{customer_name}" in errors["body"][0]

    def test_braces_in_the_buyers_data_are_not_filled_again(self, lily):
        distributor = owned_distributor(lily, company_name="{order_number} & {shop} Ltd")
        order = order_for(distributor)
        _subject, body = followup_fill(order, subject="x", body="{company}")
        assert body == "{order_number} & {shop} Ltd"

    def test_the_subject_stays_one_line(self, lily):
        order = order_for(owned_distributor(lily, contact_name="Ana\r\nBcc: x@evil.test"))
        subject, _body = followup_fill(order, subject="Hello {customer_name}", body="x")
        assert subject == "Hello Ana Bcc: x@evil.test"

    def test_a_customer_without_a_salesperson_hears_from_the_shop(self, settings):
        order = order_for(DistributorFactory())
        _subject, body = followup_fill(
            order, subject="x", body="{salesperson_name} <{salesperson_email}>"
        )
        assert body == f"{settings.WHOLESALE_SHOP_NAME} <{settings.DEFAULT_FROM_EMAIL}>"


class TestSending:
    def test_records_notes_and_emails_after_commit(
        self, order, lily, finance, django_capture_on_commit_callbacks
    ):
        ship(order, by=finance)
        chosen = template("tracking_update")
        with django_capture_on_commit_callbacks(execute=True):
            sent = followup_send(
                order=order,
                template=chosen,
                subject=chosen.subject,
                body="Dear {customer_name}, your parcel {tracking_number} is on its way.",
                by=lily,
            )

        sent.refresh_from_db()
        assert (sent.order, sent.template, sent.sent_by, sent.to_email) == (
            order,
            chosen,
            lily,
            "ana@shop.test",
        )
        assert sent.subject == f"Order {order.number}: tracking update"
        assert sent.body == "Dear Ana Ruiz, your parcel JD014600006281230 is on its way."
        note = OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.NOTE).get()
        assert note.reason == "Follow-up sent: Tracking update with ETA"
        assert note.actor == lily
        [email] = [m for m in mail.outbox if m.subject == sent.subject]
        assert email.to == ["ana@shop.test"]
        assert email.reply_to == ["lily@shop.example"]
        assert email.body == sent.body
        html, mimetype = email.alternatives[0]
        assert mimetype == "text/html"
        assert "Dear Ana Ruiz, your parcel JD014600006281230 is on its way." in html

    def test_nothing_is_emailed_when_the_transaction_rolls_back(
        self, order, lily, django_capture_on_commit_callbacks
    ):
        chosen = template("tax_number")
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            followup_send(order=order, template=chosen, subject="x", body="y", by=lily)
            transaction.set_rollback(True)
        assert mail.outbox == []
        assert not FollowUpSent.objects.exists()
        assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.NOTE).exists()

    def test_an_unknown_merge_field_sends_and_records_nothing(
        self, order, lily, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
            followup_send(
                order=order, template=template("tax_number"), subject="x", body="{vat}", by=lily
            )
        assert mail.outbox == []
        assert not FollowUpSent.objects.exists()

    def test_script_in_the_buyers_data_is_escaped_in_the_html_part(
        self, lily, finance, django_capture_on_commit_callbacks
    ):
        distributor = owned_distributor(lily, company_name="<script>alert('co')</script> SL")
        order = order_for(distributor)
        ship(order, by=finance, tracking_number="<script>alert('tn')</script>")
        with django_capture_on_commit_callbacks(execute=True):
            followup_send(
                order=order,
                template=template("shipping_notice"),
                subject="Order {order_number}",
                body="{company}\n{tracking_number}\n<img src=x onerror=alert(1)>",
                by=lily,
            )
        [email] = mail.outbox[-1:]
        html = email.alternatives[0][0]
        assert "<script" not in html and "<img" not in html
        assert "&lt;script&gt;alert(&#x27;co&#x27;)&lt;/script&gt; SL" in html
        assert "&lt;script&gt;alert(&#x27;tn&#x27;)&lt;/script&gt;" in html
        # The plain text part is the text as written.
        assert "<script>alert('co')</script> SL" in email.body
        print("\nB8 (email): raw <script in the HTML part: 0")


class TestTheSentLog:
    def test_is_append_only(self, order, lily):
        sent = followup_send(
            order=order, template=template("tax_number"), subject="x", body="y", by=lily
        )
        sent.subject = "changed"
        with pytest.raises(AppendOnlyError):
            sent.save()
        with pytest.raises(AppendOnlyError):
            sent.delete()
        with pytest.raises(AppendOnlyError):
            FollowUpSent.objects.filter(pk=sent.pk).update(subject="changed")
        with pytest.raises(AppendOnlyError):
            FollowUpSent.objects.filter(pk=sent.pk).delete()
        assert FollowUpSent.objects.get().subject == "x"
