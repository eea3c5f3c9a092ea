"""The daily rollups (analytics.rollups): figures worked out by hand from a small history, a
rerun that changes nothing, a late refund or cancellation that rebuilds the day it was paid on
(and the day it was placed on, with the search window before it), views and cart additions
from the shop's pages landing in the activity table, the searches and payments rollups, the
beat task and the command, and two refreshes at once on PostgreSQL."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from analytics import rollups
from analytics.models import (
    PaymentDay,
    ProductActivityDay,
    ProductSalesDay,
    ProductSalesMonth,
    RollupRun,
    SearchDay,
    VariantSalesDay,
    VariantSalesMonth,
)
from analytics.tasks import rollups_refresh_task
from catalog.models import CartAddition, ProductView, SearchLog
from catalog.services import catalog_events_flush
from members.models import Level
from orders import lifecycle
from orders.models import Order, OrderLine, OrderState, Payment
from staff import roles
from tests.analytics_helpers import TODAY, a_buyer, a_sale, day
from tests.factories import CategoryFactory, DistributorFactory, ProductFactory, StaffFactory
from tests.integration.staff.helpers import in_role, salesperson

NOW = day(0, hour=18)  # "today" for the refreshes: TODAY, 30 June 2026


def sales_rows() -> set[tuple]:
    return set(
        ProductSalesDay.objects.values_list(
            "day",
            "product_id",
            "category_id",
            "country",
            "salesperson_id",
            "level_id",
            "units",
            "revenue",
            "orders",
        )
    )


def activity_rows() -> set[tuple]:
    return set(ProductActivityDay.objects.values_list("day", "product_id", "views", "cart_adds"))


def on(offset: int):
    return TODAY - timedelta(days=offset)


@pytest.fixture
def shop(db):
    lily = in_role(salesperson("Lily").user, roles.SALES)
    kevin = in_role(salesperson("Kevin").user, roles.SALES)
    bags = CategoryFactory(name="Bags")
    totes = CategoryFactory(name="Totes", parent=bags)
    tote = ProductFactory(category=totes, variants=["S", "M"])
    clutch = ProductFactory(category=bags, variants=["One"])
    return {
        "lily": lily,
        "kevin": kevin,
        "gold": Level.objects.get(name="Gold"),
        "tote": tote,
        "tote_s": tote.variants.get(option1="S"),
        "tote_m": tote.variants.get(option1="M"),
        "clutch": clutch,
        "clutch_one": clutch.variants.get(),
        "ana": a_buyer(country="DE", owner=lily, level="Gold"),
        "bob": a_buyer(country="FR", owner=kevin),
    }


@pytest.fixture
def history(shop):
    s = shop
    # Day 2: Ana buys totes in two sizes and a clutch, then more small totes; Bob buys totes
    # and sends 4 of his 10 back.
    a_sale(s["ana"], {s["tote_s"]: (10, "4.00"), s["tote_m"]: (5, "4.00")}, paid_at=day(2))
    a_sale(s["ana"], {s["clutch_one"]: (2, "10.00")}, paid_at=day(2, hour=9))
    a_sale(s["ana"], {s["tote_s"]: (5, "4.00")}, paid_at=day(2, hour=15))
    bob_order = a_sale(s["bob"], {s["tote_s"]: (10, "3.00")}, paid_at=day(2))
    OrderLine.objects.filter(order=bob_order).update(refunded_quantity=4)
    # Day 40: one more.
    a_sale(s["bob"], {s["clutch_one"]: (1, "12.50")}, paid_at=day(40))
    # Not sales: unpaid, cancelled, refunded as a whole; and a line given back in full.
    a_sale(s["bob"], {s["tote_s"]: (99, "1.00")}, paid_at=None, state=OrderState.PENDING_PAYMENT)
    a_sale(s["bob"], {s["tote_s"]: (99, "1.00")}, paid_at=day(3), state=OrderState.CANCELLED)
    a_sale(s["bob"], {s["tote_s"]: (99, "1.00")}, paid_at=day(3), state=OrderState.REFUNDED)
    whole = a_sale(s["ana"], {s["clutch_one"]: (3, "10.00")}, paid_at=day(5))
    OrderLine.objects.filter(order=whole).update(refunded_quantity=3)
    # Views and cart additions.
    ProductView.objects.bulk_create(
        [ProductView(product=s["tote"], viewed_at=day(2)) for _ in range(3)]
        + [ProductView(product=s["clutch"], viewed_at=day(5))]
    )
    CartAddition.objects.bulk_create(
        [CartAddition(product=s["tote"], added_at=day(2)) for _ in range(2)]
        + [CartAddition(product=s["clutch"], added_at=day(3))]
    )
    # Written long before the refreshes below, as a shop's history is.
    Order.objects.update(updated_at=timezone.now() - timedelta(hours=3))
    return s


def expected_sales(s) -> set[tuple]:
    tote, clutch = s["tote"], s["clutch"]
    gold, lily, kevin = s["gold"].pk, s["lily"].pk, s["kevin"].pk
    return {
        # 10 + 5 + 5 totes at 4.00 in two orders.
        (on(2), tote.pk, tote.category_id, "DE", lily, gold, 20, Decimal("80.00"), 2),
        (on(2), clutch.pk, clutch.category_id, "DE", lily, gold, 2, Decimal("20.00"), 1),
        # 10 − 4 refunded at 3.00.
        (on(2), tote.pk, tote.category_id, "FR", kevin, None, 6, Decimal("18.00"), 1),
        (on(40), clutch.pk, clutch.category_id, "FR", kevin, None, 1, Decimal("12.50"), 1),
    }


@pytest.mark.django_db
class TestRefreshing:
    def test_builds_the_figures_worked_out_by_hand(self, history):
        run = rollups.rollups_refresh(now=NOW)

        assert sales_rows() == expected_sales(history)
        tote, clutch = history["tote"].pk, history["clutch"].pk
        assert activity_rows() == {
            (on(2), tote, 3, 2),
            (on(3), clutch, 0, 1),
            (on(5), clutch, 1, 0),
        }
        # Per variant: Ana's small and medium totes apart, the same groups otherwise.
        tote_s, tote_m = history["tote_s"].pk, history["tote_m"].pk
        clutch_one, gold = history["clutch_one"].pk, history["gold"].pk
        lily, kevin = history["lily"].pk, history["kevin"].pk
        assert set(
            VariantSalesDay.objects.values_list(
                "day",
                "variant_id",
                "country",
                "salesperson_id",
                "level_id",
                "units",
                "revenue",
                "orders",
            )
        ) == {
            (on(2), tote_s, "DE", lily, gold, 15, Decimal("60.00"), 2),
            (on(2), tote_m, "DE", lily, gold, 5, Decimal("20.00"), 1),
            (on(2), clutch_one, "DE", lily, gold, 2, Decimal("20.00"), 1),
            (on(2), tote_s, "FR", kevin, None, 6, Decimal("18.00"), 1),
            (on(40), clutch_one, "FR", kevin, None, 1, Decimal("12.50"), 1),
        }
        # The months sum every buyer group's days: Ana's and Eve's small totes together.
        june, may = TODAY.replace(day=1), on(40).replace(day=1)
        tote, clutch = history["tote"].pk, history["clutch"].pk
        assert set(
            VariantSalesMonth.objects.values_list(
                "month", "variant_id", "units", "revenue", "orders"
            )
        ) == {
            (june, tote_s, 21, Decimal("78.00"), 3),
            (june, tote_m, 5, Decimal("20.00"), 1),
            (june, clutch_one, 2, Decimal("20.00"), 1),
            (may, clutch_one, 1, Decimal("12.50"), 1),
        }
        assert set(
            ProductSalesMonth.objects.values_list("month", "product_id", "units", "orders")
        ) == {(june, tote, 26, 3), (june, clutch, 2, 1), (may, clutch, 1, 1)}
        # The first run covers every day from the earliest sale to today.
        assert (run.first_day, run.last_day, run.days) == (on(40), TODAY, 41)
        # Products, variants, buyers per category, activity, payments per placing day (see
        # below), then product and variant months.
        assert run.rows == 4 + 5 + 5 + 3 + 5 + 3 + 4
        assert run.finished_at >= run.started_at

    def test_a_rerun_writes_the_same_rows(self, history):
        rollups.rollups_refresh(now=NOW)
        first = (sales_rows(), activity_rows())
        rollups.rollups_refresh(now=NOW, days=[on(2), on(3), on(40)])
        rollups.rollups_refresh(now=NOW)
        assert (sales_rows(), activity_rows()) == first
        assert ProductSalesDay.objects.count() == 4
        assert RollupRun.objects.filter(finished_at__isnull=False).count() == 3

    def test_a_later_run_rebuilds_only_what_changed(self, history):
        rollups.rollups_refresh(now=NOW)
        # An hour later nothing changed: only the days from the last run's last day on.
        run = rollups.rollups_refresh(now=NOW)
        assert (run.days, run.first_day, run.last_day) == (1, TODAY, TODAY)

    def test_a_late_refund_rebuilds_the_day_it_was_paid_on(self, history):
        rollups.rollups_refresh(now=NOW)
        order = history["bob"].orders.get(paid_at=day(40))
        Payment.objects.create(
            order=order,
            method="bank_transfer",
            status=Payment.Status.SUCCEEDED,
            amount=order.grand_total,
            currency=order.currency,
        )
        # Refunded in full, months later: the order is refunded and no longer a sale.
        lifecycle.refund_create(order_id=order.pk, by=StaffFactory(), reason="damaged")

        run = rollups.rollups_refresh(now=NOW)

        # The day it was paid and placed on, the eight days before (searches it may have
        # followed), and today (the last run's last day).
        assert (run.days, run.first_day, run.last_day) == (10, on(48), TODAY)
        assert not ProductSalesDay.objects.filter(day=on(40)).exists()
        assert ProductSalesDay.objects.filter(day=on(2)).count() == 3  # untouched

    def test_a_partial_refund_rebuilds_its_day_though_the_order_row_is_not_saved(self, history):
        rollups.rollups_refresh(now=NOW)
        order = history["ana"].orders.get(paid_at=day(2), lines__variant=history["tote_m"])
        Payment.objects.create(
            order=order,
            method="bank_transfer",
            status=Payment.Status.SUCCEEDED,
            amount=order.grand_total,
            currency=order.currency,
        )
        line = order.lines.get(variant=history["tote_m"])
        lifecycle.refund_create(
            order_id=order.pk, by=StaffFactory(), reason="two faulty", lines={line.pk: 2}
        )

        run = rollups.rollups_refresh(now=NOW)

        assert (run.days, run.first_day, run.last_day) == (10, on(10), TODAY)
        row = ProductSalesDay.objects.get(day=on(2), product=history["tote"], country="DE")
        assert (row.units, row.revenue, row.orders) == (18, Decimal("72.00"), 2)

    def test_a_cancelled_order_leaves_its_day(self, history):
        rollups.rollups_refresh(now=NOW)
        order = history["ana"].orders.get(paid_at=day(2, hour=9))
        order.state = OrderState.CANCELLED
        order.save()

        rollups.rollups_refresh(now=NOW)

        assert not ProductSalesDay.objects.filter(product=history["clutch"], day=on(2)).exists()

    def test_orders_and_payments_per_placing_day_method_currency_and_country(self, history):
        ana_orders = history["ana"].orders
        by_card = ana_orders.get(paid_at=day(2, hour=9))
        Order.objects.filter(pk=by_card.pk).update(payment_method="card", currency="EUR")
        for order, method, status in [
            (by_card, "bank_transfer", Payment.Status.CANCELLED),  # tried first, dropped
            (by_card, "card", Payment.Status.SUCCEEDED),
            (ana_orders.get(paid_at=day(2, hour=15)), "bank_transfer", Payment.Status.FAILED),
        ]:
            Payment.objects.create(
                order=order, method=method, status=status, amount=1, currency=order.currency
            )

        rollups.rollups_refresh(now=NOW)

        assert set(
            PaymentDay.objects.values_list(
                "day",
                "method",
                "currency",
                "country",
                "orders",
                "paid",
                "revenue",
                "payments",
                "succeeded",
                "failed",
            )
        ) == {
            # Ana: the totes (60) and the small totes (20) by transfer, the clutch (20) by
            # card in euros, whose transfer attempt counts under the transfer in euros.
            (on(2), "bank_transfer", "USD", "DE", 2, 2, Decimal("80.00"), 1, 0, 1),
            (on(2), "card", "EUR", "DE", 1, 1, Decimal("20.00"), 1, 1, 0),
            (on(2), "bank_transfer", "EUR", "DE", 0, 0, Decimal("0.00"), 1, 0, 0),
            # Bob: his totes (30; the lines' refund did not touch the order's total), the
            # cancelled and the wholly refunded orders (no sales), and the clutch in May.
            (on(2), "bank_transfer", "USD", "FR", 1, 1, Decimal("30.00"), 0, 0, 0),
            (on(3), "bank_transfer", "USD", "FR", 2, 0, Decimal("0.00"), 0, 0, 0),
            (on(40), "bank_transfer", "USD", "FR", 1, 1, Decimal("12.50"), 0, 0, 0),
            # Ana's clutches given back line by line: still a sale of its order's total.
            (on(5), "bank_transfer", "USD", "DE", 1, 1, Decimal("30.00"), 0, 0, 0),
        }

    def test_searches_per_term_and_searcher_with_those_followed_by_a_sale(self, history):
        ana, bob = history["ana"], history["bob"]
        for term, results, member, session, at in [
            ("tote", 4, ana, "a1", day(4)),  # Ana's sales two days later: ordered
            ("tote", 4, ana, "a2", day(4, hour=13)),  # her second session: the same row
            ("tote", 4, None, "v1", day(4)),  # a visitor, by their session
            ("silk", 0, bob, "b1", day(5)),  # Bob's sale three days later
            ("silk", 0, bob, "b1", day(12)),  # ten days before it: too early
            ("silk", 0, None, "", day(12)),  # nobody known
        ]:
            SearchLog.objects.create(
                term=term, results=results, member=member, session_key=session, searched_at=at
            )

        rollups.rollups_refresh(now=NOW)

        fields = ("day", "term", "member_id", "session_key", "searches", "no_results", "ordered")
        assert set(SearchDay.objects.values_list(*fields)) == {
            (on(4), "tote", ana.pk, "", 2, 0, 2),
            (on(4), "tote", None, "v1", 1, 0, 0),
            (on(5), "silk", bob.pk, "", 1, 1, 1),
            (on(12), "silk", bob.pk, "", 1, 1, 0),
            (on(12), "silk", None, "", 1, 1, 0),
        }

        # Bob's order is cancelled weeks later: the next refresh finds his search no longer
        # followed by a sale, though it was made on a day before the order.
        order = bob.orders.get(placed_at=day(2))
        order.state = OrderState.CANCELLED
        order.save()
        run = rollups.rollups_refresh(now=NOW)

        assert on(5) in [run.first_day + timedelta(days=n) for n in range(run.days)]
        assert SearchDay.objects.get(day=on(5), term="silk").ordered == 0
        assert SearchDay.objects.get(day=on(4), term="tote", member_id=ana.pk).ordered == 2

    def test_days_with_nothing_left_are_emptied(self, history):
        rollups.rollups_refresh(now=NOW)
        ProductView.objects.filter(viewed_at=day(5)).delete()
        rollups.rollups_refresh(now=NOW, days=[on(5)])
        assert not ProductActivityDay.objects.filter(day=on(5)).exists()

    def test_nothing_to_build_records_an_empty_run(self, db):
        run = rollups.rollups_refresh(now=NOW)
        assert (run.days, run.rows, run.first_day) == (0, 0, None)
        assert run.finished_at is not None


@pytest.mark.django_db
class TestEventsLand:
    def test_a_page_view_and_a_cart_addition_reach_the_activity_table(self, client):
        product = ProductFactory(variants=["S"])
        variant = product.variants.get()
        client.force_login(DistributorFactory().user)
        assert client.get(product.get_absolute_url()).status_code == 200
        client.get(product.get_absolute_url())
        response = client.post(f"/cart/add/{product.slug}/", {f"qty_{variant.pk}": "10"})
        assert response.status_code == 302
        catalog_events_flush()  # the beat job that moves buffered events into the database

        rollups.rollups_refresh()

        row = ProductActivityDay.objects.get(product=product)
        assert (row.views, row.cart_adds) == (2, 1)


@pytest.mark.django_db
class TestOnDemand:
    def test_the_beat_task_refreshes(self, history):
        rollups_refresh_task.delay()
        assert ProductSalesDay.objects.filter(day=on(2)).count() == 3
        assert RollupRun.objects.get().finished_at is not None
        ProductSalesDay.objects.all().delete()
        rollups_refresh_task.delay(all_days=True)
        assert sales_rows() == expected_sales(history)

    def test_the_command_rebuilds_the_last_days_or_all(self, history):
        rollups.rollups_refresh(now=NOW)
        ProductSalesDay.objects.all().delete()
        call_command("rollups_refresh", "--all")
        assert sales_rows() == expected_sales(history)
        ProductSalesDay.objects.all().delete()
        call_command("rollups_refresh", "--days", "3")
        # The last 3 days of the real calendar: the history (June 2026) stays empty.
        assert RollupRun.objects.first().days >= 3

    def test_the_command_refuses_nonsense(self, db):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError):
            call_command("rollups_refresh", "--days", "0")
        with pytest.raises(CommandError):
            call_command("rollups_refresh", "--days", "2", "--all")


def small_history():
    """Transaction tests flush the levels away: a history without them."""
    tote = ProductFactory(variants=["S"])
    variant = tote.variants.get()
    buyer = a_buyer(country="DE")
    for offset in range(0, 60, 3):
        a_sale(buyer, {variant: (2, "5.00")}, paid_at=day(offset))
    ProductView.objects.bulk_create(
        [ProductView(product=tote, viewed_at=day(n)) for n in range(60)]
    )
    return tote


@pytest.mark.django_db(transaction=True)
class TestTwoAtOnce:
    def run_together(self, count: int) -> list:
        barrier = threading.Barrier(count)
        runs = []
        errors = []

        def work():
            try:
                barrier.wait(timeout=30)
                runs.append(rollups.rollups_refresh(now=NOW, days=[on(n) for n in range(60)]))
            except Exception as error:  # reported by the assertion below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=work) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors
        return runs

    def test_two_refreshes_at_once_do_not_double_rows(self):
        assert connection.vendor == "postgresql"
        small_history()
        runs = self.run_together(2)
        print(f"\nrollups race: runs {[(r.days, r.rows) for r in runs]}")
        assert len(runs) == 2
        assert ProductSalesDay.objects.count() == 20
        assert ProductActivityDay.objects.count() == 60
        assert sum(ProductSalesDay.objects.values_list("units", flat=True)) == 40

    def test_the_second_refresh_waits_for_the_first(self):
        small_history()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [rollups.LOCK_KEY])
        finished = []

        def work():
            try:
                finished.append(rollups.rollups_refresh(now=NOW))
            finally:
                connection.close()

        thread = threading.Thread(target=work)
        thread.start()
        time.sleep(0.5)
        waited = thread.is_alive() and not RollupRun.objects.exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [rollups.LOCK_KEY])
        thread.join(timeout=60)
        assert waited
        assert finished and finished[0].finished_at is not None
        assert ProductSalesDay.objects.count() == 20
