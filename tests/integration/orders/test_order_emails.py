"""The order emails: received (with how to pay a bank transfer), payment confirmed, shipped
(with the tracking number and link). Sent after the transaction commits; B8: what buyers
typed (company name, address) and staff typed (tracking) is escaped in the HTML part."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from orders import emails, lifecycle
from orders.models import Shipment
from tests.factories import AddressFactory, ProductFactory, StaffFactory, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings):
    settings.WHOLESALE_SITE_URL = "https://shop.example"
    settings.WHOLESALE_SHOP_NAME = "Ningbo Wholesale"
    settings.WHOLESALE_BANK_DETAILS = "Beneficiary: Demo Export\nSWIFT: BKCHCNBJ92A"


def place(member, capture, **options):
    product = options.pop("product", None) or ProductFactory(name="Heavy Tee")
    s, m = product.variants.order_by("position")
    with capture(execute=True):
        order = place_order(member, {s: 30, m: 30}, **options)
    return order


def html_part(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


class TestOrderReceived:
    def test_a_bank_transfer_order_says_how_to_pay(self, buyer, django_capture_on_commit_callbacks):
        order = place(buyer, django_capture_on_commit_callbacks)
        [message] = mail.outbox
        assert message.to == [buyer.email]
        assert message.subject == (
            f"[Ningbo Wholesale] Order {order.number} received: payment details inside"
        )
        body = message.body
        assert f"Thank you for your order {order.number} of $335.97." in body
        assert "Amount: $335.97" in body
        assert f"Payment reference: {order.number}" in body
        assert f"Pay by: {order.pay_by.strftime('%b')}" in body
        assert "Beneficiary: Demo Export\nSWIFT: BKCHCNBJ92A" in body
        assert f"Proforma invoice: https://shop.example/account/orders/{order.number}/invoice/" in (
            body
        )
        assert f"- Heavy Tee · S ({order.lines.first().sku}): 30 × $3.30 = $99.00" in body
        assert "Goods: $198.00" in body
        assert "Shipping (Express courier): $135.00" in body
        assert "Shipping insurance: $2.97" in body
        assert "Total: $335.97" in body
        assert f"Your order: https://shop.example/account/orders/{order.number}/" in body
        assert "&" not in body  # plain text: nothing HTML-escaped

    def test_the_html_part_has_the_same_summary(self, buyer, django_capture_on_commit_callbacks):
        order = place(buyer, django_capture_on_commit_callbacks)
        html = html_part(mail.outbox[0])
        text = text_of(html)
        assert "Amount: $335.97" in text
        assert f"Payment reference: {order.number}" in text
        assert "Beneficiary: Demo Export<br>SWIFT: BKCHCNBJ92A" in html
        assert f'href="https://shop.example/account/orders/{order.number}/invoice/"' in html
        assert f'href="https://shop.example/account/orders/{order.number}/"' in html
        assert "Heavy Tee · S" in text and "30 × $3.30" in text and "$99.00" in text
        assert "Total $335.97" in text

    def test_a_card_order_has_no_bank_details(
        self, buyer, settings, django_capture_on_commit_callbacks
    ):
        settings.STRIPE_SECRET_KEY = "sk_test_for_the_offer_only"
        order = place(buyer, django_capture_on_commit_callbacks, payment_method="card")
        [message] = mail.outbox
        assert message.subject == f"[Ningbo Wholesale] Order {order.number} received"
        assert "SWIFT" not in message.body and "SWIFT" not in html_part(message)
        assert "If your card payment did not go through" in message.body

    def test_a_dropship_order_shows_its_fee_and_the_customer(
        self, buyer, django_capture_on_commit_callbacks
    ):
        customer = AddressFactory(member=buyer, name="Jane End", is_end_customer=True)
        place(buyer, django_capture_on_commit_callbacks, dropship=True, address=customer)
        body = mail.outbox[0].body
        assert "Dropship fee: $3.00" in body
        assert "Shipping to your customer (dropship):\n  Jane End" in body

    def test_an_order_in_another_currency_is_summed_in_it(
        self, buyer, django_capture_on_commit_callbacks
    ):
        order = place(
            buyer, django_capture_on_commit_callbacks, currency="EUR", rate=Decimal("0.92")
        )
        body = mail.outbox[0].body
        assert f"Total: €{order.grand_total}" in body
        assert "30 × €3.04 = €91.20" in body

    def test_no_link_without_a_site_address(
        self, buyer, settings, django_capture_on_commit_callbacks
    ):
        settings.WHOLESALE_SITE_URL = ""
        place(buyer, django_capture_on_commit_callbacks)
        message = mail.outbox[0]
        assert "Your order:" not in message.body and "Proforma invoice:" not in message.body
        assert "View your order" not in html_part(message)

    def test_nothing_is_sent_when_the_order_is_not_placed(
        self, buyer, django_capture_on_commit_callbacks
    ):
        product = ProductFactory(variants=["S"], variants__stock=5)
        with pytest.raises(ValidationError), django_capture_on_commit_callbacks(execute=True):
            place_order(buyer, {product.variants.get(): 50})
        assert mail.outbox == []


class TestPaymentConfirmed:
    def test_says_the_money_arrived(self, buyer, django_capture_on_commit_callbacks):
        order = place(buyer, django_capture_on_commit_callbacks)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.bank_transfer_confirm(order_id=order.pk, by=StaffFactory())
        [message] = mail.outbox
        assert message.subject == f"[Ningbo Wholesale] Payment received for order {order.number}"
        assert f"We received your payment of $335.97 for order {order.number}." in message.body
        assert "Total: $335.97" in message.body
        assert "SWIFT" not in message.body
        assert f"Invoice: https://shop.example/account/orders/{order.number}/invoice/" in (
            message.body
        )
        html = html_part(message)
        assert "We received your payment of $335.97" in html
        assert "Print your invoice" in html


class TestShipped:
    def ship(self, order, capture, **shipment):
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=StaffFactory())
        mail.outbox.clear()
        with capture(execute=True):
            lifecycle.shipment_add(order_id=order.pk, by=StaffFactory(), **shipment)
        [message] = mail.outbox
        return message

    def test_gives_the_tracking_number_and_link(self, buyer, django_capture_on_commit_callbacks):
        order = place(buyer, django_capture_on_commit_callbacks)
        message = self.ship(
            order,
            django_capture_on_commit_callbacks,
            carrier="DHL",
            tracking_number="JD0142",
            tracking_url="https://track.example/JD0142?a=1&b=2",
        )
        assert message.subject == f"[Ningbo Wholesale] Order {order.number} shipped: DHL JD0142"
        assert f"Your order {order.number} is on its way with DHL." in message.body
        assert "Tracking number: JD0142" in message.body
        assert "Track the parcel: https://track.example/JD0142?a=1&b=2" in message.body
        assert "Expected delivery: 5–9 days after dispatch." in message.body
        assert "Total: $335.97" in message.body
        html = html_part(message)
        assert '<a href="https://track.example/JD0142?a=1&amp;b=2"' in html
        assert "<strong>JD0142</strong>" in html

    def test_without_a_link_gives_the_number_only(self, buyer, django_capture_on_commit_callbacks):
        order = place(buyer, django_capture_on_commit_callbacks)
        message = self.ship(
            order, django_capture_on_commit_callbacks, carrier="EMS", tracking_number="EE1"
        )
        assert "Tracking number: EE1" in message.body
        assert "Track the parcel" not in message.body
        assert "Track the parcel" not in html_part(message)

    def test_a_script_url_never_becomes_a_link(self, buyer, django_capture_on_commit_callbacks):
        order = place(buyer, django_capture_on_commit_callbacks)
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=StaffFactory())
        with pytest.raises(ValidationError):
            lifecycle.shipment_add(
                order_id=order.pk,
                by=StaffFactory(),
                carrier="Post",
                tracking_number="PP1",
                tracking_url="javascript:alert(1)",
            )
        # A link stored before the service checked it is still never rendered as one.
        shipment = Shipment.objects.create(
            order=order,
            carrier="Post",
            tracking_number="PP1",
            tracking_url="javascript:alert(1)",
            created_by=StaffFactory(),
        )
        mail.outbox.clear()
        emails.shipped(shipment_id=shipment.pk)
        [message] = mail.outbox
        assert "javascript:" not in html_part(message)
        assert "javascript:" not in message.body

    def test_markup_in_tracking_text_is_escaped(self, buyer, django_capture_on_commit_callbacks):
        order = place(buyer, django_capture_on_commit_callbacks)
        message = self.ship(
            order,
            django_capture_on_commit_callbacks,
            carrier="<b>Fast</b>",
            tracking_number='"><img src=x onerror=alert(1)>',
        )
        html = html_part(message)
        assert "<img src=x" not in html and "<b>Fast</b>" not in html
        assert "&lt;b&gt;Fast&lt;/b&gt;" in html
        assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
        assert 'shipped: <b>Fast</b> "><img src=x onerror=alert(1)>' in message.subject


class TestMarkupInBuyerData:
    """B8: a company name and an address holding markup arrive escaped in the HTML part."""

    SCRIPT = "<script>alert('x')</script>"
    IMG = '"><img src=x onerror=alert(1)>'

    def test_company_name_and_address_are_escaped(self, buyer, django_capture_on_commit_callbacks):
        buyer.distributor.company_name = self.SCRIPT
        buyer.distributor.save()
        address = AddressFactory(member=buyer, name=self.SCRIPT, line1=self.IMG, city="Madrid & Co")
        order = place(buyer, django_capture_on_commit_callbacks, address=address)
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.bank_transfer_confirm(order_id=order.pk, by=StaffFactory())
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.shipment_add(
                order_id=order.pk, carrier="DHL", tracking_number="JD1", by=StaffFactory()
            )
        assert len(mail.outbox) == 3
        for message in mail.outbox:
            html = html_part(message)
            assert "<script" not in html
            assert "<img src=x" not in html
            assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
            assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
            assert "Madrid &amp; Co" in html
            # The plain-text part is text, not HTML: it shows what was typed.
            assert f"Hello {self.SCRIPT}," in message.body
            assert "Madrid & Co" in message.body
