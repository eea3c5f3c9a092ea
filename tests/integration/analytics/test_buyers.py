"""Reports 7, 9, 10 and 11 (purchase cycle, favourite styles, retention, at-risk buyers) on
small known histories: the figures worked out by hand, the filters, a salesperson's narrowed
view, the CSV, the query counts and who may open each report."""

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

# Registers reports 7, 9, 10 and 11 in case analytics.reports does not list the module yet;
# a test shortens its call list through it.
import analytics.reports.buyers
from analytics.rollups import rollups_refresh
from catalog.models import Variant
from members.models import Level
from orders.models import OrderState
from staff import roles
from tests.analytics_helpers import a_buyer, a_sale, client_of, day, manager_client, result_of
from tests.factories import CategoryFactory, ProductFactory, StaffFactory
from tests.integration.staff.helpers import in_role, salesperson

pytestmark = pytest.mark.django_db

JUNE = {"start": "2026-06-01", "end": "2026-06-30"}  # TODAY (analytics_helpers) is 30 June


@pytest.fixture
def staff():
    return {
        "lily": in_role(salesperson("Lily").user, roles.SALES),
        "kevin": in_role(salesperson("Kevin").user, roles.SALES),
    }


@pytest.fixture
def variant():
    return ProductFactory(variants=["S"]).variants.get()


def cards(response) -> dict:
    return {str(card.label): card.value for card in result_of(response).cards}


def column(response, key) -> list:
    return [row[key] for row in result_of(response).rows]


def on(year, month, dom) -> datetime:
    return datetime(year, month, dom, 12, tzinfo=timezone.get_current_timezone())


def queries_of(url, params) -> int:
    """The queries a page costs: the session, the user and the filter form's choices, then the
    report's own (pinned per report below)."""
    client = manager_client()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


def more_buyers(variant, owner, count=6):
    """Extra buyers with a few orders each, in and before June, to show a page's query count
    does not grow with them."""
    for n in range(count):
        buyer = a_buyer(country="IT", owner=owner)
        for offset in (3 + n, 40 + n, 90 + n, 400 + n):
            a_sale(buyer, {variant: (20, "10.00")}, paid_at=day(offset))


def may_open(url, allowed):
    for role in (roles.MANAGER, roles.FINANCE, roles.SALES, roles.CUSTOMER_SERVICE, roles.EDITOR):
        response = client_of(in_role(StaffFactory(), role)).get(url, JUNE)
        assert response.status_code == (200 if role in allowed else 403), role
    assert Client().get(url).status_code == 302


class TestPurchaseCycle:
    """Report 7. Period end 31 May (day 30) unless said otherwise."""

    URL = "/analytics/purchase-cycle/"
    MAY = {"start": "2026-05-01", "end": "2026-05-31"}

    @pytest.fixture
    def history(self, staff, variant):
        ana = a_buyer(country="DE", owner=staff["lily"], level="Gold", company_name="Ana GmbH")
        ben = a_buyer(country="FR", owner=staff["lily"], company_name="Ben SARL")
        cara = a_buyer(country="DE", owner=staff["kevin"], company_name="Cara KG")
        dan = a_buyer(country="DE", owner=staff["lily"], company_name="Dan AG")
        one = {variant: (10, "10.00")}
        # Ana: every 10 days, last on day 80: 50 days before 31 May, five cycles.
        for offset in (100, 90, 80):
            a_sale(ana, one, paid_at=day(offset))
        # Ben: gaps 20 and 5 by 31 May (median 12.5), last on day 35: 5 days ago.
        for offset in (60, 40, 35, 10):
            a_sale(ben, one, paid_at=day(offset))
        # Cara: gaps 20, 6, 14 (median 14); last on day 44, 14 days before 31 May.
        for offset in (84, 64, 58, 44):
            a_sale(cara, one, paid_at=day(offset))
        # Dan: three orders but on two days only: no cycle yet.
        for offset in (50, 50, 30):
            a_sale(dan, one, paid_at=day(offset))
        # None of these are sales.
        a_sale(ana, one, paid_at=day(70), state=OrderState.CANCELLED)
        a_sale(dan, one, paid_at=day(60), state=OrderState.REFUNDED)
        a_sale(dan, one, paid_at=None, state=OrderState.PENDING_PAYMENT)
        return staff

    def test_the_cycles_the_overdue_and_the_call_list_order(self, history):
        response = manager_client().get(self.URL, self.MAY)
        assert cards(response) == {
            "Buyers with a cycle": 3,
            "Overdue buyers": 1,  # Ana only: Cara's 14 days are not past 1.5 × 14
            "Median cycle across buyers": Decimal("12.5"),  # of 10, 12.5 and 14
        }
        rows = result_of(response).rows
        assert [row["company"] for row in rows] == ["Ana GmbH", "Cara KG", "Ben SARL"]
        ana, cara, ben = rows
        assert ana == {
            "company": "Ana GmbH",
            "country": "DE",
            "salesperson": history["lily"].get_full_name(),
            "orders": 3,
            "cycle": Decimal("10.0"),
            "last_order": day(80).date(),
            "since": 50,
            "overdue_by": Decimal("40.0"),
        }
        assert (cara["cycle"], cara["since"], cara["overdue_by"]) == (Decimal("14.0"), 14, None)
        assert (ben["orders"], ben["cycle"], ben["since"]) == (3, Decimal("12.5"), 5)
        chart = result_of(response).chart
        assert chart.labels == ["0–6", "7–13", "14–20"]
        assert chart.series[0].values == [0, 2, 1]

    def test_a_later_end_moves_the_clock_and_takes_in_later_orders(self, history):
        response = manager_client().get(self.URL, JUNE)
        rows = {row["company"]: row for row in result_of(response).rows}
        # 30 June: Ben has ordered again (gaps 20, 5, 25: median 20); Cara is 44 days out.
        assert rows["Ben SARL"]["orders"] == 4 and rows["Ben SARL"]["cycle"] == Decimal("20.0")
        assert rows["Cara KG"]["overdue_by"] == Decimal("30.0")
        assert cards(response)["Overdue buyers"] == 2
        assert list(rows) == ["Ana GmbH", "Cara KG", "Ben SARL"]  # 8× and 3.1× their cycle

    def test_a_capped_table_still_counts_every_buyer(self, history, monkeypatch):
        monkeypatch.setattr(analytics.reports.buyers, "CALL_LIST_ROWS", 2)
        response = manager_client().get(self.URL, self.MAY)
        assert column(response, "company") == ["Ana GmbH", "Cara KG"]
        assert cards(response)["Buyers with a cycle"] == 3
        assert cards(response)["Median cycle across buyers"] == Decimal("12.5")
        assert result_of(response).chart.series[0].values == [0, 2, 1]
        assert "The table shows the first 2 of 3 buyers." in result_of(response).notes

    def test_a_long_cycle_shares_the_last_bar(self, history, variant):
        eve = a_buyer(country="NL", owner=history["lily"], company_name="Eve BV")
        for offset in (400, 300, 200):  # every 100 days, last 200 days before 30 June
            a_sale(eve, {variant: (10, "10.00")}, paid_at=day(offset))
        response = manager_client().get(self.URL, JUNE)
        chart = result_of(response).chart
        assert (len(chart.labels), chart.labels[-1]) == (12, "77+")
        assert chart.series[0].values == [0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        # Overdue, 2× her cycle: after Ana (8×) and Cara (3.1×), before Ben (not overdue).
        assert column(response, "company") == ["Ana GmbH", "Cara KG", "Eve BV", "Ben SARL"]
        assert cards(response) == {
            "Buyers with a cycle": 4,
            "Overdue buyers": 3,
            "Median cycle across buyers": Decimal("17.0"),  # of 10, 14, 20 and 100
        }

    def test_country_and_level_filters(self, history):
        assert column(manager_client().get(self.URL, {**self.MAY, "country": "FR"}), "company") == [
            "Ben SARL"
        ]
        gold = Level.objects.get(name="Gold").pk
        assert column(manager_client().get(self.URL, {**self.MAY, "level": gold}), "company") == [
            "Ana GmbH"
        ]

    def test_the_manager_may_pick_a_salesperson(self, history):
        response = manager_client().get(self.URL, {**self.MAY, "salesperson": history["kevin"].pk})
        assert column(response, "company") == ["Cara KG"]

    def test_a_salesperson_sees_only_their_customers_whatever_the_url_says(self, history):
        kevin = client_of(history["kevin"])
        response = kevin.get(self.URL, {**self.MAY, "salesperson": history["lily"].pk})
        assert column(response, "company") == ["Cara KG"]
        assert cards(response)["Buyers with a cycle"] == 1
        assert "Ana GmbH" not in response.content.decode()

    def test_the_csv_is_the_call_list(self, history):
        response = manager_client().get(self.URL, {**self.MAY, "format": "csv"})
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [row["Company"] for row in rows] == ["Ana GmbH", "Cara KG", "Ben SARL"]
        assert rows[0]["Last order"] == day(80).date().isoformat()
        assert rows[0]["Overdue by (days)"] == "40.00" and rows[1]["Overdue by (days)"] == ""

    def test_the_page_costs_the_same_queries_with_more_buyers(self, history, variant):
        before = queries_of(self.URL, JUNE)
        more_buyers(variant, history["lily"])
        assert queries_of(self.URL, JUNE) == before
        assert before <= 7

    def test_who_may_open_it(self, history):
        may_open(self.URL, {roles.MANAGER, roles.SALES})


class TestFavouriteStyles:
    """Report 9, June."""

    URL = "/analytics/favourite-styles/"

    @pytest.fixture
    def history(self, staff):
        tops, hats = CategoryFactory(name="Tops"), CategoryFactory(name="Hats")
        shirt = ProductFactory(category=tops, variants=["S", "M"], option2_name="Colour")
        Variant.objects.filter(product=shirt, option1="S").update(option2="Red")
        Variant.objects.filter(product=shirt, option1="M").update(option2="Blue")
        small_red, medium_blue = shirt.variants.get(option1="S"), shirt.variants.get(option1="M")
        cap = ProductFactory(category=hats, variants=["Red", "Blue"], option1_name="Colour")
        cap_red = cap.variants.get(option1="Red")
        cap_blue = cap.variants.get(option1="Blue")
        ana = a_buyer(country="DE", owner=staff["lily"], company_name="Ana GmbH")
        bob = a_buyer(country="FR", owner=staff["kevin"], company_name="Bob SARL")
        # Ana: 20 units for 95.00: Tops 15, Hats 5; Red 15, Size S 10, Blue 5, Size M 5.
        a_sale(ana, {small_red: (10, "5.00"), medium_blue: (5, "5.00")}, paid_at=day(3))
        a_sale(ana, {cap_red: (5, "4.00")}, paid_at=day(20))
        # Bob: 20 blue caps for 80.00, and nothing that counts in May.
        a_sale(bob, {cap_blue: (20, "4.00")}, paid_at=day(10))
        a_sale(bob, {small_red: (50, "5.00")}, paid_at=day(45))
        # The Units card and the chart read the variant rollup.
        rollups_refresh(now=day(0, hour=18))
        return {**staff, "hats": hats}

    def test_each_buyers_favourites_and_the_overall_options(self, history):
        response = manager_client().get(self.URL, JUNE)
        assert cards(response) == {
            "Buyers": 2,
            "Units": 40,
            "Most bought option value": "Colour: Blue",  # 5 + 20
        }
        ana, bob = result_of(response).rows
        assert ana == {
            "company": "Ana GmbH",
            "country": "DE",
            "revenue": Decimal("95.00"),
            "units": 20,
            "category": "Tops",
            "category_share": Decimal("75.0"),
            "other_categories": "Hats 25.0 %",
            "options": "Colour: Red 75.0 %, Size: S 50.0 %, Colour: Blue 25.0 %",
        }
        assert (bob["category"], bob["category_share"], bob["options"]) == (
            "Hats",
            Decimal("100.0"),
            "Colour: Blue 100.0 %",
        )
        chart = result_of(response).chart
        assert chart.labels == ["Colour: Blue", "Colour: Red", "Size: S", "Size: M"]
        assert chart.series[0].values == [25, 15, 10, 5]

    def test_the_units_and_the_chart_are_as_of_the_last_rollup_refresh(self, history):
        buyer = a_buyer(country="DE", owner=history["lily"], company_name="Cleo GmbH")
        hat = Variant.objects.get(option1="Red")
        a_sale(buyer, {hat: (100, "1.00")}, paid_at=day(1))
        response = manager_client().get(self.URL, JUNE)
        assert "Cleo GmbH" not in column(response, "company")  # the buyers come from the rollup
        assert cards(response)["Units"] == 40
        rollups_refresh(now=day(0, hour=19))
        response = manager_client().get(self.URL, JUNE)
        assert column(response, "company")[0] == "Cleo GmbH"
        assert cards(response)["Units"] == 140
        assert result_of(response).chart.labels[0] == "Colour: Red"  # 15 + 100

    def test_a_period_of_whole_months_and_edge_days_counts_each_sale_once(self, history):
        # 12 May to 30 June: June from the monthly rollup, 12 to 31 May from the daily one,
        # where Bob's 50 small red shirts (16 May) are; a variant in both is added up.
        response = manager_client().get(self.URL, {"start": "2026-05-12", "end": "2026-06-30"})
        assert cards(response)["Units"] == 90
        chart = result_of(response).chart
        assert chart.labels[:2] == ["Colour: Red", "Size: S"]
        assert chart.series[0].values[:2] == [65, 60]  # 15 + 50, 10 + 50

    def test_the_category_filter_ranks_and_counts_within_it(self, history):
        response = manager_client().get(self.URL, {**JUNE, "category": history["hats"].pk})
        assert column(response, "company") == ["Bob SARL", "Ana GmbH"]  # 80.00 against 20.00
        assert column(response, "options") == ["Colour: Blue 100.0 %", "Colour: Red 100.0 %"]
        assert cards(response)["Units"] == 25

    def test_the_country_filter(self, history):
        response = manager_client().get(self.URL, {**JUNE, "country": "FR"})
        assert column(response, "company") == ["Bob SARL"]

    def test_a_salesperson_sees_only_their_customers_whatever_the_url_says(self, history):
        response = client_of(history["lily"]).get(
            self.URL, {**JUNE, "salesperson": history["kevin"].pk}
        )
        assert column(response, "company") == ["Ana GmbH"]
        # The overall chart is theirs too: Bob's 20 blue caps are not in it.
        assert result_of(response).chart.series[0].values == [15, 10, 5, 5]

    def test_the_page_costs_the_same_queries_with_more_buyers(self, history):
        before = queries_of(self.URL, JUNE)
        more_buyers(Variant.objects.get(option1="S"), history["lily"])
        assert queries_of(self.URL, JUNE) == before
        assert before <= 10

    def test_who_may_open_it(self, history):
        may_open(self.URL, {roles.MANAGER, roles.SALES})


class TestRetention:
    """Report 10: cohorts of July 2025 to June 2026 for a June period."""

    URL = "/analytics/retention/"

    @pytest.fixture
    def history(self, staff, variant):
        one = {variant: (10, "10.00")}
        ana = a_buyer(country="DE", owner=staff["lily"], level="Gold")
        ben = a_buyer(country="DE", owner=staff["kevin"])
        cara = a_buyer(country="FR", owner=staff["lily"])
        dan = a_buyer(country="DE", owner=staff["kevin"])
        for when in (on(2026, 1, 15), on(2026, 2, 10), on(2026, 4, 5)):
            a_sale(ana, one, paid_at=when)
        a_sale(ben, one, paid_at=on(2026, 1, 20))
        a_sale(cara, one, paid_at=on(2026, 3, 3))
        a_sale(cara, one, paid_at=on(2026, 3, 20))
        a_sale(ben, one, paid_at=on(2026, 7, 2))  # after the period: not seen yet
        a_sale(ben, one, paid_at=on(2026, 2, 2), state=OrderState.CANCELLED)
        # Dan's first order is before the window: he is in no cohort shown.
        a_sale(dan, one, paid_at=on(2025, 5, 1))
        a_sale(dan, one, paid_at=on(2026, 2, 1))
        return staff

    def test_the_cohort_table_and_the_repeat_rates(self, history):
        response = manager_client().get(self.URL, JUNE)
        rows = {row["cohort"]: row for row in result_of(response).rows}
        cohorts = column(response, "cohort")
        assert (cohorts[0], cohorts[-1], len(cohorts)) == ("2025-07", "2026-06", 12)
        january = rows["2026-01"]
        assert (january["buyers"], january["repeat"]) == (2, Decimal("50.0"))
        assert [january[f"m{n}"] for n in range(8)] == [
            Decimal("100.0"),
            Decimal("50.0"),  # Ana in February
            Decimal("0.0"),
            Decimal("50.0"),  # Ana in April
            Decimal("0.0"),
            Decimal("0.0"),  # June
            None,  # July is after the period
            None,
        ]
        march = rows["2026-03"]
        assert (march["buyers"], march["repeat"], march["m1"], march["m3"], march["m4"]) == (
            1,
            Decimal("100.0"),  # two orders in her first month
            Decimal("0.0"),
            Decimal("0.0"),
            None,
        )
        assert rows["2025-07"]["buyers"] == 0 and rows["2025-07"]["m0"] is None
        assert cards(response) == {
            "New buyers": 3,
            "Repeat-purchase rate": Decimal("66.7"),  # Ana and Cara of three
            "Ordered again the next month": Decimal("33.3"),  # Ana of three
        }
        chart = result_of(response).chart
        assert chart.labels[6:9] == ["2026-01", "2026-02", "2026-03"]
        assert chart.series[0].values[6:9] == [Decimal("50.0"), 0, Decimal("100.0")]

    def test_an_earlier_end_sees_less_and_a_long_period_more_cohorts(self, history):
        response = manager_client().get(self.URL, {"start": "2026-02-01", "end": "2026-02-28"})
        january = {row["cohort"]: row for row in result_of(response).rows}["2026-01"]
        assert (january["repeat"], january["m1"], january["m2"]) == (Decimal("50.0"), 50, None)
        longer = manager_client().get(self.URL, {"start": "2025-01-01", "end": "2026-06-30"})
        rows = {row["cohort"]: row for row in result_of(longer).rows}
        assert len(rows) == 18 and rows["2025-05"]["buyers"] == 1  # Dan
        assert rows["2025-05"]["m9"] == Decimal("100.0")  # his February order

    def test_country_and_level_filters(self, history):
        french = manager_client().get(self.URL, {**JUNE, "country": "FR"})
        assert cards(french)["New buyers"] == 1
        gold = Level.objects.get(name="Gold").pk
        response = manager_client().get(self.URL, {**JUNE, "level": gold})
        assert [row["cohort"] for row in result_of(response).rows if row["buyers"]] == ["2026-01"]

    def test_the_page_costs_the_same_queries_with_more_buyers(self, history, variant):
        before = queries_of(self.URL, JUNE)
        more_buyers(variant, history["lily"])
        assert queries_of(self.URL, JUNE) == before
        assert before <= 5

    def test_who_may_open_it(self, history):
        may_open(self.URL, {roles.MANAGER, roles.FINANCE})


class TestAtRiskBuyers:
    """Report 11: June (30 days) against the 365 days before it, so a buyer's usual spend per
    window is their spend then × 30 / 365."""

    URL = "/analytics/at-risk/"

    @pytest.fixture
    def history(self, staff, variant):
        def buyer(name, owner, country="DE"):
            return a_buyer(country=country, owner=owner, company_name=name)

        ana = buyer("Ana GmbH", staff["lily"])
        ben = buyer("Ben SARL", staff["lily"], country="FR")
        cara = buyer("Cara KG", staff["lily"])
        dan = buyer("Dan AG", staff["lily"])
        eve = buyer("Eve BV", staff["kevin"])
        # Usual 300, spent 100: down 66.7 %, 200 lost.
        a_sale(ana, {variant: (365, "10.00")}, paid_at=day(100))
        a_sale(ana, {variant: (10, "10.00")}, paid_at=day(5))
        # Usual 150, nothing since: 150 lost.
        a_sale(ben, {variant: (365, "5.00")}, paid_at=day(200))
        # Usual 300, spent 200: down a third only. Her big order 500 days ago is too old.
        a_sale(cara, {variant: (365, "10.00")}, paid_at=day(300))
        a_sale(cara, {variant: (20, "10.00")}, paid_at=day(10))
        a_sale(cara, {variant: (1000, "10.00")}, paid_at=day(500))
        # Usual 60: under the floor of 100.
        a_sale(dan, {variant: (73, "10.00")}, paid_at=day(50))
        # Usual 300 (3,650 with 1,000 of it refunded back), nothing since: 300 lost.
        a_sale(eve, {variant: (465, "10.00")}, paid_at=day(40), refunded="1000")
        return staff

    def test_who_dropped_and_what_is_lost(self, history):
        response = manager_client().get(self.URL, JUNE)
        assert cards(response) == {"Buyers at risk": 3, "Revenue at risk": Decimal("650.00")}
        rows = result_of(response).rows
        assert [row["company"] for row in rows] == ["Eve BV", "Ana GmbH", "Ben SARL"]
        assert rows[1] == {
            "company": "Ana GmbH",
            "country": "DE",
            "salesperson": history["lily"].get_full_name(),
            "average": Decimal("300.00"),
            "now": Decimal("100.00"),
            "drop": Decimal("66.7"),
            "lost": Decimal("200.00"),
            "last_order": day(5).date(),
        }
        assert (rows[2]["average"], rows[2]["now"], rows[2]["drop"]) == (
            Decimal("150.00"),
            Decimal("0.00"),
            Decimal("100.0"),
        )
        chart = result_of(response).chart
        assert chart.labels == ["Eve BV", "Ana GmbH", "Ben SARL"]
        assert chart.series[1].values == [Decimal("0.00"), Decimal("100.00"), Decimal("0.00")]

    def test_a_longer_window_scales_the_usual_spend(self, history):
        # 73 days (19 April to 30 June): the usual spends are 73 / 365 of the year before, so
        # Cara's 200 is now under half her 730; Dan's and Eve's orders fall in the window.
        response = manager_client().get(self.URL, {"start": "2026-04-19", "end": "2026-06-30"})
        rows = {row["company"]: row for row in result_of(response).rows}
        assert set(rows) == {"Ana GmbH", "Ben SARL", "Cara KG"}
        assert rows["Ana GmbH"]["average"] == Decimal("730.00")
        assert rows["Cara KG"]["lost"] == Decimal("530.00")  # 730 usual, 200 spent

    def test_the_country_filter(self, history):
        response = manager_client().get(self.URL, {**JUNE, "country": "FR"})
        assert column(response, "company") == ["Ben SARL"]

    def test_a_salesperson_sees_only_their_customers_whatever_the_url_says(self, history):
        response = client_of(history["lily"]).get(
            self.URL, {**JUNE, "salesperson": history["kevin"].pk}
        )
        assert column(response, "company") == ["Ana GmbH", "Ben SARL"]
        assert cards(response)["Revenue at risk"] == Decimal("350.00")
        assert "Eve BV" not in response.content.decode()

    def test_the_csv(self, history):
        response = manager_client().get(self.URL, {**JUNE, "format": "csv"})
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [(row["Company"], row["Lost revenue"]) for row in rows] == [
            ("Eve BV", "300.00"),
            ("Ana GmbH", "200.00"),
            ("Ben SARL", "150.00"),
        ]

    def test_the_page_costs_the_same_queries_with_more_buyers(self, history, variant):
        before = queries_of(self.URL, JUNE)
        more_buyers(variant, history["lily"])
        assert queries_of(self.URL, JUNE) == before
        assert before <= 7

    def test_who_may_open_it(self, history):
        may_open(self.URL, {roles.MANAGER, roles.SALES})
