"""The buyer's order pages over HTTP: the list, the detail, cancelling, the invoice.

Also B8 (markup in the company name and the address is escaped) and the pinned query counts
of the list and the detail, the same with one order or line as with twenty.
"""

import re
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.urls import include, path

import wholesale.urls
from catalog.models import Variant
from orders import lifecycle
from orders.models import Order, OrderEvent, OrderState, Shipment
from tests.factories import AddressFactory, ProductFactory, StaffFactory, place_order

pytestmark = pytest.mark.django_db


def _card_start(request, number):
    return HttpResponse(f"pay {number}")


# A stand-in for the card payment start page, so the "Pay now" link can be followed here
# whatever the state of the payments module.
urlpatterns = [
    path(
        "payments/",
        include(
            ([path("<slug:number>/card/", _card_start, name="card_start")], "payments"),
        ),
    ),
    *[p for p in wholesale.urls.urlpatterns if getattr(p, "namespace", None) != "payments"],
]


def order_of(member, *, units=30, **options):
    """A bank-transfer order of one product: `units` of S and of M (60 units: the 50+ tier)."""
    product = options.pop("product", None) or ProductFactory()
    s, m = product.variants.order_by("position")
    return place_order(member, {s: units, m: units}, **options)


def html_of(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str) -> str:
    """The page's visible text, tags dropped and whitespace folded, for sentence checks."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def detail_url(order) -> str:
    return f"/account/orders/{order.number}/"


def pay(order):
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=StaffFactory(), reference="TT-1")


class TestTheOrderList:
    def test_lists_number_date_state_payment_total_and_items_newest_first(
        self, buyer_client, buyer
    ):
        first = order_of(buyer)
        second = order_of(buyer, units=25)
        pay(first)
        html = html_of(buyer_client, "/account/orders/")
        numbers = re.findall(r'data-testid="order-row" data-number="([^"]+)"', html)
        assert numbers == [second.number, first.number]
        text = text_of(html)
        assert f"{first.number} " in text and f"{second.number} " in text
        assert "Paid" in text and "Awaiting payment" in text
        assert "$335.97" in text  # 198.00 goods + 135.00 express + 2.97 insurance
        rows = dict(re.findall(r'data-number="([^"]+)">(.*?)</tr>', html, re.S))
        assert ">60<" in rows[first.number] and ">50<" in rows[second.number]
        assert first.placed_at.strftime("%Y") in rows[first.number]

    def test_an_empty_list_says_so(self, buyer_client):
        html = html_of(buyer_client, "/account/orders/")
        assert 'data-testid="orders-empty"' in html
        assert "You have not placed an order yet." in html

    def test_pages_through_many_orders(self, buyer_client, buyer, settings):
        settings.WHOLESALE_MIN_ORDER_AMOUNT = Decimal("1")
        product = ProductFactory(variants=["S"], variants__stock=1000)
        variant = product.variants.get()
        placed = [place_order(buyer, {variant: 1}) for _ in range(21)]
        first_page = html_of(buyer_client, "/account/orders/")
        assert first_page.count('data-testid="order-row"') == 20
        assert "Page 1 of 2" in first_page
        second_page = html_of(buyer_client, "/account/orders/?page=2")
        assert re.findall(r'data-testid="order-row" data-number="([^"]+)"', second_page) == [
            placed[0].number
        ]
        for junk in ("abc", "-1", "999", "1e3"):
            assert buyer_client.get(f"/account/orders/?page={junk}").status_code == 200

    def test_shows_only_the_members_own_orders(self, buyer_client, buyer):
        from tests.factories import DistributorFactory

        other = DistributorFactory().user
        theirs = order_of(other)
        mine = order_of(buyer)
        html = html_of(buyer_client, "/account/orders/")
        assert mine.number in html and theirs.number not in html

    @pytest.mark.usefixtures("warm_layout")
    def test_the_query_count_does_not_grow_with_the_orders(
        self, buyer_client, buyer, settings, django_assert_max_num_queries
    ):
        # Session, user, count, the page (item counts and payments by subquery), cart count.
        settings.WHOLESALE_MIN_ORDER_AMOUNT = Decimal("1")
        product = ProductFactory(variants=[f"V{n}" for n in range(5)], variants__stock=1000)
        variants = list(product.variants.all())
        place_order(buyer, {variants[0]: 1})
        with django_assert_max_num_queries(5) as one:
            html_of(buyer_client, "/account/orders/")
        for _ in range(19):
            place_order(buyer, {variant: 2 for variant in variants})
        pay(Order.objects.filter(member=buyer).first())
        with django_assert_max_num_queries(5) as twenty:
            assert html_of(buyer_client, "/account/orders/").count('data-testid="order-row"') == 20
        print(
            f"order list queries: 1 order={len(one.captured_queries)}, "
            f"20 orders={len(twenty.captured_queries)}"
        )
        assert len(twenty.captured_queries) == len(one.captured_queries)


class TestTheOrderDetail:
    def test_shows_the_lines_with_sku_variant_quantity_tier_and_prices(self, buyer_client, buyer):
        product = ProductFactory(name="Heavy Tee")
        order = order_of(buyer, product=product)
        html = html_of(buyer_client, detail_url(order))
        rows = re.findall(r'data-testid="order-line" data-sku="([^"]+)">(.*?)</tr>', html, re.S)
        assert [sku for sku, _ in rows] == [
            f"{product.slug.upper()}-S",
            f"{product.slug.upper()}-M",
        ]
        row = text_of(rows[0][1])
        assert "Heavy Tee S" in row and ">30<" in rows[0][1]
        assert "50+" in row and "$3.30" in row and "$99.00" in row

    def test_shows_the_totals(self, buyer_client, buyer):
        order = order_of(buyer)
        totals = text_of(
            html_of(buyer_client, detail_url(order)).split('data-testid="order-totals"')[1]
        )
        assert "Goods $198.00" in totals
        assert "Shipping (Express courier) $135.00" in totals
        assert "Shipping insurance $2.97" in totals
        assert "Total $335.97" in totals
        assert "Discounts" not in totals and "Dropship fee" not in totals

    def test_a_dropship_order_shows_its_fee_and_flag(self, buyer_client, buyer):
        customer = AddressFactory(member=buyer, name="End Customer", is_end_customer=True)
        order = order_of(buyer, dropship=True, address=customer)
        html = html_of(buyer_client, detail_url(order))
        assert 'data-testid="dropship"' in html
        assert "Dropship fee $3.00" in text_of(html)
        assert "End Customer" in html

    def test_shows_the_address_method_and_delivery_estimate(self, buyer_client, buyer):
        address = AddressFactory(member=buyer, line1="Calle Mayor 1", city="Madrid")
        order = order_of(buyer, address=address)
        text = text_of(html_of(buyer_client, detail_url(order)))
        assert "Calle Mayor 1" in text and "28013 Madrid" in text and "Spain" in text
        assert "Express courier · delivery in 5–9 days after dispatch · insured" in text
        assert 'data-testid="dropship"' not in html_of(buyer_client, detail_url(order))

    def test_an_unpaid_bank_transfer_shows_how_to_pay(self, buyer_client, buyer, settings):
        settings.WHOLESALE_BANK_DETAILS = "Beneficiary: Demo Export\nSWIFT: BKCHCNBJ92A"
        order = order_of(buyer)
        html = html_of(buyer_client, detail_url(order))
        box = text_of(html.split('data-testid="bank-transfer"')[1].split("</dl>")[0])
        assert "Amount $335.97" in box
        assert f"Payment reference {order.number}" in box
        assert "Pay by" in box and str(order.pay_by.year) in box
        assert "Beneficiary: Demo Export<br>SWIFT: BKCHCNBJ92A" in html
        assert f'href="/account/orders/{order.number}/invoice/"' in html
        assert "Awaiting payment" in html
        assert 'data-testid="cancel"' in html and 'data-testid="reorder"' in html

    def test_a_paid_order_has_no_payment_box_and_no_cancel(self, buyer_client, buyer):
        order = order_of(buyer)
        pay(order)
        html = html_of(buyer_client, detail_url(order))
        assert 'data-testid="bank-transfer"' not in html
        assert 'data-testid="cancel"' not in html
        assert 'data-testid="reorder"' in html
        assert re.search(r'data-testid="payment-state">Paid<', html)
        assert re.search(r'data-testid="invoice-link">Invoice<', html)

    @pytest.mark.urls(__name__)
    def test_an_unpaid_card_order_links_to_pay_now(self, buyer_client, buyer, settings):
        settings.STRIPE_SECRET_KEY = "sk_test_for_the_offer_only"
        order = order_of(buyer, payment_method="card")
        html = html_of(buyer_client, detail_url(order))
        assert f'href="/payments/{order.number}/card/" data-testid="pay-now"' in html
        assert 'data-testid="bank-transfer"' not in html
        pay_link = re.search(r'href="([^"]+)" data-testid="pay-now"', html).group(1)
        assert buyer_client.get(pay_link).content.decode() == f"pay {order.number}"

    def test_an_order_in_another_currency_shows_the_base_amount_and_the_rate(
        self, buyer_client, buyer
    ):
        order = order_of(buyer, currency="EUR", rate=Decimal("0.92"))
        assert order.currency == "EUR"
        text = text_of(html_of(buyer_client, detail_url(order)))
        assert f"Total €{order.grand_total}" in text
        assert f"${order.grand_total_base} in USD, converted at 1 USD = 0.92 EUR." in text

    def test_an_order_in_the_base_currency_shows_no_conversion(self, buyer_client, buyer):
        order = order_of(buyer)
        assert 'data-testid="conversion"' not in html_of(buyer_client, detail_url(order))

    def test_shows_shipments_with_tracking_links(self, buyer_client, buyer):
        order = order_of(buyer)
        pay(order)
        staff = StaffFactory()
        lifecycle.shipment_add(
            order_id=order.pk,
            carrier="DHL",
            tracking_number="JD0001",
            tracking_url="https://track.example/JD0001",
            by=staff,
        )
        lifecycle.shipment_add(order_id=order.pk, carrier="EMS", tracking_number="EE42", by=staff)
        # The service refuses such a link now; one stored before it did is never linked.
        Shipment.objects.create(
            order=order,
            carrier="Post",
            tracking_number="PP7",
            tracking_url="javascript:alert(1)",
            created_by=staff,
        )
        html = html_of(buyer_client, detail_url(order))
        shipments = re.findall(r'data-testid="shipment">(.*?)</li>', html, re.S)
        assert len(shipments) == 3
        assert '<a href="https://track.example/JD0001"' in shipments[0]
        assert "EMS · EE42" in text_of(shipments[1]) and "<a " not in shipments[1]
        assert "PP7" in shipments[2] and "<a " not in shipments[2]
        assert "javascript:" not in html

    def test_the_history_shows_what_happened_but_not_staff_notes(self, buyer_client, buyer):
        order = order_of(buyer)
        pay(order)
        lifecycle.order_note(order_id=order.pk, reason="Customer is slow, watch them")
        lifecycle.shipment_add(
            order_id=order.pk, carrier="DHL", tracking_number="JD9", by=StaffFactory()
        )
        html = html_of(buyer_client, detail_url(order))
        history = text_of(html.split('data-testid="history"')[1].split("</ol>")[0])
        assert "Placed" in history and "(by you)" in history
        assert "Awaiting payment → Paid" in history
        assert "Payment" in history and "Shipment" in history
        assert "Paid → Shipped" in history
        assert "watch them" not in html

    def test_shows_refunds(self, buyer_client, buyer):
        order = order_of(buyer)
        pay(order)
        line = order.lines.first()
        lifecycle.refund_create(
            order_id=order.pk, by=StaffFactory(), reason="Two torn", lines={line.pk: 2}
        )
        html = html_of(buyer_client, detail_url(order))
        refunds = text_of(html.split('data-testid="refunds"')[1].split("</ul>")[0])
        assert "$6.60" in refunds and "Two torn" in refunds
        assert "Refunded −$6.60" in text_of(html)
        assert re.search(r'data-testid="payment-state">Partly refunded<', html)
        assert "(2 refunded)" in html

    def test_cancelling_asks_for_a_second_tap(self, buyer_client, buyer):
        order = order_of(buyer)
        html = html_of(buyer_client, detail_url(order))
        confirm = html.split('<details class="confirm">')[1].split("</details>")[0]
        assert f'action="/account/orders/{order.number}/cancel/"' in confirm
        assert f"Cancel order {order.number}? Its goods go back on sale" in confirm

    def test_a_number_that_does_not_exist_is_a_404(self, buyer_client):
        assert buyer_client.get("/account/orders/W999999/").status_code == 404
        assert buyer_client.get("/account/orders/not a number/").status_code == 404

    @pytest.mark.usefixtures("warm_layout")
    def test_the_query_count_does_not_grow_with_the_lines(
        self, buyer_client, buyer, django_assert_max_num_queries
    ):
        # Session, user, order, lines, events, payments, shipments, refunds, cart count.
        small = place_order(buyer, {ProductFactory(variants=["S"]).variants.get(): 40})
        with django_assert_max_num_queries(9) as one:
            html_of(buyer_client, detail_url(small))
        product = ProductFactory(variants=[f"V{n}" for n in range(20)])
        big = place_order(buyer, {variant: 5 for variant in product.variants.all()})
        assert big.lines.count() == 20
        pay(big)
        staff = StaffFactory()
        for n in range(3):
            lifecycle.shipment_add(
                order_id=big.pk, carrier="DHL", tracking_number=f"T{n}", by=staff
            )
        lifecycle.refund_create(
            order_id=big.pk, by=staff, reason="damaged", lines={big.lines.first().pk: 1}
        )
        with django_assert_max_num_queries(9) as twenty:
            html = html_of(buyer_client, detail_url(big))
        assert html.count('data-testid="order-line"') == 20
        print(
            f"order detail queries: 1 line={len(one.captured_queries)}, "
            f"20 lines={len(twenty.captured_queries)}"
        )
        assert len(twenty.captured_queries) == len(one.captured_queries)


class TestCancelling:
    def test_an_unpaid_order_is_cancelled_and_gives_its_stock_back(self, buyer_client, buyer):
        product = ProductFactory()
        s, _m = product.variants.order_by("position")
        order = order_of(buyer, product=product)
        assert Variant.objects.get(pk=s.pk).stock == 70
        events = OrderEvent.objects.filter(order=order).count()
        response = buyer_client.post(f"/account/orders/{order.number}/cancel/", follow=True)
        assert response.redirect_chain == [(detail_url(order), 302)]
        order.refresh_from_db()
        assert order.state == OrderState.CANCELLED
        assert Variant.objects.get(pk=s.pk).stock == 100
        new = OrderEvent.objects.filter(order=order).order_by("pk")[events:]
        assert [(e.kind, e.from_state, e.to_state, e.actor_id) for e in new] == [
            ("transition", "pending_payment", "cancelled", buyer.pk)
        ]
        html = response.content.decode()
        assert f"Order {order.number} is cancelled" in html
        assert 'data-testid="cancel"' not in html

    def test_a_paid_order_is_refused_with_a_message_and_stays_paid(self, buyer_client, buyer):
        product = ProductFactory()
        s, _m = product.variants.order_by("position")
        order = order_of(buyer, product=product)
        pay(order)
        events = OrderEvent.objects.filter(order=order).count()
        response = buyer_client.post(f"/account/orders/{order.number}/cancel/", follow=True)
        assert response.status_code == 200
        assert "Only an order awaiting payment can be cancelled" in response.content.decode()
        order.refresh_from_db()
        assert order.state == OrderState.PAID
        assert OrderEvent.objects.filter(order=order).count() == events
        assert Variant.objects.get(pk=s.pk).stock == 70

    def test_cancelling_twice_changes_nothing_the_second_time(self, buyer_client, buyer):
        order = order_of(buyer)
        buyer_client.post(f"/account/orders/{order.number}/cancel/")
        events = OrderEvent.objects.filter(order=order).count()
        response = buyer_client.post(f"/account/orders/{order.number}/cancel/", follow=True)
        assert "Only an order awaiting payment can be cancelled" in response.content.decode()
        assert OrderEvent.objects.filter(order=order).count() == events

    def test_a_get_does_not_cancel(self, buyer_client, buyer):
        order = order_of(buyer)
        assert buyer_client.get(f"/account/orders/{order.number}/cancel/").status_code == 405
        order.refresh_from_db()
        assert order.state == OrderState.PENDING_PAYMENT


class TestTheInvoice:
    def test_an_unpaid_order_has_a_proforma_invoice(self, buyer_client, buyer, settings):
        settings.WHOLESALE_SELLER_ADDRESS = "Ningbo Export Co.\nNo. 1 Export Road\nNingbo, China"
        settings.WHOLESALE_BANK_DETAILS = "SWIFT: BKCHCNBJ92A"
        buyer.distributor.company_name = "Madrid Tees SL"
        buyer.distributor.tax_number = "ESB12345678"
        buyer.distributor.save()
        order = order_of(buyer)
        html = html_of(buyer_client, f"/account/orders/{order.number}/invoice/")
        text = text_of(html)
        assert "<h1>Proforma invoice</h1>" in html
        assert "<title>Proforma invoice" in html
        assert "Ningbo Export Co. No. 1 Export Road Ningbo, China" in text
        assert "Madrid Tees SL Ana Buyer" in text and "ESB12345678" in text
        assert "Calle Mayor 1" in text and buyer.email in text
        assert html.count('data-testid="order-line"') == 2
        assert "Total $335.97" in text
        assert "SWIFT: BKCHCNBJ92A" in html
        assert f"Payment reference {order.number}" in text
        assert "Pay by" in text

    def test_a_paid_order_has_an_invoice(self, buyer_client, buyer):
        order = order_of(buyer)
        pay(order)
        html = html_of(buyer_client, f"/account/orders/{order.number}/invoice/")
        assert "<h1>Invoice</h1>" in html and "Proforma" not in html
        assert "Paid in full: $335.97." in html
        assert "Pay by" not in html

    def test_a_cancelled_order_owes_nothing(self, buyer_client, buyer):
        order = order_of(buyer)
        lifecycle.order_cancel_by_buyer(member=buyer, number=order.number)
        html = html_of(buyer_client, f"/account/orders/{order.number}/invoice/")
        assert "This order was cancelled before payment: nothing is owed." in html
        assert 'data-testid="bank-transfer"' not in html

    def test_is_printable_with_a_button_from_a_static_script(self, buyer_client, buyer):
        order = order_of(buyer)
        html = html_of(buyer_client, f"/account/orders/{order.number}/invoice/")
        assert '<script src="/static/orders/print.js" defer></script>' in html
        assert re.findall(r"<script[^>]*>(.*?)</script>", html, re.S) == [""]  # none inline
        assert "Print or save as PDF" in html and "data-print" in html
        assert 'href="/static/orders/orders.css"' in html
        with open(finders.find("orders/print.js")) as script:
            assert "window.print()" in script.read()
        with open(finders.find("orders/orders.css")) as stylesheet:
            assert "@media print" in stylesheet.read()

    def test_downloads_as_a_file_that_carries_its_stylesheet(self, buyer_client, buyer):
        order = order_of(buyer)
        response = buyer_client.get(f"/account/orders/{order.number}/invoice/?download=1")
        assert response.status_code == 200
        assert response["Content-Disposition"] == f'attachment; filename="{order.number}.html"'
        assert response["Content-Type"].startswith("text/html")
        html = response.content.decode()
        assert "<style>" in html and "@media print" in html
        assert "<script" not in html and "/static/" not in html
        assert "<h1>Proforma invoice</h1>" in html

    def test_a_dropship_invoice_is_made_out_to_the_buyer_and_ships_to_the_customer(
        self, buyer_client, buyer
    ):
        AddressFactory(member=buyer, line1="Own Warehouse 5", is_default=True)
        customer = AddressFactory(
            member=buyer, name="Jane End", line1="Customer Street 9", is_end_customer=True
        )
        order = order_of(buyer, dropship=True, address=customer)
        html = html_of(buyer_client, f"/account/orders/{order.number}/invoice/")
        buyer_block = html.split('data-testid="buyer"')[1].split("</div>")[0]
        ship_block = html.split('data-testid="ship-to"')[1].split("</div>")[0]
        assert "Own Warehouse 5" in buyer_block and "Customer Street 9" not in buyer_block
        assert "Jane End" in ship_block and "Customer Street 9" in ship_block


class TestMarkupInBuyerData:
    """B8: the company name and address, typed by buyers, are escaped on every page."""

    SCRIPT = "<script>alert('company')</script>"
    IMG = '"><img src=x onerror=alert(1)>'

    def test_company_name_and_address_are_escaped(self, buyer_client, buyer):
        buyer.distributor.company_name = self.SCRIPT
        buyer.distributor.save()
        address = AddressFactory(member=buyer, line1=self.IMG, company=self.SCRIPT)
        order = order_of(buyer, address=address)
        for url in (
            detail_url(order),
            f"/account/orders/{order.number}/invoice/",
            f"/account/orders/{order.number}/invoice/?download=1",
            "/account/orders/",
        ):
            html = buyer_client.get(url).content.decode()
            assert "<script>alert" not in html, url
            assert "<img src=x" not in html, url
        invoice = html_of(buyer_client, f"/account/orders/{order.number}/invoice/")
        assert "&lt;script&gt;alert(&#x27;company&#x27;)&lt;/script&gt;" in invoice
        assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in invoice
