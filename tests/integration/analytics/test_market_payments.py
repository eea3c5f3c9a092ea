"""Reports 4 (search), 5 (payments), 6 (markets) and 8 (order value) on small known histories:
figures worked out by hand, the comparison period, the filters, a salesperson's narrowed view,
the CSV, the query count of each page and who may open each report."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import RollupRun
from analytics.reports.market_payments import median_sorted
from analytics.rollups import rollups_refresh
from catalog.models import SearchLog
from members.models import BusinessType, Level
from orders import lifecycle
from orders.models import Order, OrderState, Payment
from staff import roles
from tests.analytics_helpers import a_buyer, a_sale, client_of, day, manager_client, result_of
from tests.factories import ProductFactory, StaffFactory
from tests.integration.staff.helpers import in_role, salesperson

pytestmark = pytest.mark.django_db

JUNE = {"start": "2026-06-01", "end": "2026-06-30"}  # the helpers' TODAY is 30 June


@pytest.fixture
def variant():
    return ProductFactory(variants=["S"]).variants.get()


@pytest.fixture
def sales():
    return {
        "lily": in_role(salesperson("Lily").user, roles.SALES),
        "kevin": in_role(salesperson("Kevin").user, roles.SALES),
    }


def cards(response) -> dict:
    return {str(card.label): card for card in result_of(response).cards}


def rows_by(response, *keys) -> dict:
    return {tuple(row[k] for k in keys): row for row in result_of(response).rows}


def opened_by(slug, role) -> int:
    return client_of(in_role(StaffFactory(), role)).get(f"/analytics/{slug}/", JUNE).status_code


def searched(term, *, results, at, member=None, session=""):
    return SearchLog.objects.create(
        term=term, results=results, member=member, session_key=session, searched_at=at
    )


# --- 4. Search ---------------------------------------------------------------------------------


@pytest.fixture
def searches(variant):
    ana, bob = a_buyer(country="DE"), a_buyer(country="FR")
    # "tote bag": Ana twice, Bob once and a visitor once; Ana buys 5 days after her first
    # search; Bob's sale comes exactly 7 days after his search, outside the window.
    searched("tote bag", results=5, at=day(10), member=ana, session="a1")
    searched("tote bag", results=5, at=day(9), member=ana, session="a2")
    searched("tote bag", results=5, at=day(8), member=bob, session="b1")
    searched("tote bag", results=5, at=day(8), session="visitor-1")
    # "silk scarf" finds nothing; Bob buys two days after searching for it.
    searched("silk scarf", results=0, at=day(3), member=bob, session="b1")
    searched("silk scarf", results=0, at=day(3), session="visitor-2")
    searched("silk scarf", results=0, at=day(2))  # no member, no session: not a searcher
    # "linen": Ana's order two days later was never paid, so it is no sale.
    searched("linen", results=2, at=day(20), member=ana, session="a3")
    # May, the comparison period.
    searched("mesh", results=0, at=day(40), member=ana)
    a_sale(ana, {variant: (10, "10.00")}, paid_at=day(5))
    a_sale(bob, {variant: (10, "10.00")}, paid_at=day(1))
    a_sale(
        ana,
        {variant: (10, "10.00")},
        paid_at=None,
        placed_at=day(18),
        state=OrderState.PENDING_PAYMENT,
    )
    rollups_refresh()  # the report reads the searches rollup
    return {"ana": ana, "bob": bob}


class TestSearchReport:
    def test_the_cards_against_the_previous_period(self, searches):
        found = cards(manager_client().get("/analytics/search/", {**JUNE, "compare": "previous"}))
        assert found["Searches"].value == 8
        assert found["Searches"].previous == 1
        assert found["Distinct terms"].value == 3
        assert found["Searches with no results"].value == Decimal("37.5")  # 3 of 8
        assert found["Searches with no results"].previous == Decimal("100.0")

    def test_top_terms_terms_without_results_and_terms_that_lead_to_orders(self, searches):
        response = manager_client().get("/analytics/search/", JUNE)
        rows = result_of(response).rows
        assert [(r["list"], r["term"]) for r in rows] == [
            ("Top terms", "tote bag"),
            ("Top terms", "silk scarf"),
            ("Top terms", "linen"),
            ("No results", "silk scarf"),
            ("Leads to orders", "tote bag"),
            ("Leads to orders", "silk scarf"),
        ]
        tote, scarf, linen = rows[:3]
        assert (tote["searches"], tote["searchers"], tote["no_results"]) == (4, 3, 0)
        assert (tote["members"], tote["ordered"], tote["conversion"]) == (2, 1, Decimal("50.0"))
        assert (scarf["searches"], scarf["searchers"], scarf["no_results"]) == (3, 2, 3)
        assert (scarf["members"], scarf["ordered"], scarf["conversion"]) == (1, 1, Decimal("100.0"))
        assert (linen["members"], linen["ordered"], linen["conversion"]) == (1, 0, Decimal("0.0"))
        chart = result_of(response).chart
        assert chart.kind == "bar"
        assert chart.labels == ["tote bag", "silk scarf", "linen"]
        assert chart.series[0].values == [4, 3, 1]

    def test_an_empty_period_shows_nothing_without_failing(self, searches):
        response = manager_client().get(
            "/analytics/search/", {"start": "2025-01-01", "end": "2025-01-31"}
        )
        assert result_of(response).rows == []
        assert cards(response)["Searches with no results"].value == Decimal("0.0")

    def test_only_the_manager_reads_it(self, searches):
        assert opened_by("search", roles.MANAGER) == 200
        for role in (roles.FINANCE, roles.SALES, roles.CUSTOMER_SERVICE, roles.EDITOR):
            assert opened_by("search", role) == 403, role


# --- 5. Payments -------------------------------------------------------------------------------


def paid_with(order, method, status):
    return Payment.objects.create(
        order=order, method=method, status=status, amount=order.grand_total, currency=order.currency
    )


def declined(order):
    """The card is declined the way the Stripe webhook notes it: the payment stays pending,
    with the reason."""
    assert lifecycle.payment_failed(
        order_id=order.pk, method="card", reason="Your card was declined.", actor_label="Stripe"
    )


def declined_then_cancelled(order):
    """Declined, then the buyer gives up: the unpaid order is cancelled (and its pending
    payment with it)."""
    declined(order)
    lifecycle.order_transition(
        order_id=order.pk, to_state=OrderState.CANCELLED, actor_label="system", reason="Unpaid."
    )


@pytest.fixture
def payments(variant):
    ana, bob, carl = a_buyer(country="DE"), a_buyer(country="FR"), a_buyer(country="DE")
    card, transfer = "card", "bank_transfer"
    ok, pending = Payment.Status.SUCCEEDED, Payment.Status.PENDING
    # June, placed: three by card (one cancelled after its card failed), two by transfer.
    o1 = a_sale(ana, {variant: (10, "10.00")}, paid_at=day(5), payment_method=card)
    o2 = a_sale(
        bob,
        {variant: (5, "10.00")},
        paid_at=day(6),
        payment_method=card,
        currency="EUR",
        exchange_rate="2",
    )  # 50 in the base currency, 100 EUR
    o3 = a_sale(
        ana, {variant: (20, "10.00")}, paid_at=day(7), payment_method=transfer, refunded="40"
    )  # 160 net
    o4 = a_sale(
        carl,
        {variant: (3, "10.00")},
        paid_at=None,
        placed_at=day(4),
        state=OrderState.PENDING_PAYMENT,
        payment_method=card,
    )
    o5 = a_sale(
        bob,
        {variant: (8, "10.00")},
        paid_at=None,
        placed_at=day(3),
        state=OrderState.PENDING_PAYMENT,
        payment_method=transfer,
        currency="EUR",
        exchange_rate="2",
    )  # 80 waiting, past its pay-by date
    Order.objects.filter(pk=o5.pk).update(pay_by=timezone.now() - timedelta(days=1))
    for order, method, status in [
        (o1, card, ok),
        (o2, card, ok),
        (o3, transfer, ok),
        (o4, card, pending),
        (o5, transfer, pending),
    ]:
        paid_with(order, method, status)
    declined_then_cancelled(o4)
    # Placed just now (after June) and waiting, still within its pay-by date.
    o6 = a_sale(
        ana,
        {variant: (12, "10.00")},
        paid_at=None,
        placed_at=timezone.now() - timedelta(days=2),
        state=OrderState.PENDING_PAYMENT,
        payment_method=transfer,
    )
    Order.objects.filter(pk=o6.pk).update(pay_by=timezone.now() + timedelta(days=5))
    # May, the comparison period.
    paid_with(a_sale(ana, {variant: (6, "10.00")}, paid_at=day(40), payment_method=card), card, ok)
    rollups_refresh()  # the report reads the payments rollup
    return {"oldest": day(3)}


class TestPaymentsReport:
    def test_the_cards(self, payments):
        found = cards(manager_client().get("/analytics/payments/", {**JUNE, "compare": "previous"}))
        assert (found["Orders placed"].value, found["Orders placed"].previous) == (5, 1)
        assert found["Revenue"].value == Decimal("310.00")  # 100 + 50 + 160
        assert found["Revenue"].previous == Decimal("60.00")
        assert found["Payment success rate"].value == Decimal("60.0")  # 3 of 5
        assert found["Payment success rate"].previous == Decimal("100.0")
        # Waiting transfers are today's, whatever the period.
        assert found["Bank transfers waiting"].value == 2
        assert found["Waiting to be paid"].value == Decimal("200.00")  # 80 + 120
        assert found["Oldest waiting"].value == (timezone.now() - payments["oldest"]).days
        assert found["Past their pay-by date"].value == 1

    def test_shares_and_rates_by_method_and_by_currency(self, payments):
        response = manager_client().get("/analytics/payments/", JUNE)
        rows = rows_by(response, "breakdown", "name")
        card = rows[("Payment method", "Card (Stripe)")]
        assert (card["orders"], card["order_share"], card["paid"]) == (3, Decimal("60.0"), 2)
        assert (card["revenue"], card["revenue_share"]) == (Decimal("150.00"), Decimal("48.4"))
        assert (card["payments"], card["succeeded"], card["failed"]) == (3, 2, 1)
        assert (card["success"], card["failure"]) == (Decimal("66.7"), Decimal("33.3"))
        transfer = rows[("Payment method", "Bank transfer (T/T)")]
        assert (transfer["orders"], transfer["paid"], transfer["revenue"]) == (
            2,
            1,
            Decimal("160.00"),
        )
        assert transfer["revenue_share"] == Decimal("51.6")
        assert (transfer["success"], transfer["failure"]) == (Decimal("50.0"), Decimal("0.0"))
        usd, eur = rows[("Currency", "USD")], rows[("Currency", "EUR")]
        assert (usd["orders"], usd["revenue"], usd["revenue_share"]) == (
            3,
            Decimal("260.00"),
            Decimal("83.9"),
        )
        assert (eur["orders"], eur["revenue"], eur["order_share"]) == (
            2,
            Decimal("50.00"),
            Decimal("40.0"),
        )
        assert (eur["payments"], eur["succeeded"], eur["failed"]) == (2, 1, 0)
        chart = result_of(response).chart
        assert chart.kind == "doughnut"
        assert chart.labels == ["Card (Stripe)", "Bank transfer (T/T)"]
        assert chart.series[0].values == [Decimal("150.00"), Decimal("160.00")]

    def test_the_country_filter_narrows_everything_the_waiting_transfers_too(self, payments):
        response = manager_client().get("/analytics/payments/", {**JUNE, "country": "FR"})
        found = cards(response)
        assert (found["Orders placed"].value, found["Revenue"].value) == (2, Decimal("50.00"))
        assert found["Bank transfers waiting"].value == 1
        assert found["Waiting to be paid"].value == Decimal("80.00")
        assert set(rows_by(response, "breakdown", "name")) == {
            ("Payment method", "Card (Stripe)"),
            ("Payment method", "Bank transfer (T/T)"),
            ("Currency", "EUR"),
        }

    def test_the_csv_holds_the_table(self, payments):
        response = manager_client().get("/analytics/payments/", {**JUNE, "format": "csv"})
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [(r["By"], r["Method or currency"]) for r in rows] == [
            ("Payment method", "Card (Stripe)"),
            ("Payment method", "Bank transfer (T/T)"),
            ("Currency", "USD"),
            ("Currency", "EUR"),
        ]
        assert sum(Decimal(r["Revenue"]) for r in rows[:2]) == Decimal("310.00")
        assert Decimal(rows[0]["Success rate"]) == Decimal("66.7")

    def test_a_declined_card_is_a_failure_until_it_succeeds_whatever_becomes_of_the_order(
        self, variant
    ):
        buyer = a_buyer(country="DE")

        def card_order(n):
            order = a_sale(
                buyer,
                {variant: (n, "10.00")},
                paid_at=None,
                placed_at=day(n),
                state=OrderState.PENDING_PAYMENT,
                payment_method="card",
            )
            paid_with(order, "card", Payment.Status.PENDING)
            return order

        waiting, given_up, retried = card_order(2), card_order(3), card_order(4)
        # Refreshed while all were waiting, long ago: the next refresh must find the orders'
        # days again from the changes made since (a declined card changes the payment only).
        Order.objects.update(updated_at=timezone.now() - timedelta(hours=3))
        Payment.objects.update(updated_at=timezone.now() - timedelta(hours=3))
        rollups_refresh()
        card = rows_by(manager_client().get("/analytics/payments/", JUNE), "breakdown", "name")[
            ("Payment method", "Card (Stripe)")
        ]
        assert (card["orders"], card["payments"], card["succeeded"], card["failed"]) == (3, 3, 0, 0)
        RollupRun.objects.update(
            started_at=timezone.now() - timedelta(hours=2),
            finished_at=timezone.now() - timedelta(hours=2),
        )

        declined(waiting)  # the buyer may still pay it
        declined_then_cancelled(given_up)
        declined(retried)
        lifecycle.payment_succeeded(
            order_id=retried.pk, method="card", amount=retried.money("grand_total")
        )
        card_order(5)  # not tried yet: pending, neither succeeded nor failed
        assert Payment.objects.get(order=given_up).status == Payment.Status.CANCELLED
        rollups_refresh()

        response = manager_client().get("/analytics/payments/", JUNE)
        card = rows_by(response, "breakdown", "name")[("Payment method", "Card (Stripe)")]
        assert (card["orders"], card["paid"]) == (4, 1)
        assert (card["payments"], card["succeeded"], card["failed"]) == (4, 1, 2)
        assert (card["success"], card["failure"]) == (Decimal("25.0"), Decimal("50.0"))
        assert cards(response)["Payment success rate"].value == Decimal("25.0")

    def test_finance_reads_it_and_sales_do_not(self, payments):
        assert opened_by("payments", roles.FINANCE) == 200
        assert opened_by("payments", roles.MANAGER) == 200
        for role in (roles.SALES, roles.CUSTOMER_SERVICE, roles.EDITOR):
            assert opened_by("payments", role) == 403, role


# --- 6. Markets --------------------------------------------------------------------------------


@pytest.fixture
def markets(variant, sales):
    lily, kevin = sales["lily"], sales["kevin"]
    ana = a_buyer(country="DE", owner=lily, level="Gold")
    dora = a_buyer(country="DE", owner=kevin)
    bob = a_buyer(country="FR", owner=kevin)
    eve = a_buyer(country="US", owner=lily)
    a_sale(ana, {variant: (5, "10.00")}, paid_at=day(80))  # Ana first bought in April
    a_sale(ana, {variant: (6, "10.00")}, paid_at=day(40))  # May: 60
    a_sale(ana, {variant: (10, "10.00")}, paid_at=day(2))  # June: 100
    a_sale(dora, {variant: (20, "10.00")}, paid_at=day(10))  # June, her first: 200
    a_sale(dora, {variant: (4, "10.00")}, paid_at=day(5))  # June: 40
    # Bob's April order was refunded as a whole: no sale, so his June one is his first.
    a_sale(bob, {variant: (9, "10.00")}, paid_at=day(80), state=OrderState.REFUNDED)
    a_sale(bob, {variant: (3, "10.00")}, paid_at=day(10))  # June: 30
    a_sale(eve, {variant: (7, "10.00")}, paid_at=day(35))  # May only: 70
    return sales


class TestMarketsReport:
    def test_revenue_buyers_growth_and_new_buyers_per_country(self, markets):
        response = manager_client().get("/analytics/markets/", {**JUNE, "compare": "previous"})
        rows = result_of(response).rows
        assert [r["code"] for r in rows] == ["DE", "FR", "US"]
        de, fr, us = rows
        assert de["country"] == "Germany"
        assert (de["revenue"], de["share"], de["orders"]) == (
            Decimal("340.00"),
            Decimal("91.9"),
            3,
        )
        assert (de["buyers"], de["new"], de["returning"]) == (2, 1, 1)
        assert (de["revenue_before"], de["growth"]) == (Decimal("60.00"), Decimal("466.7"))
        assert (fr["revenue"], fr["buyers"], fr["new"], fr["returning"]) == (
            Decimal("30.00"),
            1,
            1,
            0,
        )
        assert (fr["revenue_before"], fr["growth"]) == (Decimal("0.00"), None)
        assert (us["revenue"], us["revenue_before"], us["growth"]) == (
            Decimal("0.00"),
            Decimal("70.00"),
            Decimal("-100.0"),
        )
        found = cards(response)
        assert (found["Revenue"].value, found["Revenue"].previous) == (
            Decimal("370.00"),
            Decimal("130.00"),
        )
        assert (found["Countries"].value, found["Countries"].previous) == (2, 2)
        assert (found["Buyers"].value, found["Buyers"].previous) == (3, 2)  # May: Ana, Eve
        assert (found["New buyers"].value, found["New buyers"].previous) == (2, 1)  # May: Eve
        chart = result_of(response).chart
        assert (chart.kind, chart.labels) == ("hbar", ["Germany", "France"])
        assert chart.series[0].values == [Decimal("340.00"), Decimal("30.00")]

    def test_without_a_comparison_there_is_no_growth_column(self, markets):
        response = manager_client().get("/analytics/markets/", {**JUNE, "compare": "none"})
        keys = [column.key for column in result_of(response).columns]
        assert "growth" not in keys
        assert [r["code"] for r in result_of(response).rows] == ["DE", "FR"]

    def test_the_level_and_salesperson_filters(self, markets):
        gold = Level.objects.get(name="Gold")
        rows = rows_by(
            manager_client().get("/analytics/markets/", {**JUNE, "level": gold.pk}), "code"
        )
        assert set(rows) == {("DE",)}
        assert (rows[("DE",)]["revenue"], rows[("DE",)]["returning"]) == (Decimal("100.00"), 1)
        lilys = manager_client().get(
            "/analytics/markets/", {**JUNE, "salesperson": markets["lily"].pk}
        )
        assert cards(lilys)["Revenue"].value == Decimal("100.00")
        assert {row["code"] for row in result_of(lilys).rows} == {"DE", "US"}

    def test_a_salesperson_sees_only_their_customers_whatever_the_url_says(self, markets):
        response = client_of(markets["kevin"]).get(
            "/analytics/markets/", {**JUNE, "salesperson": markets["lily"].pk}
        )
        rows = rows_by(response, "code")
        assert set(rows) == {("DE",), ("FR",)}  # no US: Eve is Lily's
        assert (rows[("DE",)]["revenue"], rows[("DE",)]["buyers"]) == (Decimal("240.00"), 1)
        assert rows[("DE",)]["revenue_before"] == Decimal("0.00")  # Ana's May is Lily's
        assert cards(response)["Revenue"].value == Decimal("270.00")
        assert "salesperson" not in response.context["form"].fields

    def test_who_may_open_it(self, markets):
        for role, status in [
            (roles.MANAGER, 200),
            (roles.FINANCE, 200),
            (roles.SALES, 200),
            (roles.CUSTOMER_SERVICE, 403),
            (roles.EDITOR, 403),
        ]:
            assert opened_by("markets", role) == status, role


# --- 8. Order value ----------------------------------------------------------------------------


@pytest.fixture
def order_values(variant, sales):
    lily, kevin = sales["lily"], sales["kevin"]
    ana = a_buyer(country="DE", owner=lily, level="Gold", business_type=BusinessType.OFFLINE_SHOP)
    bob = a_buyer(country="FR", owner=kevin, level="Silver", business_type=BusinessType.ONLINE_SHOP)
    cy = a_buyer(country="DE", owner=kevin, business_type=BusinessType.MARKETPLACE)
    for buyer, units, offset in [(ana, 5, 2), (ana, 30, 3), (ana, 600, 4), (bob, 12, 5)]:
        a_sale(buyer, {variant: (units, "10.00")}, paid_at=day(offset))
    a_sale(bob, {variant: (25, "10.00")}, paid_at=day(6))  # 250: the 250 to 500 bucket
    a_sale(cy, {variant: (100, "10.00")}, paid_at=day(7), refunded="500")  # 500 net
    a_sale(cy, {variant: (100, "10.00")}, paid_at=day(8), state=OrderState.REFUNDED)
    a_sale(ana, {variant: (20, "10.00")}, paid_at=day(40))  # May: 200
    return sales


class TestOrderValueReport:
    def test_the_cards(self, order_values):
        response = manager_client().get("/analytics/order-value/", {**JUNE, "compare": "previous"})
        found = cards(response)
        # Orders of 50, 120, 250, 300, 500 and 6000: 7220 in all.
        assert (found["Orders"].value, found["Orders"].previous) == (6, 1)
        assert found["Average order value"].value == Decimal("1203.33")
        assert found["Average order value"].previous == Decimal("200.00")
        assert found["Median order value"].value == Decimal("275.00")  # (250 + 300) / 2
        assert found["Median order value"].previous == Decimal("200.00")

    def test_the_spread_of_order_sizes(self, order_values):
        response = manager_client().get("/analytics/order-value/", JUNE)
        sizes = [r for r in result_of(response).rows if r["segment"] == "Order size"]
        assert [r["value"] for r in sizes] == [
            "under 100",
            "100 to 250",
            "250 to 500",
            "500 to 1,000",
            "1,000 to 2,500",
            "2,500 to 5,000",
            "5,000 and over",
        ]
        assert [r["orders"] for r in sizes] == [1, 1, 2, 1, 0, 0, 1]
        assert sizes[2]["revenue"] == Decimal("550.00")
        assert sizes[2]["average"] == Decimal("275.00")
        assert sizes[2]["order_share"] == Decimal("33.3")
        assert sizes[4]["average"] is None
        assert result_of(response).chart.series[0].values == [1, 1, 2, 1, 0, 0, 1]

    def test_the_average_order_per_business_type_level_and_country(self, order_values):
        rows = rows_by(manager_client().get("/analytics/order-value/", JUNE), "segment", "value")
        assert rows[("Business type", "Offline shop")]["average"] == Decimal("2116.67")
        assert rows[("Business type", "Online shop (Shopify, Shopyy ...)")]["orders"] == 2
        assert rows[("Business type", "Marketplace seller (Amazon, eBay, AliExpress ...)")][
            "average"
        ] == Decimal("500.00")
        assert rows[("Level", "Silver")]["average"] == Decimal("185.00")
        assert rows[("Level", "Gold")]["revenue"] == Decimal("6350.00")
        assert rows[("Level", "No level")]["orders"] == 1
        assert rows[("Country", "Germany")]["average"] == Decimal("1712.50")
        assert rows[("Country", "France")]["order_share"] == Decimal("33.3")
        levels = [
            r["value"]
            for r in result_of(manager_client().get("/analytics/order-value/", JUNE)).rows
            if r["segment"] == "Level"
        ]
        assert levels == ["Silver", "Gold", "No level"]  # by rank

    def test_the_country_and_level_filters(self, order_values):
        french = cards(manager_client().get("/analytics/order-value/", {**JUNE, "country": "FR"}))
        assert (french["Orders"].value, french["Median order value"].value) == (
            2,
            Decimal("185.00"),
        )
        gold = Level.objects.get(name="Gold")
        golden = cards(manager_client().get("/analytics/order-value/", {**JUNE, "level": gold.pk}))
        assert (golden["Orders"].value, golden["Median order value"].value) == (
            3,
            Decimal("300.00"),
        )

    def test_a_salesperson_sees_only_their_customers_whatever_the_url_says(self, order_values):
        response = client_of(order_values["kevin"]).get(
            "/analytics/order-value/", {**JUNE, "salesperson": order_values["lily"].pk}
        )
        found = cards(response)
        # Bob's 120 and 250 and Cy's 500.
        assert found["Orders"].value == 3
        assert found["Average order value"].value == Decimal("290.00")
        assert found["Median order value"].value == Decimal("250.00")
        segments = rows_by(response, "segment", "value")
        assert ("Level", "Gold") not in segments
        assert ("Business type", "Offline shop") not in segments

    def test_the_median_by_sorting_for_databases_without_percentile_cont(self, order_values):
        june = Order.objects.filter(
            state__in={OrderState.PAID}, paid_at__gte=day(29), paid_at__lte=day(0)
        )
        assert median_sorted(june, june.count()) == Decimal("275.00")
        assert median_sorted(june.exclude(grand_total_base=6000), 5) == Decimal("250.00")
        assert median_sorted(june.none(), 0) is None

    def test_who_may_open_it(self, order_values):
        for role, status in [
            (roles.FINANCE, 200),
            (roles.SALES, 200),
            (roles.CUSTOMER_SERVICE, 403),
            (roles.EDITOR, 403),
        ]:
            assert opened_by("order-value", role) == status, role


# --- Query counts ------------------------------------------------------------------------------


def more_of_everything(variant):
    """Another handful of buyers in new countries and levels, with orders, payments and
    searches in June, so a page has more of every row it groups."""
    for n, country in enumerate(["IT", "ES", "PL", "NL"]):
        buyer = a_buyer(country=country, level="Silver", business_type=BusinessType.INFLUENCER)
        order = a_sale(buyer, {variant: (n + 1, "75.00")}, paid_at=day(n + 1), currency="GBP")
        paid_with(order, "card", Payment.Status.SUCCEEDED)
        searched(f"term {n}", results=n, at=day(n + 2), member=buyer)


@pytest.mark.parametrize(
    ("slug", "most"),
    # The session and the user, the filter form's choices, the report transaction's settings,
    # then the report's own queries.
    [("search", 8), ("payments", 10), ("markets", 7), ("order-value", 8)],
)
def test_a_page_costs_the_same_few_queries_whatever_the_data(
    slug, most, searches, payments, markets, variant, django_assert_max_num_queries
):
    client = manager_client()
    asked = {**JUNE, "compare": "previous"}
    with CaptureQueriesContext(connection) as few:
        client.get(f"/analytics/{slug}/", asked)
    more_of_everything(variant)
    rollups_refresh()
    with django_assert_max_num_queries(most) as many:
        result = result_of(client.get(f"/analytics/{slug}/", asked))
    assert len(result.rows) > 0
    assert len(many.captured_queries) == len(few.captured_queries)
