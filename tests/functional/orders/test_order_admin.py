"""The order admin: a read-only list and page for staff, with filters, search and a query count
that does not grow; the payment and webhook lists; the packing slip, blind for dropship."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from orders import lifecycle
from orders.models import Order, OrderState, Payment, WebhookEvent
from tests.factories import (
    AddressFactory,
    DistributorFactory,
    ProductFactory,
    StaffFactory,
    place_order,
)
from wholesale.money import Money, format_money

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/orders/order/"


def change_url(order):
    return f"{CHANGELIST}{order.pk}/change/"


def staff_client(*codenames, superuser=False):
    user = StaffFactory(is_superuser=superuser)
    if codenames:
        user.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
        )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client_():
    return staff_client(superuser=True)


@pytest.fixture
def product():
    return ProductFactory(variants__stock=5000)


def an_order(member, product, units=40, **options):
    s, _m = product.variants.order_by("position")
    return place_order(member, {s: units}, **options)


def listed(response):
    return {order.number for order in response.context["cl"].result_list}


class TestTheOrderList:
    def test_shows_number_buyer_state_payment_country_and_formatted_total(
        self, admin_client_, buyer, product
    ):
        order = an_order(buyer, product)
        html = admin_client_.get(CHANGELIST).content.decode()
        assert order.number in html
        assert buyer.distributor.company_name in html
        assert buyer.email in html
        assert "Awaiting payment" in html
        assert "Bank transfer (T/T)" in html
        assert 'class="field-payment_status_shown">Pending<' in html
        assert 'class="field-ship_country_shown">ES<' in html
        total = format_money(order.money("grand_total"))
        assert f'class="field-grand_total_shown">{total}<' in html

    def test_the_query_count_does_not_grow_with_the_orders(
        self, admin_client_, buyer, product, django_assert_max_num_queries
    ):
        first = an_order(buyer, product)
        lifecycle.bank_transfer_confirm(order_id=first.pk, by=StaffFactory(), reference="TT1")
        with django_assert_max_num_queries(12) as one:
            assert admin_client_.get(CHANGELIST).status_code == 200
        finance = StaffFactory()
        for index in range(29):
            order = an_order(buyer, product)
            if index % 3 == 0:
                lifecycle.bank_transfer_confirm(
                    order_id=order.pk, by=finance, reference=f"T{index}"
                )
        with django_assert_max_num_queries(12) as thirty:
            response = admin_client_.get(CHANGELIST)
        assert len(response.context["cl"].result_list) == 30
        print(
            f"order changelist queries: {len(one.captured_queries)} with 1 order, "
            f"{len(thirty.captured_queries)} with 30"
        )
        assert len(one.captured_queries) == len(thirty.captured_queries)

    def test_filters_by_state_payment_method_payment_status_country_and_date(
        self, admin_client_, buyer, product
    ):
        unpaid = an_order(buyer, product)
        paid = an_order(buyer, product, address=AddressFactory(member=buyer, country="FR"))
        lifecycle.bank_transfer_confirm(order_id=paid.pk, by=StaffFactory(), reference="TT9")
        old = an_order(buyer, product)
        Order.objects.filter(pk=old.pk).update(placed_at=timezone.now() - timedelta(days=400))

        def numbers(query):
            return listed(admin_client_.get(f"{CHANGELIST}?{query}"))

        assert numbers("state=paid") == {paid.number}
        assert numbers("state=pending_payment") == {unpaid.number, old.number}
        assert numbers("payment_method=bank_transfer") == {unpaid.number, paid.number, old.number}
        assert numbers("payment_method=card") == set()
        assert numbers("payment_status=succeeded") == {paid.number}
        assert numbers("payment_status=pending") == {unpaid.number, old.number}
        assert numbers("ship_country=FR") == {paid.number}
        assert numbers("ship_country=ES") == {unpaid.number, old.number}
        old_placed = timezone.localtime(Order.objects.get(pk=old.pk).placed_at)
        now = timezone.localtime()
        assert numbers(
            f"placed_at__year={old_placed.year}&placed_at__month={old_placed.month}"
        ) == {old.number}
        assert numbers(f"placed_at__year={now.year}&placed_at__month={now.month}") == {
            unpaid.number,
            paid.number,
        }

    def test_the_country_filter_offers_only_countries_ordered_to(
        self, admin_client_, buyer, product
    ):
        an_order(buyer, product, address=AddressFactory(member=buyer, country="FR"))
        response = admin_client_.get(CHANGELIST)
        country_filter = next(
            spec
            for spec in response.context["cl"].filter_specs
            if getattr(spec, "parameter_name", None) == "ship_country"
        )
        assert [code for code, _name in country_filter.lookup_choices] == ["FR"]

    def test_bad_filter_values_do_not_fail(self, admin_client_, buyer, product):
        an_order(buyer, product)
        for query in ("payment_status=bogus", "ship_country=<script>", "state=nope", "q=%00"):
            assert admin_client_.get(f"{CHANGELIST}?{query}").status_code in (200, 302)

    def test_searches_by_number_email_company_and_sku(self, admin_client_, buyer, product):
        mine = an_order(buyer, product)
        other_buyer = DistributorFactory(company_name="Nordic Goods AB").user
        other_product = ProductFactory()
        theirs = an_order(other_buyer, other_product)
        sku = other_product.variants.order_by("position").first().sku

        def found(term):
            return listed(admin_client_.get(CHANGELIST, {"q": term}))

        assert found(mine.number) == {mine.number}
        assert found(other_buyer.email) == {theirs.number}
        assert found("Nordic Goods") == {theirs.number}
        assert found(sku) == {theirs.number}

    def test_a_distributor_or_staff_without_permission_cannot_open_it(self, buyer, product):
        order = an_order(buyer, product)
        client = Client()
        client.force_login(DistributorFactory().user)
        assert client.get(CHANGELIST).status_code == 302
        bare_staff = staff_client()
        assert bare_staff.get(CHANGELIST).status_code == 403
        assert bare_staff.get(change_url(order)).status_code == 403


class TestTheOrderPage:
    def test_shows_the_order_its_lines_history_and_payment_read_only(
        self, admin_client_, buyer, product
    ):
        order = an_order(buyer, product)
        response = admin_client_.get(change_url(order))
        assert response.status_code == 200
        html = response.content.decode()
        line = order.lines.get()
        assert line.sku in html
        assert format_money(Money(line.unit_price, order.currency)) in html  # $3.80
        assert format_money(Money(line.line_total, order.currency)) in html
        assert format_money(order.money("grand_total")) in html
        assert "Placed by the buyer." in html
        assert "Calle Mayor 1" in html
        # No form field to edit: the page is a view, and there is no save button.
        assert 'name="grand_total"' not in html
        assert 'name="state"' not in html
        assert 'name="_save"' not in html
        assert response.context["has_change_permission"] is False

    def test_the_query_count_does_not_grow_with_lines_payments_refunds_and_parcels(
        self, admin_client_, buyer, django_assert_max_num_queries
    ):
        single = ProductFactory(variants=["S"], variants__stock=500)
        small = place_order(buyer, {single.variants.get(): 40})
        admin_client_.get(change_url(small))  # warm the per-process content type cache
        with django_assert_max_num_queries(40) as few:
            assert admin_client_.get(change_url(small)).status_code == 200
        big_product = ProductFactory(variants=["S", "M", "L", "XL"], variants__stock=500)
        big = place_order(buyer, {variant: 15 for variant in big_product.variants.all()})
        staff = StaffFactory()
        lifecycle.bank_transfer_confirm(order_id=big.pk, by=staff, reference="TT")
        for number in ("1", "2", "3"):
            lifecycle.shipment_add(order_id=big.pk, carrier="DHL", tracking_number=number, by=staff)
        for line in big.lines.all():
            lifecycle.refund_create(order_id=big.pk, by=staff, reason="damaged", lines={line.pk: 1})
        with django_assert_max_num_queries(40) as many:
            assert admin_client_.get(change_url(big)).status_code == 200
        print(
            f"order page queries: {len(few.captured_queries)} (1 line, nothing else), "
            f"{len(many.captured_queries)} (4 lines, 3 parcels, 4 refunds, 13 events)"
        )
        assert len(few.captured_queries) == len(many.captured_queries)

    def test_nobody_adds_deletes_or_edits_an_order_in_the_admin(
        self, admin_client_, buyer, product
    ):
        order = an_order(buyer, product)
        grand_total = order.grand_total
        other = DistributorFactory().user
        assert admin_client_.get(f"{CHANGELIST}add/").status_code == 403
        assert (
            admin_client_.post(f"{CHANGELIST}{order.pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
        response = admin_client_.post(
            change_url(order),
            {"grand_total": "1.00", "state": "completed", "member": other.pk, "_save": "Save"},
        )
        assert response.status_code == 403
        order.refresh_from_db()
        assert (order.grand_total, order.state, order.member_id) == (
            grand_total,
            OrderState.PENDING_PAYMENT,
            buyer.pk,
        )
        changelist = admin_client_.get(CHANGELIST)
        assert "delete_selected" not in changelist.content.decode()

    def test_shows_each_action_only_to_staff_holding_its_permission(self, buyer, product):
        order = an_order(buyer, product)
        actions = {
            "confirm_payment": "order-action-confirm_transfer",
            "ship_order": "order-action-ship",
            "refund_order": "order-action-refund",
            "change_order": "order-action-state",
        }

        def buttons(client, target):
            html = client.get(change_url(target)).content.decode()
            return {css for css in actions.values() if css in html}

        viewer = staff_client("view_order")
        assert buttons(viewer, order) == set()
        assert "order-action-packing_slip" in viewer.get(change_url(order)).content.decode()
        assert buttons(staff_client("view_order", "confirm_payment"), order) == {
            "order-action-confirm_transfer"
        }
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=StaffFactory(), reference="TT")
        assert buttons(staff_client("view_order", "ship_order"), order) == {"order-action-ship"}
        assert buttons(staff_client("view_order", "refund_order"), order) == {"order-action-refund"}
        assert buttons(staff_client("change_order"), order) == {"order-action-state"}
        assert buttons(staff_client(superuser=True), order) == {
            "order-action-ship",
            "order-action-refund",
            "order-action-state",
        }

    def test_payments_and_refunds_are_shown_only_to_staff_allowed_to_see_them(self, buyer, product):
        order = an_order(buyer, product)
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=StaffFactory(), reference="TT-77")
        sales_like = staff_client("view_order").get(change_url(order)).content.decode()
        finance_like = (
            staff_client("view_order", "view_payment", "view_refund")
            .get(change_url(order))
            .content.decode()
        )
        assert "TT-77" not in sales_like
        assert order.lines.get().sku in sales_like  # lines and history are part of the order
        assert "TT-77" in finance_like

    def test_an_unknown_or_malformed_order_id_is_a_404_or_redirect_not_a_500(self, admin_client_):
        for object_id in ("999999", "abc", "1%20OR%201=1"):
            assert admin_client_.get(f"{CHANGELIST}{object_id}/change/").status_code in (302, 404)
            for page in ("packing-slip", "ship", "refund", "state", "confirm-transfer"):
                assert admin_client_.get(f"{CHANGELIST}{object_id}/{page}/").status_code == 404


class TestThePackingSlip:
    def test_an_own_order_slip_names_the_sender_and_the_order_without_prices(
        self, admin_client_, buyer, product, settings
    ):
        order = an_order(buyer, product)
        html = admin_client_.get(f"{CHANGELIST}{order.pk}/packing-slip/").content.decode()
        line = order.lines.get()
        assert line.sku in html and line.product_name in html and ">40<" in html
        assert order.number in html
        assert settings.WHOLESALE_SHOP_NAME in html
        assert "3.80" not in html and "$" not in html

    def test_a_dropship_slip_is_blind(self, admin_client_, buyer, product, settings):
        settings.WHOLESALE_SHOP_NAME = "Ningbo Knitwear Export"
        end_customer = AddressFactory(
            member=buyer,
            name="Eve Endkunde",
            company="",
            line1="Hauptstraße 5",
            city="Berlin",
            postal_code="10115",
            country="DE",
            is_end_customer=True,
        )
        order = an_order(buyer, product, address=end_customer, dropship=True)
        assert order.is_dropship
        response = admin_client_.get(f"{CHANGELIST}{order.pk}/packing-slip/")
        assert response.status_code == 200
        html = response.content.decode()
        line = order.lines.get()
        for wanted in ("Eve Endkunde", "Hauptstraße 5", "10115 Berlin", "Germany"):
            assert wanted in html
        assert line.sku in html and line.product_name in html and ">40<" in html
        # Neither the shop nor the distributor nor any price or amount.
        for unwanted in (
            "Ningbo Knitwear Export",
            settings.WHOLESALE_SELLER_ADDRESS.splitlines()[0],
            buyer.distributor.company_name,
            buyer.email,
            order.number,
            "$",
            "USD",
            "3.80",
            str(line.unit_price),
            str(line.line_total),
            str(order.grand_total),
            "price",
            "total",
        ):
            assert unwanted not in html, unwanted

    def test_staff_without_the_view_permission_get_403(self, buyer, product):
        order = an_order(buyer, product)
        client = staff_client("confirm_payment")
        assert client.get(f"{CHANGELIST}{order.pk}/packing-slip/").status_code == 403


class TestThePaymentAndWebhookLists:
    def test_payments_are_listed_filtered_and_searched_read_only(
        self, admin_client_, buyer, product, django_assert_max_num_queries
    ):
        paid = an_order(buyer, product)
        lifecycle.bank_transfer_confirm(order_id=paid.pk, by=StaffFactory(), reference="TT5")
        unpaid = an_order(buyer, product)
        Payment.objects.filter(order=unpaid).update(provider_id="cs_test_abc")
        url = "/admin/orders/payment/"
        with django_assert_max_num_queries(10):
            html = admin_client_.get(url).content.decode()
        assert paid.number in html and unpaid.number in html
        assert format_money(paid.money("grand_total")) in html

        def orders_of(query):
            response = admin_client_.get(url, query)
            return {payment.order.number for payment in response.context["cl"].result_list}

        assert orders_of({"status": "succeeded"}) == {paid.number}
        assert orders_of({"method": "card"}) == set()
        assert orders_of({"q": unpaid.number}) == {unpaid.number}
        assert orders_of({"q": "cs_test_abc"}) == {unpaid.number}
        payment = Payment.objects.get(order=paid)
        assert admin_client_.get(f"{url}{payment.pk}/change/").status_code == 200
        assert admin_client_.get(f"{url}add/").status_code == 403
        response = admin_client_.post(
            f"{url}{payment.pk}/change/", {"status": "failed", "amount": "1"}
        )
        assert response.status_code == 403
        payment.refresh_from_db()
        assert payment.status == Payment.Status.SUCCEEDED

    def test_webhook_events_are_listed_read_only(self, admin_client_):
        event = WebhookEvent.objects.create(
            event_id="evt_123",
            type="payment_intent.succeeded",
            payload={"id": "evt_123", "data": {"note": "<script>alert(1)</script>"}},
        )
        url = "/admin/orders/webhookevent/"
        html = admin_client_.get(url, {"q": "evt_123"}).content.decode()
        assert "evt_123" in html
        page = admin_client_.get(f"{url}{event.pk}/change/").content.decode()
        assert "&lt;script&gt;" in page and "<script>alert(1)" not in page
        assert admin_client_.get(f"{url}add/").status_code == 403
        assert admin_client_.post(f"{url}{event.pk}/delete/", {"post": "yes"}).status_code == 403
        assert WebhookEvent.objects.filter(pk=event.pk).exists()
