"""Reports 2 (products), 3 (categories) and 14 (new arrivals) on a small known history, read
through the pages after the rollups are refreshed: figures worked out by hand, the filters, a
salesperson's narrowed view, the CSV, a query count that does not grow with the data, and who
may open each report."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from analytics.periods import Period, whole_months
from analytics.rollups import rollups_refresh
from catalog.models import CartAddition, Product, ProductView
from members.models import Level
from staff import roles
from tests.analytics_helpers import a_buyer, a_sale, day, manager_client
from tests.factories import CategoryFactory, ProductFactory, StaffFactory
from tests.integration.staff.helpers import in_role, salesperson

pytestmark = pytest.mark.django_db

JUNE = {"start": "2026-06-01", "end": "2026-06-30"}  # TODAY is 30 June; May 2–31 before it
NOW = day(0, hour=18)


@pytest.fixture
def history():
    """June: Ana (DE, Lily, Gold) 60 of totes and 20 of clutches; Bob (FR, Kevin) 30 of totes
    and a 50 boot. May: Ana 100 of boots and 40 of clutches, Bob 20 of totes."""
    lily = in_role(salesperson("Lily").user, roles.SALES)
    kevin = in_role(salesperson("Kevin").user, roles.SALES)
    bags = CategoryFactory(name="Bags")
    totes = CategoryFactory(name="Totes", parent=bags)
    shoes = CategoryFactory(name="Shoes")
    tote = ProductFactory(name="Tote", category=totes, variants=["S", "M"], published_at=day(20))
    clutch = ProductFactory(name="Clutch", category=bags, variants=["One"], published_at=day(35))
    boot = ProductFactory(name="Boot", category=shoes, variants=["40"], published_at=day(15))
    # Launched in June without a sale yet, and a draft that is not launched.
    ProductFactory(name="Sandal", category=shoes, published_at=day(8))
    ProductFactory(name="Slipper", category=shoes, published_at=day(3))
    ProductFactory(name="Draft bag", category=bags, published_at=day(4), status="draft")
    tote_s, tote_m = tote.variants.get(option1="S"), tote.variants.get(option1="M")
    clutch_one, boot_40 = clutch.variants.get(), boot.variants.get()
    ana = a_buyer(country="DE", owner=lily, level="Gold")
    bob = a_buyer(country="FR", owner=kevin)
    a_sale(ana, {tote_s: (10, "4.00"), tote_m: (5, "4.00")}, paid_at=day(2))
    a_sale(ana, {clutch_one: (2, "10.00")}, paid_at=day(10))
    a_sale(bob, {tote_s: (10, "3.00"), boot_40: (1, "50.00")}, paid_at=day(10))
    a_sale(ana, {boot_40: (2, "50.00"), clutch_one: (4, "10.00")}, paid_at=day(40))
    a_sale(bob, {tote_s: (5, "4.00")}, paid_at=day(45))
    views = {tote: 40, clutch: 100, boot: 10}
    ProductView.objects.bulk_create(
        [ProductView(product=p, viewed_at=day(3)) for p, n in views.items() for _ in range(n)]
        + [ProductView(product=boot, viewed_at=day(40)) for _ in range(500)]  # May: not June's
    )
    adds = {tote: 8, clutch: 2, boot: 1}
    CartAddition.objects.bulk_create(
        [CartAddition(product=p, added_at=day(3)) for p, n in adds.items() for _ in range(n)]
    )
    rollups_refresh(now=NOW)
    return {
        "lily": lily,
        "kevin": kevin,
        "bags": bags,
        "totes": totes,
        "shoes": shoes,
        "tote": tote,
        "clutch": clutch,
        "boot": boot,
    }


def get(slug, params, client=None):
    response = (client or manager_client()).get(f"/analytics/{slug}/", params)
    assert response.status_code == 200
    return response


def cards(response) -> dict:
    return {str(card.label): card for card in response.context["result"].cards}


def rows_in(response, section=None) -> list[dict]:
    rows = response.context["result"].rows
    return [row for row in rows if section is None or row["section"] == section]


def by(rows, key) -> dict:
    return {row[key]: row for row in rows}


class TestProducts:
    def test_the_figures_and_the_comparison(self, history):
        response = get("products", {**JUNE, "compare": "previous"})
        found = cards(response)
        assert found["Revenue"].value == Decimal("160.00")  # 60 + 20 + 30 + 50
        assert found["Revenue"].previous == Decimal("160.00")  # 100 + 40 + 20
        assert found["Units"].value == 28 and found["Units"].previous == 11
        assert found["Products sold"].value == 3

        top = rows_in(response, "Top product")
        assert [row["product"] for row in top] == ["Tote", "Boot", "Clutch"]
        tote = top[0]
        assert (tote["revenue"], tote["units"], tote["orders"]) == (Decimal("90.00"), 25, 2)
        assert tote["category"] == "Totes"
        assert tote["share"] == Decimal("56.3")  # 90 / 160
        # The funnel: 40 views → 8 cart additions → 2 orders.
        assert (tote["views"], tote["cart_adds"]) == (40, 8)
        assert tote["cart_rate"] == Decimal("20.0") and tote["order_rate"] == Decimal("5.0")
        assert by(top, "product")["Boot"]["views"] == 10  # May's 500 views are not June's

        variants = rows_in(response, "Top variant")
        assert [(row["product"], row["variant"]) for row in variants] == [
            ("Tote", "S"),
            ("Boot", "40"),
            ("Tote", "M"),  # 20.00 like the clutch, in more units
            ("Clutch", "One"),
        ]
        assert (variants[0]["revenue"], variants[0]["units"], variants[0]["orders"]) == (
            Decimal("70.00"),
            20,
            2,
        )
        assert response.context["result"].chart.labels == ["Tote", "Boot", "Clutch"]

    def test_a_period_of_a_whole_month_and_days_around_it(self, history):
        """June is read from the monthly rollup, 16 to 31 May from the daily one."""
        response = get("products", {"start": "2026-05-16", "end": "2026-06-30"})
        found = cards(response)
        assert (found["Revenue"].value, found["Units"].value) == (Decimal("320.00"), 39)
        assert [
            (row["product"], row["revenue"], row["units"], row["orders"])
            for row in rows_in(response, "Top product")
        ] == [
            ("Boot", Decimal("150.00"), 3, 2),
            ("Tote", Decimal("110.00"), 30, 3),
            ("Clutch", Decimal("60.00"), 6, 2),
        ]

    def test_viewed_a_lot_but_rarely_bought(self, history):
        # The shop: 4 orders for 150 views. The clutch, 1 order in 100 views, is under half
        # that; the tote (2 in 40) is not; the boot has too few views to judge.
        rows = rows_in(get("products", JUNE), "Viewed a lot, rarely bought")
        assert [row["product"] for row in rows] == ["Clutch"]
        assert (rows[0]["views"], rows[0]["orders"], rows[0]["order_rate"]) == (
            100,
            1,
            Decimal("1.0"),
        )

    def test_the_filters(self, history):
        germany = get("products", {**JUNE, "country": "DE"})
        assert cards(germany)["Revenue"].value == Decimal("80.00")  # Ana's
        gold = get("products", {**JUNE, "level": Level.objects.get(name="Gold").pk})
        assert cards(gold)["Revenue"].value == Decimal("80.00")
        by_kevin = get("products", {**JUNE, "salesperson": history["kevin"].pk})
        assert cards(by_kevin)["Revenue"].value == Decimal("80.00")
        # Bags holds the totes below it: 90 + 20.
        bags = get("products", {**JUNE, "category": history["bags"].pk})
        assert cards(bags)["Revenue"].value == Decimal("110.00")
        assert {row["product"] for row in rows_in(bags)} == {"Tote", "Clutch"}

    def test_a_buyer_filter_keeps_views_for_context_but_drops_the_rates(self, history):
        response = get("products", {**JUNE, "country": "FR"})
        tote = by(rows_in(response, "Top product"), "product")["Tote"]
        assert tote["views"] == 40  # everyone's views
        assert tote["cart_rate"] is None and tote["order_rate"] is None
        assert not rows_in(response, "Viewed a lot, rarely bought")
        assert any("not narrowed by country" in note for note in response.context["result"].notes)

    def test_a_salesperson_sees_only_their_customers_whatever_the_url_says(self, history):
        client = Client()
        client.force_login(history["kevin"])
        response = get("products", {**JUNE, "salesperson": history["lily"].pk}, client)
        assert cards(response)["Revenue"].value == Decimal("80.00")  # Bob's tote and boot
        assert {row["product"] for row in rows_in(response)} == {"Tote", "Boot"}
        tote = by(rows_in(response, "Top product"), "product")["Tote"]
        assert (tote["revenue"], tote["units"]) == (Decimal("30.00"), 10)
        assert "salesperson" not in response.context["form"].fields
        text = response.content.decode()
        assert "Clutch" not in text

    def test_the_csv_holds_every_list(self, history):
        response = manager_client().get("/analytics/products/", {**JUNE, "format": "csv"})
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [row["List"] for row in rows].count("Top product") == 3
        assert [row["List"] for row in rows].count("Top variant") == 4
        tote = next(row for row in rows if row["List"] == "Top product")
        assert (tote["Product"], tote["Revenue"], tote["Units"]) == ("Tote", "90.00", "25")


class TestCategories:
    def test_share_trend_and_falling(self, history):
        response = get("categories", {**JUNE, "compare": "previous"})
        rows = [
            (r["group"], r["category"], r["revenue"], r["share"], r["change"], r["falling"])
            for r in response.context["result"].rows
        ]
        assert rows == [
            ("Bags", "(all)", Decimal("110.00"), Decimal("68.8"), Decimal("83.3"), ""),
            ("Bags", "Bags › Totes", Decimal("90.00"), Decimal("56.3"), Decimal("350.0"), ""),
            ("Bags", "Bags", Decimal("20.00"), Decimal("12.5"), Decimal("-50.0"), "falling"),
            ("Shoes", "(all)", Decimal("50.00"), Decimal("31.3"), Decimal("-50.0"), "falling"),
            ("Shoes", "Shoes", Decimal("50.00"), Decimal("31.3"), Decimal("-50.0"), "falling"),
        ]
        assert response.context["result"].rows[0]["revenue_before"] == Decimal("60.00")
        found = cards(response)
        assert found["Revenue"].value == Decimal("160.00")
        assert found["Falling top-level categories"].value == 1
        assert found["Falling categories"].value == 2
        chart = response.context["result"].chart
        assert [s.label for s in chart.series] == ["Bags", "Shoes"]
        assert len(chart.labels) == 30
        assert sum(chart.series[0].values) == Decimal("110.00")
        assert chart.series[1].values[chart.labels.index("2026-06-20")] == Decimal("50.00")

    def test_by_week_and_without_a_comparison(self, history):
        response = get("categories", {**JUNE, "grain": "week", "compare": "none"})
        assert "Falling categories" not in cards(response)
        assert all(row["falling"] == "" for row in response.context["result"].rows)
        chart = response.context["result"].chart
        week = chart.labels.index("2026-W25")  # 15–21 June
        assert chart.series[0].values[week] == Decimal("50.00")  # Bob's totes and Ana's clutch

    def test_the_filters(self, history):
        response = get("categories", {**JUNE, "country": "FR", "compare": "previous"})
        shoes = next(r for r in response.context["result"].rows if r["group"] == "Shoes")
        assert (shoes["revenue"], shoes["revenue_before"]) == (Decimal("50.00"), Decimal("0.00"))
        assert shoes["change"] is None and shoes["falling"] == ""
        salesperson = get("categories", {**JUNE, "salesperson": history["lily"].pk})
        assert cards(salesperson)["Revenue"].value == Decimal("80.00")


class TestNewArrivals:
    def test_launches_against_sales(self, history):
        response = get("new-arrivals", {**JUNE, "compare": "previous"})
        rows = by(response.context["result"].rows, "category")
        bags, shoes = rows["Bags"], rows["Shoes"]
        # June: the tote launched under Bags; the boot, the sandal and the slipper in Shoes.
        assert (bags["launched"], shoes["launched"]) == (1, 3)
        assert (bags["per_week"], shoes["per_week"]) == (Decimal("0.23"), Decimal("0.70"))
        assert (bags["revenue"], bags["revenue_week"]) == (Decimal("110.00"), Decimal("25.67"))
        assert (bags["launch_share"], bags["revenue_share"]) == (Decimal("25.0"), Decimal("68.8"))
        assert (shoes["launch_share"], shoes["revenue_share"]) == (
            Decimal("75.0"),
            Decimal("31.3"),
        )
        assert (bags["new_revenue"], shoes["new_revenue"]) == (
            Decimal("90.00"),
            Decimal("50.00"),
        )
        assert bags["judgement"].startswith("behind")
        assert shoes["judgement"].startswith("ahead")
        found = cards(response)
        assert (found["Products launched"].value, found["Products launched"].previous) == (4, 1)
        assert found["Launches per week"].value == Decimal("0.93")
        assert found["Revenue"].value == Decimal("160.00")
        assert found["Categories behind"].value == 1
        chart = response.context["result"].chart
        assert chart.labels == ["Bags", "Shoes"]
        assert chart.series[0].values == [Decimal("25.0"), Decimal("75.0")]

    def test_a_category_groups_by_the_level_below_it(self, history):
        response = get("new-arrivals", {**JUNE, "category": history["bags"].pk})
        rows = by(response.context["result"].rows, "category")
        assert set(rows) == {"Totes", "Bags"}
        assert (rows["Totes"]["launched"], rows["Totes"]["revenue"]) == (1, Decimal("90.00"))
        assert rows["Totes"]["judgement"] == "keeping up"  # one launch is not "ahead"
        assert (rows["Bags"]["launched"], rows["Bags"]["revenue"]) == (0, Decimal("20.00"))
        assert rows["Bags"]["judgement"].startswith("behind")
        assert "country" not in response.context["form"].fields

    def test_a_product_published_in_the_future_is_not_launched_yet(self, history):
        Product.objects.filter(name="Slipper").update(published_at=day(-400))
        response = get("new-arrivals", {"start": "2026-06-01", "end": "2027-09-01"})
        assert by(response.context["result"].rows, "category")["Shoes"]["launched"] == 2


class TestPages:
    @pytest.mark.parametrize(
        "slug, pinned", [("products", 17), ("categories", 10), ("new-arrivals", 11)]
    )
    def test_the_query_count_does_not_grow_with_the_data(
        self, history, slug, pinned, django_assert_max_num_queries
    ):
        client = manager_client()
        params = {**JUNE, "compare": "previous"}
        client.get(f"/analytics/{slug}/", params)  # the category tree's cache, warmed

        def counted():
            with CaptureQueriesContext(connection) as context:
                assert client.get(f"/analytics/{slug}/", params).status_code == 200
            return len(context.captured_queries)

        small = counted()
        more = ProductFactory(name="Bucket hat", category=history["shoes"], published_at=day(6))
        buyer = a_buyer(country="IT")
        for offset in range(1, 25):
            a_sale(buyer, {more.variants.first(): (offset, "2.00")}, paid_at=day(offset))
        ProductView.objects.bulk_create(
            [ProductView(product=more, viewed_at=day(n)) for n in range(1, 25)]
        )
        rollups_refresh(now=NOW)
        assert counted() == small
        # The page's own (session, user, permissions, the form's choices) and the report's.
        with django_assert_max_num_queries(pinned):
            client.get(f"/analytics/{slug}/", params)

    @pytest.mark.parametrize(
        "slug, readers",
        [
            ("products", {roles.MANAGER, roles.FINANCE, roles.SALES}),
            ("categories", {roles.MANAGER, roles.FINANCE}),
            ("new-arrivals", {roles.MANAGER, roles.FINANCE}),
        ],
    )
    def test_who_may_open_them(self, history, slug, readers):
        for role in (
            roles.MANAGER,
            roles.FINANCE,
            roles.SALES,
            roles.CUSTOMER_SERVICE,
            roles.EDITOR,
        ):
            client = Client()
            client.force_login(in_role(StaffFactory(), role))
            status = client.get(f"/analytics/{slug}/", JUNE).status_code
            assert status == (200 if role in readers else 403), role
        assert Client().get(f"/analytics/{slug}/").status_code == 302

    def test_before_the_first_refresh_the_pages_say_so(self, db):
        response = get("products", JUNE)
        assert any("rollups_refresh" in note for note in response.context["result"].notes)
        assert response.context["result"].rows == []


@pytest.mark.parametrize(
    ("start", "end", "months", "edges"),
    [
        ("2026-05-16", "2026-06-30", ("2026-06-01", "2026-06-01"), [("2026-05-16", "2026-05-31")]),
        ("2026-01-01", "2026-12-31", ("2026-01-01", "2026-12-01"), []),
        ("2026-02-01", "2026-02-28", ("2026-02-01", "2026-02-01"), []),
        (
            "2025-11-27",
            "2026-11-26",
            ("2025-12-01", "2026-10-01"),
            [("2025-11-27", "2025-11-30"), ("2026-11-01", "2026-11-26")],
        ),
        ("2026-06-03", "2026-06-20", None, [("2026-06-03", "2026-06-20")]),
        ("2026-05-31", "2026-06-01", None, [("2026-05-31", "2026-06-01")]),
    ],
)
def test_whole_months_and_the_days_around_them(start, end, months, edges):
    iso = date.fromisoformat
    found_months, found_edges = whole_months(Period(iso(start), iso(end)))
    assert found_months == (tuple(map(iso, months)) if months else None)
    assert found_edges == [(iso(a), iso(b)) for a, b in edges]
