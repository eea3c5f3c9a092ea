"""What staff do to an order from its admin page: confirm a bank transfer, add a shipment,
refund, change the state. Each page checks its permission on the server, refuses with a message
(never a 500), and goes through orders.lifecycle so the history is written."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.utils import timezone

from catalog.models import Variant
from orders import lifecycle
from orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderState,
    Payment,
    PaymentMethod,
    Refund,
    Shipment,
)
from tests.factories import ProductFactory, StaffFactory, place_order
from tests.stripe_fakes import fake_stripe, start_checkout

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/orders/order/"
ACTION_PERMISSIONS = ["confirm_payment", "ship_order", "refund_order", "change_order"]


def page(order, name):
    return f"{CHANGELIST}{order.pk}/{name}/"


def staff_with(*codenames, superuser=False):
    user = StaffFactory(is_superuser=superuser)
    if codenames:
        user.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
        )
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def acting(kind, *codenames):
    """A superuser, or staff holding exactly the order view permission and `codenames`."""
    if kind == "superuser":
        return staff_with(superuser=True)
    return staff_with("view_order", *codenames)


def said(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def snapshot(order):
    """Everything an action could change, to prove a refused one changed nothing."""
    row = Order.objects.filter(pk=order.pk).values().get()
    row.pop("updated_at")
    return (
        row,
        list(OrderLine.objects.filter(order=order).values_list("pk", "refunded_quantity")),
        list(Payment.objects.filter(order=order).values_list("pk", "status", "reference")),
        OrderEvent.objects.filter(order=order).count(),
        Refund.objects.filter(order=order).count(),
        Shipment.objects.filter(order=order).count(),
        list(Variant.objects.order_by("pk").values_list("pk", "stock")),
    )


@pytest.fixture
def product():
    return ProductFactory(variants__stock=1000)


@pytest.fixture
def order(buyer, product):
    """An unpaid bank-transfer order: 30 S and 30 M at the 3.30 tier."""
    s, m = product.variants.order_by("position")
    return place_order(buyer, {s: 30, m: 30})


@pytest.fixture
def paid_order(order):
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=StaffFactory(), reference="TT-1")
    order.refresh_from_db()
    return order


BOTH = pytest.mark.parametrize("kind", ["superuser", "exact permissions"])


class TestConfirmingABankTransfer:
    @BOTH
    def test_marks_the_order_paid_with_the_reference_and_who_confirmed(
        self, kind, order, django_capture_on_commit_callbacks
    ):
        client = acting(kind, "confirm_payment")
        assert client.get(page(order, "confirm-transfer")).status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(page(order, "confirm-transfer"), {"reference": "HSBC 4471"})
        assert response.status_code == 302
        assert response["Location"] == f"{CHANGELIST}{order.pk}/change/"
        order.refresh_from_db()
        assert order.state == OrderState.PAID
        payment = Payment.objects.get(order=order)
        assert (payment.status, payment.reference, payment.confirmed_by) == (
            Payment.Status.SUCCEEDED,
            "HSBC 4471",
            client.user,
        )
        event = order.events.get(kind=OrderEvent.Kind.TRANSITION, to_state=OrderState.PAID)
        assert event.actor == client.user
        assert any("is confirmed" in text for text in said(response))
        assert [message.to for message in mail.outbox] == [[order.email]]

    def test_on_an_order_that_expired_says_why_and_it_stays_cancelled(self, order):
        lifecycle.orders_expire_unpaid(now=timezone.now() + timedelta(days=60))
        client = acting("exact permissions", "confirm_payment")
        response = client.post(page(order, "confirm-transfer"), {"reference": "late TT"})
        assert response.status_code == 200
        assert said(response) == [
            f"Order {order.number} is cancelled: the transfer cannot be confirmed on it."
        ]
        order.refresh_from_db()
        assert order.state == OrderState.CANCELLED
        assert Payment.objects.get(order=order).status == Payment.Status.CANCELLED

    @pytest.mark.parametrize("reference", ["", "   ", "x" * 201])
    def test_needs_a_bank_reference_of_a_sensible_length(self, order, reference):
        client = acting("exact permissions", "confirm_payment")
        before = snapshot(order)
        response = client.post(page(order, "confirm-transfer"), {"reference": reference})
        assert response.status_code == 200
        assert response.context["form"].errors["reference"]
        assert snapshot(order) == before

    def test_twice_is_refused_the_second_time(self, order):
        client = acting("exact permissions", "confirm_payment")
        client.post(page(order, "confirm-transfer"), {"reference": "TT-1"}, follow=True)
        before = snapshot(order)
        response = client.post(page(order, "confirm-transfer"), {"reference": "TT-1"})
        assert said(response) == [
            f"Order {order.number} is paid: the transfer cannot be confirmed on it."
        ]
        assert snapshot(order) == before

    def test_a_post_without_the_csrf_token_is_refused(self, order):
        client = Client(enforce_csrf_checks=True)
        client.force_login(StaffFactory(is_superuser=True))
        before = snapshot(order)
        response = client.post(page(order, "confirm-transfer"), {"reference": "TT"})
        assert response.status_code == 403
        assert snapshot(order) == before


class TestAddingAShipment:
    @BOTH
    def test_marks_the_order_shipped_and_emails_the_buyer(
        self, kind, paid_order, django_capture_on_commit_callbacks
    ):
        client = acting(kind, "ship_order")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                page(paid_order, "ship"),
                {
                    "carrier": "DHL Express",
                    "tracking_number": "JD014600006281",
                    "tracking_url": "https://www.dhl.com/track?id=JD014600006281",
                },
            )
        assert response.status_code == 302
        paid_order.refresh_from_db()
        assert paid_order.state == OrderState.SHIPPED
        shipment = Shipment.objects.get(order=paid_order)
        assert (shipment.carrier, shipment.tracking_number, shipment.created_by) == (
            "DHL Express",
            "JD014600006281",
            client.user,
        )
        assert len(mail.outbox) == 1
        email = mail.outbox[0]
        assert email.to == [paid_order.email]
        assert "JD014600006281" in email.body
        assert any("Shipment recorded" in text for text in said(response))

    def test_an_unpaid_order_cannot_be_shipped(self, order):
        client = acting("exact permissions", "ship_order")
        before = snapshot(order)
        response = client.post(page(order, "ship"), {"carrier": "DHL", "tracking_number": "1"})
        assert said(response) == [
            f"Order {order.number} is awaiting payment: it cannot be shipped."
        ]
        assert snapshot(order) == before

    def test_a_tracking_number_already_recorded_is_refused(self, paid_order):
        client = acting("exact permissions", "ship_order")
        data = {"carrier": "DHL", "tracking_number": "JD1"}
        client.post(page(paid_order, "ship"), data, follow=True)
        before = snapshot(paid_order)
        response = client.post(page(paid_order, "ship"), data)
        assert said(response) == ["This tracking number is already recorded."]
        assert snapshot(paid_order) == before

    @pytest.mark.parametrize(
        "data",
        [
            {"carrier": "", "tracking_number": "1"},
            {"carrier": "DHL", "tracking_number": ""},
            {"carrier": "DHL", "tracking_number": "1", "tracking_url": "javascript:alert(1)"},
            {"carrier": "D" * 101, "tracking_number": "1"},
            {"carrier": "DHL", "tracking_number": "9" * 101},
        ],
    )
    def test_bad_input_is_a_form_error(self, paid_order, data):
        client = acting("exact permissions", "ship_order")
        before = snapshot(paid_order)
        response = client.post(page(paid_order, "ship"), data)
        assert response.status_code == 200
        assert response.context["form"].errors
        assert snapshot(paid_order) == before


class TestRefunding:
    @BOTH
    def test_some_units_then_the_rest_of_a_bank_transfer_order(self, kind, paid_order, product):
        client = acting(kind, "refund_order")
        s_line, _m_line = paid_order.lines.order_by("position")
        assert client.get(page(paid_order, "refund")).status_code == 200
        response = client.post(
            page(paid_order, "refund"),
            {"scope": "lines", "reason": "Two shirts damaged", f"line_{s_line.pk}": "2"},
        )
        assert response.status_code == 302
        paid_order.refresh_from_db()
        assert paid_order.refunded_total == Decimal("6.60")
        assert paid_order.state == OrderState.PAID
        s_line.refresh_from_db()
        assert s_line.refunded_quantity == 2
        first = Refund.objects.get(order=paid_order)
        assert (first.status, first.amount, first.created_by) == (
            Refund.Status.SUCCEEDED,
            Decimal("6.60"),
            client.user,
        )

        response = client.post(
            page(paid_order, "refund"), {"scope": "full", "reason": "Buyer withdrew"}
        )
        assert response.status_code == 302
        paid_order.refresh_from_db()
        assert paid_order.refunded_total == paid_order.grand_total
        assert paid_order.state == OrderState.REFUNDED
        last = Refund.objects.filter(order=paid_order).order_by("-pk").first()
        assert last.amount == paid_order.grand_total - Decimal("6.60")
        # Nothing had shipped: the stock is back.
        assert set(Variant.objects.filter(product=product).values_list("stock", flat=True)) == {
            1000
        }
        assert paid_order.events.filter(kind=OrderEvent.Kind.REFUND).count() == 2

    def test_more_units_than_are_left_is_refused_with_a_message(self, paid_order):
        client = acting("exact permissions", "refund_order")
        line = paid_order.lines.order_by("position").first()
        client.post(
            page(paid_order, "refund"),
            {"scope": "lines", "reason": "damaged", f"line_{line.pk}": "25"},
            follow=True,
        )
        before = snapshot(paid_order)
        response = client.post(
            page(paid_order, "refund"),
            {"scope": "lines", "reason": "damaged again", f"line_{line.pk}": "6"},
        )
        assert response.status_code == 200
        assert said(response) == [f"{line.sku}: only 5 units are left to refund."]
        assert snapshot(paid_order) == before

    def test_a_refunded_order_has_nothing_left_to_refund(self, paid_order):
        client = acting("exact permissions", "refund_order")
        client.post(page(paid_order, "refund"), {"scope": "full", "reason": "all"}, follow=True)
        before = snapshot(paid_order)
        response = client.post(page(paid_order, "refund"), {"scope": "full", "reason": "again"})
        assert said(response) == [f"Order {paid_order.number} is refunded: nothing to refund."]
        assert snapshot(paid_order) == before

    def test_an_unpaid_order_cannot_be_refunded(self, order):
        client = acting("exact permissions", "refund_order")
        before = snapshot(order)
        response = client.post(page(order, "refund"), {"scope": "full", "reason": "why"})
        assert said(response) == [f"Order {order.number} is awaiting payment: nothing to refund."]
        assert snapshot(order) == before

    @pytest.mark.parametrize("units", ["-1", "0.5", "1e3", "abc", "10" + "0" * 12, "31"])
    def test_bad_unit_counts_are_form_errors(self, paid_order, units):
        client = acting("exact permissions", "refund_order")
        line = paid_order.lines.first()
        before = snapshot(paid_order)
        response = client.post(
            page(paid_order, "refund"),
            {"scope": "lines", "reason": "damaged", f"line_{line.pk}": units},
        )
        assert response.status_code == 200
        assert response.context["form"].errors[f"line_{line.pk}"]
        assert snapshot(paid_order) == before

    def test_needs_a_reason_and_some_units(self, paid_order):
        client = acting("exact permissions", "refund_order")
        before = snapshot(paid_order)
        no_reason = client.post(page(paid_order, "refund"), {"scope": "full", "reason": ""})
        assert no_reason.context["form"].errors["reason"]
        no_units = client.post(page(paid_order, "refund"), {"scope": "lines", "reason": "x"})
        assert no_units.context["form"].non_field_errors()
        bad_scope = client.post(page(paid_order, "refund"), {"scope": "all", "reason": "x"})
        assert bad_scope.context["form"].errors["scope"]
        assert snapshot(paid_order) == before

    def test_a_line_of_another_order_is_ignored(self, paid_order, buyer, product):
        s, _m = product.variants.order_by("position")
        other = place_order(buyer, {s: 40})
        lifecycle.bank_transfer_confirm(order_id=other.pk, by=StaffFactory(), reference="T")
        foreign_line = other.lines.get()
        client = acting("exact permissions", "refund_order")
        before = snapshot(other), snapshot(paid_order)
        response = client.post(
            page(paid_order, "refund"),
            {"scope": "lines", "reason": "x", f"line_{foreign_line.pk}": "1"},
        )
        assert response.status_code == 200
        assert (snapshot(other), snapshot(paid_order)) == before

    @pytest.fixture
    def card_order(self, settings, buyer, product):
        """A card order paid at a fake Stripe (the library's HTTP layer, tests/stripe_fakes)."""
        with fake_stripe(settings) as fake:
            s, m = product.variants.order_by("position")
            order = place_order(buyer, {s: 30, m: 30}, payment_method=PaymentMethod.CARD)
            session_id = start_checkout(order)
            intent = fake.pay(session_id)
            lifecycle.payment_succeeded(
                order_id=order.pk,
                method=PaymentMethod.CARD,
                amount=order.money("grand_total"),
                provider_id=session_id,
                intent_id=intent["id"],
                actor_label="stripe",
            )
            order.refresh_from_db()
            order.fake = fake
            yield order

    def test_a_card_payment_is_refunded_at_stripe_by_line_then_in_full(self, card_order):
        fake = card_order.fake
        client = acting("exact permissions", "refund_order")
        line = card_order.lines.order_by("position").first()
        response = client.post(
            page(card_order, "refund"),
            {"scope": "lines", "reason": "damaged", f"line_{line.pk}": "2"},
            follow=True,
        )
        assert "Refund recorded" in " ".join(said(response))
        first = Refund.objects.get(order=card_order)
        (sent,) = fake.posts("/refunds")
        assert int(sent.data["amount"]) == int(line.unit_price * 2 * 100)
        assert sent.idempotency_key == first.idempotency_key
        assert (first.status, first.provider_id in fake.refunds) == (Refund.Status.SUCCEEDED, True)

        client.post(page(card_order, "refund"), {"scope": "full", "reason": "all"})
        card_order.refresh_from_db()
        assert card_order.state == OrderState.REFUNDED
        assert card_order.refunded_total == card_order.grand_total
        (charge,) = fake.charges.values()
        assert charge["refunded"] is True

    def test_a_refund_stripe_refuses_is_a_message_and_is_undone(self, card_order):
        card_order.fake.refund_in_dashboard(card_order.payments.get().intent_id)
        client = acting("exact permissions", "refund_order")
        response = client.post(page(card_order, "refund"), {"scope": "full", "reason": "again"})
        assert response.status_code == 200
        (message,) = said(response)
        assert "failed at the payment provider" in message
        card_order.refresh_from_db()
        assert (card_order.state, card_order.refunded_total) == (OrderState.PAID, Decimal(0))
        assert Refund.objects.get(order=card_order).status == Refund.Status.FAILED


class TestChangingTheState:
    @BOTH
    def test_moves_the_order_and_writes_who_and_why(self, kind, paid_order):
        client = staff_with(superuser=True) if kind == "superuser" else staff_with("change_order")
        response = client.post(
            page(paid_order, "state"), {"to_state": "processing", "reason": "Picking started"}
        )
        assert response.status_code == 302
        paid_order.refresh_from_db()
        assert paid_order.state == OrderState.PROCESSING
        event = paid_order.events.get(to_state=OrderState.PROCESSING)
        assert (event.from_state, event.actor, event.reason) == (
            OrderState.PAID,
            client.user,
            "Picking started",
        )

    def test_offers_only_the_moves_staff_may_make(self, paid_order):
        client = staff_with("change_order")

        def offered():
            form = client.get(page(paid_order, "state")).context["form"]
            return [value for value, _label in form.fields["to_state"].choices]

        assert offered() == ["processing", "disputed"]
        client.post(page(paid_order, "state"), {"to_state": "disputed", "reason": "Chargeback"})
        assert offered() == ["processing", "shipped", "delivered", "completed"]
        client.post(page(paid_order, "state"), {"to_state": "shipped", "reason": "Resolved"})
        paid_order.refresh_from_db()
        assert paid_order.state == OrderState.SHIPPED
        assert offered() == ["delivered", "completed", "disputed"]

    @pytest.mark.parametrize("to_state", ["refunded", "cancelled", "paid", "pending_payment", "x"])
    def test_a_move_not_offered_is_a_form_error(self, paid_order, to_state):
        client = staff_with("change_order")
        before = snapshot(paid_order)
        response = client.post(page(paid_order, "state"), {"to_state": to_state, "reason": "r"})
        assert response.status_code == 200
        assert response.context["form"].errors["to_state"]
        assert snapshot(paid_order) == before

    def test_an_unpaid_order_offers_nothing_and_says_so(self, order):
        client = staff_with("change_order")
        response = client.get(page(order, "state"))
        assert response.status_code == 200
        assert response.context["form"].fields["to_state"].choices == []
        assert said(response) == [
            f"Order {order.number} is awaiting payment: staff cannot change its state by hand."
        ]

    def test_needs_a_reason(self, paid_order):
        client = staff_with("change_order")
        before = snapshot(paid_order)
        response = client.post(page(paid_order, "state"), {"to_state": "processing"})
        assert response.context["form"].errors["reason"]
        assert snapshot(paid_order) == before


class TestStaffWithoutThePermission:
    CRAFTED = {
        "confirm-transfer": ("confirm_payment", {"reference": "forged"}),
        "refund": ("refund_order", {"scope": "full", "reason": "forged"}),
        "ship": ("ship_order", {"carrier": "DHL", "tracking_number": "FORGED1"}),
        "state": ("change_order", {"to_state": "disputed", "reason": "forged"}),
    }

    def test_a8_crafted_posts_are_refused_and_change_nothing(self, paid_order, buyer):
        unpaid = place_order(buyer, {Variant.objects.order_by("pk").first(): 40})
        statuses = []
        changed = 0
        for action, (permission, data) in self.CRAFTED.items():
            target = unpaid if action == "confirm-transfer" else paid_order
            others = [name for name in ACTION_PERMISSIONS if name != permission]
            for client in (staff_with("view_order"), staff_with("view_order", *others)):
                before = snapshot(target)
                response = client.post(page(target, action), data)
                statuses.append(response.status_code)
                changed += snapshot(target) != before
                assert client.get(page(target, action)).status_code == 403
        # Field-level: nobody edits amounts, lines, owner or state through the change form.
        superuser = staff_with(superuser=True)
        before = snapshot(paid_order)
        response = superuser.post(
            f"{CHANGELIST}{paid_order.pk}/change/",
            {
                "grand_total": "0.01",
                "member": superuser.user.pk,
                "state": "completed",
                "lines-0-unit_price": "0.01",
                "_save": "Save",
            },
        )
        statuses.append(response.status_code)
        changed += snapshot(paid_order) != before
        print(
            f"A8: {len(statuses)} crafted POSTs (confirm, refund, ship, change state without the "
            f"permission; a direct edit of the order) -> statuses {sorted(set(statuses))}, "
            f"rows changed {changed}"
        )
        assert statuses == [403] * len(statuses)
        assert changed == 0

    def test_a_distributor_is_sent_to_the_login(self, paid_order, buyer_client):
        before = snapshot(paid_order)
        response = buyer_client.post(page(paid_order, "refund"), {"scope": "full", "reason": "x"})
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
        assert snapshot(paid_order) == before

    def test_the_action_permission_without_the_view_permission_is_not_enough(self, order):
        client = staff_with("confirm_payment")
        before = snapshot(order)
        response = client.post(page(order, "confirm-transfer"), {"reference": "TT"})
        assert response.status_code == 403
        assert snapshot(order) == before
