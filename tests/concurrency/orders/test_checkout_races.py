"""Placing orders at the same moment, on the real PostgreSQL (RELIABILITY L1, L2, L3, L6, F8,
with the N1 reconciliation after each): one database connection per thread, closed when the
thread ends, all threads released together by a Barrier.

Run with -s to see the figures each test reports.
"""

from __future__ import annotations

import random
import re
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, connections
from django.db.models import Sum
from django.test import Client

from catalog.models import StockMovement, Variant
from orders import checkout, lifecycle
from orders.checkout import order_place
from orders.models import Order, OrderEvent, OrderState, Payment
from orders.reconcile import reconcile
from orders.services import cart_add_lines
from tests.factories import (
    AddressFactory,
    DistributorFactory,
    ProductFactory,
    ShippingRateFactory,
    StaffFactory,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

Reason = StockMovement.Reason
DEADLOCK = "40P01"


@pytest.fixture(autouse=True)
def _quick(settings):
    """Let one unit make an order."""
    settings.WHOLESALE_MIN_ORDER_AMOUNT = 0


@dataclass
class Outcomes:
    """What each thread ended with: "placed", "refused", "deadlock" or "error"."""

    kinds: Counter = field(default_factory=Counter)
    values: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)


def sqlstate(error: BaseException) -> str | None:
    cause = error.__cause__ or error
    return getattr(cause, "sqlstate", None) or getattr(getattr(cause, "diag", None), "sqlstate", "")


def run_together(count: int, work, *, refused=lambda error: False) -> Outcomes:
    """Run work(index) in `count` threads released at the same moment. `refused(error)` says
    which ValidationErrors are the clean refusal the test expects; any other is an error."""
    barrier = threading.Barrier(count)
    outcomes = Outcomes()
    lock = threading.Lock()

    def thread(index):
        kind, value = "error", None
        try:
            barrier.wait(timeout=30)
            value = work(index)
            kind = "placed"
        except ValidationError as error:
            kind, value = ("refused" if refused(error) else "error"), error
        except DatabaseError as error:
            kind, value = ("deadlock" if sqlstate(error) == DEADLOCK else "error"), error
        except Exception as error:
            value = error
        finally:
            connections.close_all()
        with lock:
            outcomes.kinds[kind] += 1
            outcomes.values[index] = value
            if kind == "error":
                outcomes.errors.append(repr(value))

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return outcomes


def out_of_stock(*skus: str):
    """A refusal naming only the given SKUs: the cart check ("S is out of stock", "Only 3 of S
    in stock") or the locked take ("Only 0 left of S")."""

    def check(error: ValidationError) -> bool:
        return bool(error.messages) and all(
            any(sku in message for sku in skus) for message in error.messages
        )

    return check


@dataclass
class Buyer:
    member: object
    address_id: int


def a_buyer(cart: list[tuple[Variant, int]]) -> Buyer:
    """An approved distributor with an address and `cart` ([(variant, units)], added in that
    order, one product at a time)."""
    member = DistributorFactory().user
    for variant, units in cart:
        cart_add_lines(
            member=member, product_slug=variant.product.slug, quantities={variant.pk: units}
        )
    return Buyer(member, AddressFactory(member=member).pk)


def place(buyer: Buyer, *, checkout_key=None, payment_method="bank_transfer") -> Order:
    return order_place(
        member=buyer.member,
        checkout_key=checkout_key or uuid.uuid4(),
        address_id=buyer.address_id,
        method_code="express",
        payment_method=payment_method,
    )


def a_variant(stock: int) -> Variant:
    return ProductFactory(variants=["S"], variants__stock=stock).variants.get()


def stock_of(variant) -> int:
    return Variant.objects.values_list("stock", flat=True).get(pk=variant.pk)


def assert_reconciled():
    """N1 (and N3, N4): stock, orders, payments and history add up."""
    found = reconcile()
    print(
        f"N1: {len(found['stock'])} problems, N3: {len(found['payments'])}, "
        f"N4: {len(found['audit'])}"
    )
    problems = [p for kind in found.values() for p in kind]
    assert problems == [], "\n".join(map(str, problems))


@pytest.fixture
def express():
    return ShippingRateFactory()


class TestTheLastUnits:
    """L1: K units, many buyers at once: exactly K sold, the rest refused cleanly."""

    def test_five_units_fifty_buyers(self, express):
        variant = a_variant(stock=5)
        buyers = [a_buyer([(variant, 1)]) for _ in range(50)]

        outcomes = run_together(50, lambda i: place(buyers[i]), refused=out_of_stock(variant.sku))

        orders = Order.objects.count()
        final = stock_of(variant)
        print(
            f"\nL1: orders={orders} stock={final} refused={outcomes.kinds['refused']} "
            f"errors={len(outcomes.errors)}"
        )
        assert outcomes.errors == []
        assert (orders, outcomes.kinds["placed"], outcomes.kinds["refused"]) == (5, 5, 45)
        assert final == 0
        assert_reconciled()

    def test_random_quantities_never_oversell(self, express):
        stock = 20
        variant = a_variant(stock=stock)
        wanted = [random.Random(11 + i).randint(1, 10) for i in range(30)]
        buyers = [a_buyer([(variant, units)]) for units in wanted]

        outcomes = run_together(30, lambda i: place(buyers[i]), refused=out_of_stock(variant.sku))

        final = stock_of(variant)
        sold = -(
            StockMovement.objects.filter(variant=variant, reason=Reason.ORDER).aggregate(
                units=Sum("delta")
            )["units"]
            or 0
        )
        on_orders = sum(
            line.quantity for order in Order.objects.all() for line in order.lines.all()
        )
        print(
            f"\nL1 random: orders={Order.objects.count()} sold={sold} of K={stock} "
            f"stock={final} refused={outcomes.kinds['refused']} errors={len(outcomes.errors)}"
        )
        assert outcomes.errors == []
        assert outcomes.kinds["placed"] + outcomes.kinds["refused"] == 30
        assert 0 < sold <= stock
        assert sold == stock - final == on_orders
        assert_reconciled()


class TestNoDeadlock:
    """L2: carts holding A and B added in opposite orders: locks in pk order, no deadlock."""

    def test_opposite_line_orders(self, express):
        a = a_variant(stock=100)
        b = a_variant(stock=10)
        buyers = [a_buyer([(a, 1), (b, 1)] if i % 2 else [(b, 1), (a, 1)]) for i in range(20)]

        outcomes = run_together(20, lambda i: place(buyers[i]), refused=out_of_stock(a.sku, b.sku))

        print(
            f"\nL2: deadlocks={outcomes.kinds['deadlock']} orders={Order.objects.count()} "
            f"refused={outcomes.kinds['refused']} errors={len(outcomes.errors)} "
            f"A 100→{stock_of(a)} B 10→{stock_of(b)}"
        )
        assert outcomes.kinds["deadlock"] == 0
        assert outcomes.errors == []
        assert (outcomes.kinds["placed"], outcomes.kinds["refused"]) == (10, 10)
        assert (stock_of(a), stock_of(b)) == (90, 0)
        assert_reconciled()


class TestOneOrderPerCart:
    """L3 (the orders half): double submits and two tabs place one order."""

    def test_ten_submits_of_one_form(self, express):
        variant = a_variant(stock=100)
        buyer = a_buyer([(variant, 30)])
        key = uuid.uuid4()

        outcomes = run_together(10, lambda i: place(buyer, checkout_key=key))

        orders = Order.objects.filter(member=buyer.member)
        numbers = {order.number for order in outcomes.values.values() if isinstance(order, Order)}
        print(
            f"\nL3 same key: orders={orders.count()} answers={outcomes.kinds['placed']} "
            f"payments={Payment.objects.count()} errors={len(outcomes.errors)}"
        )
        assert outcomes.errors == []
        assert outcomes.kinds["placed"] == 10
        assert orders.count() == 1
        assert numbers == {orders.get().number}
        assert Payment.objects.filter(order=orders.get()).count() == 1
        assert stock_of(variant) == 70
        assert_reconciled()

    def test_two_tabs(self, express):
        variant = a_variant(stock=100)
        buyer = a_buyer([(variant, 30)])
        keys = [uuid.uuid4(), uuid.uuid4()]

        outcomes = run_together(
            2,
            lambda i: place(buyer, checkout_key=keys[i]),
            refused=lambda error: "Your cart is empty." in error.messages,
        )

        orders = Order.objects.filter(member=buyer.member)
        print(
            f"\nL3 two tabs: orders={orders.count()} refused={outcomes.kinds['refused']} "
            f"errors={len(outcomes.errors)}"
        )
        assert outcomes.errors == []
        assert (outcomes.kinds["placed"], outcomes.kinds["refused"]) == (1, 1)
        assert orders.count() == 1
        assert stock_of(variant) == 70
        assert_reconciled()


def review_form(client: Client) -> dict[str, str]:
    """The review page's form as a browser posts it to place the order, defaults ticked."""
    html = client.get("/checkout/review/").content.decode()
    data = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    for name in ("shipping_method", "payment_method"):
        data[name] = re.findall(rf'name="{name}" value="([^"]*)" checked', html)[0]
    if re.search(r'name="insured"[^>]* checked', html):
        data["insured"] = "1"
    data.pop("csrfmiddlewaretoken", None)
    return {**data, "action": "place"}


def posted_together(client: Client, forms: list[dict]) -> Outcomes:
    """Each form posted at once from its own tab of the same session (the same cookies)."""

    def post(i):
        tab = Client()
        tab.cookies = client.cookies
        response = tab.post("/checkout/review/", forms[i])
        if response.status_code >= 500:
            raise RuntimeError(f"{response.status_code} from the checkout")
        return response

    return run_together(len(forms), post)


class TestOneOrderPerCartThroughThePages:
    """L3 through the checkout pages: POST "Place order" 10 times at once, and from 2 tabs."""

    def a_buyer_on_the_review_page(self) -> tuple[Buyer, Client, Variant]:
        variant = a_variant(stock=100)
        buyer = a_buyer([(variant, 30)])
        client = Client()
        client.force_login(buyer.member)
        response = client.post("/checkout/", {"address": str(buyer.address_id)})
        assert response.status_code == 302, response.content.decode()[:1000]
        return buyer, client, variant

    def test_ten_posts_of_one_form(self, express):
        buyer, client, variant = self.a_buyer_on_the_review_page()
        form = review_form(client)

        outcomes = posted_together(client, [form] * 10)

        order = Order.objects.get(member=buyer.member)
        statuses = Counter(r.status_code for r in outcomes.values.values() if hasattr(r, "url"))
        landed = {r.url for r in outcomes.values.values() if hasattr(r, "url")}
        print(
            f"\nL3 pages, 10 posts: orders={Order.objects.count()} statuses={dict(statuses)} "
            f"payments={order.payments.count()} errors={len(outcomes.errors)}"
        )
        assert outcomes.errors == []
        assert statuses == Counter({302: 10})
        assert landed == {order.get_absolute_url()}
        assert order.payments.count() == 1
        assert stock_of(variant) == 70
        assert_reconciled()

    def test_two_tabs_with_their_own_forms(self, express):
        buyer, client, variant = self.a_buyer_on_the_review_page()
        tabs = [review_form(client), review_form(client)]
        assert tabs[0]["checkout_key"] != tabs[1]["checkout_key"]

        outcomes = posted_together(client, tabs)

        statuses = [r.status_code for r in outcomes.values.values() if hasattr(r, "url")]
        print(
            f"\nL3 pages, 2 tabs: orders={Order.objects.count()} statuses={statuses} "
            f"errors={len(outcomes.errors)}"
        )
        assert outcomes.errors == []
        assert statuses == [302, 302]
        assert Order.objects.filter(member=buyer.member).count() == 1
        assert stock_of(variant) == 70
        assert_reconciled()


class TestConfirmAgainstExpiry:
    """L6: finance confirms a transfer while the expiry job cancels the overdue order."""

    def test_one_terminal_outcome_each_time(self, express, settings):
        settings.WHOLESALE_UNPAID_TRANSFER_HOURS = 0  # overdue the moment it is placed
        finance = StaffFactory()
        finance.user_permissions.add(
            Permission.objects.get(codename="confirm_payment", content_type__app_label="orders")
        )
        variant = a_variant(stock=100)
        tally = Counter()
        for run in range(20):
            order = place(a_buyer([(variant, 2)]))

            def work(i, order_id=order.pk):
                if i == 0:
                    return lifecycle.bank_transfer_confirm(
                        order_id=order_id, by=finance, reference=f"TT-{order_id}"
                    )
                return lifecycle.orders_expire_unpaid()

            outcomes = run_together(
                2, work, refused=lambda error: isinstance(error, lifecycle.TransitionRefused)
            )

            order.refresh_from_db()
            releases = StockMovement.objects.filter(
                reason=Reason.ORDER_CANCELLED, reference=f"order:{order.number}"
            ).count()
            history = list(
                OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.TRANSITION).values_list(
                    "from_state", "to_state"
                )
            )
            tally[order.state] += 1
            tally["releases"] += releases
            assert outcomes.errors == [], run
            if order.state == OrderState.PAID:
                assert outcomes.values[1] == 0  # the expiry found it paid and let it be
                assert releases == 0
                assert history == [(OrderState.PENDING_PAYMENT, OrderState.PAID)]
            else:
                assert order.state == OrderState.CANCELLED
                assert isinstance(outcomes.values[0], lifecycle.TransitionRefused)
                assert outcomes.values[1] == 1
                assert releases == 1
                assert history == [(OrderState.PENDING_PAYMENT, OrderState.CANCELLED)]
                assert not Payment.objects.filter(
                    order=order, status=Payment.Status.SUCCEEDED
                ).exists()

        print(
            f"\nL6: runs=20 paid={tally[OrderState.PAID]} cancelled={tally[OrderState.CANCELLED]} "
            f"stock releases={tally['releases']}"
        )
        assert tally[OrderState.PAID] + tally[OrderState.CANCELLED] == 20
        assert tally["releases"] == tally[OrderState.CANCELLED]
        assert stock_of(variant) == 100 - 2 * tally[OrderState.PAID]
        assert_reconciled()


class TestConnectionLostMidCheckout:
    """F8: the placing connection dies after the stock is taken, before the order is complete."""

    def test_all_or_nothing(self, express, monkeypatch):
        variant = a_variant(stock=10)
        buyer = a_buyer([(variant, 4)])
        key = uuid.uuid4()
        taken, killed = threading.Event(), threading.Event()
        backend = {}
        real_stock_take = checkout.stock_take

        def stock_take_then_wait(**kwargs):
            movements = real_stock_take(**kwargs)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend["pid"] = cursor.fetchone()[0]
            taken.set()
            killed.wait(timeout=30)
            return movements

        monkeypatch.setattr(checkout, "stock_take", stock_take_then_wait)
        failure = {}

        def placing():
            try:
                place(buyer, checkout_key=key)
            except Exception as error:
                failure["error"] = error
            finally:
                connections.close_all()

        thread = threading.Thread(target=placing)
        thread.start()
        assert taken.wait(timeout=30), "the checkout never reached the stock"
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend["pid"]])
            assert cursor.fetchone()[0] is True
        killed.set()
        thread.join(timeout=30)
        monkeypatch.undo()

        orders = Order.objects.count()
        movements = StockMovement.objects.filter(variant=variant, reason=Reason.ORDER).count()
        print(
            f"\nF8: error={type(failure.get('error')).__name__} orders={orders} "
            f"order movements={movements} stock={stock_of(variant)} "
            f"cart lines={buyer.member.cart.lines.count()}"
        )
        assert isinstance(failure.get("error"), DatabaseError)
        assert (orders, movements, stock_of(variant)) == (0, 0, 10)
        assert buyer.member.cart.lines.count() == 1  # the cart is still there to retry
        assert_reconciled()

        # The buyer submits the same form again: the order is placed, once, whole.
        order = place(buyer, checkout_key=key)
        assert stock_of(variant) == 6
        assert order.lines.get().quantity == 4
        assert Payment.objects.filter(order=order).count() == 1
        assert_reconciled()
