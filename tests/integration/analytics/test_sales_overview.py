"""Report 1, the sales overview, on a small known history: figures worked out by hand, the
comparison period, the filters, a salesperson's narrowed view and the CSV."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from analytics.periods import period_default
from analytics.registry import reports_in_order
from orders.models import OrderState
from staff import roles
from tests.analytics_helpers import TODAY, a_buyer, a_sale, day, manager_client
from tests.factories import ProductFactory, StaffFactory
from tests.integration.staff.helpers import in_role, salesperson

pytestmark = pytest.mark.django_db

RANGE = {"start": "2026-06-01", "end": "2026-06-30"}  # TODAY is 30 June


@pytest.fixture
def history():
    sales1 = in_role(salesperson("Lily").user, roles.SALES)
    sales2 = in_role(salesperson("Kevin").user, roles.SALES)
    variant = ProductFactory(variants=["S"]).variants.get()
    ana = a_buyer(country="DE", owner=sales1)
    bob = a_buyer(country="FR", owner=sales2)
    # June: Ana 100 + 50 (one refunded 20), Bob 30; May (the previous period): Ana 60.
    a_sale(ana, {variant: (25, "4.00")}, paid_at=day(2))
    a_sale(ana, {variant: (10, "5.00")}, paid_at=day(10), refunded="20")
    a_sale(bob, {variant: (10, "3.00")}, paid_at=day(10))
    a_sale(ana, {variant: (15, "4.00")}, paid_at=day(40))
    # Not sales: unpaid, cancelled, wholly refunded.
    a_sale(bob, {variant: (99, "1.00")}, paid_at=None, state=OrderState.PENDING_PAYMENT)
    a_sale(bob, {variant: (99, "1.00")}, paid_at=day(3), state=OrderState.CANCELLED)
    a_sale(bob, {variant: (99, "1.00")}, paid_at=day(3), state=OrderState.REFUNDED)
    return {"sales1": sales1, "sales2": sales2}


def cards(response) -> dict:
    return {card.label: card for card in response.context["result"].cards}


def test_the_figures_and_the_comparison(history):
    response = manager_client().get("/analytics/sales/", {**RANGE, "compare": "previous"})
    assert response.status_code == 200
    found = cards(response)
    assert found["Revenue"].value == Decimal("160.00")  # 100 + (50 − 20) + 30
    assert found["Orders"].value == 3
    assert found["Buyers"].value == 2
    assert found["Average order value"].value == Decimal("53.33")
    assert found["Revenue"].previous == Decimal("60.00")
    assert found["Revenue"].change.quantize(Decimal("0.1")) == Decimal("166.7")
    rows = {row["bucket"]: row for row in response.context["result"].rows}
    assert rows["2026-06-28"]["revenue"] == Decimal("100.00")
    assert rows["2026-06-20"]["orders"] == 2 and rows["2026-06-20"]["buyers"] == 2
    assert len(rows) == 30


def test_country_filter_and_month_grain(history):
    response = manager_client().get("/analytics/sales/", {**RANGE, "country": "FR"})
    assert cards(response)["Revenue"].value == Decimal("30.00")
    yearly = manager_client().get(
        "/analytics/sales/", {"start": "2026-05-01", "end": "2026-06-30", "grain": "month"}
    )
    assert [r["bucket"] for r in yearly.context["result"].rows] == ["2026-05", "2026-06"]
    assert [r["revenue"] for r in yearly.context["result"].rows] == [
        Decimal("60.00"),
        Decimal("160.00"),
    ]


def test_a_salesperson_sees_only_their_customers_whatever_the_url_says(history):
    client = Client()
    client.force_login(history["sales2"])
    response = client.get("/analytics/sales/", {**RANGE, "salesperson": history["sales1"].pk})
    assert response.status_code == 200
    assert cards(response)["Revenue"].value == Decimal("30.00")  # Bob's only
    assert "salesperson" not in response.context["form"].fields


def test_the_csv_holds_the_table(history):
    response = manager_client().get("/analytics/sales/", {**RANGE, "format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 30
    assert sum(Decimal(r["Revenue"]) for r in rows) == Decimal("160.00")


def test_bad_dates_are_refused_with_a_message_not_an_error(history):
    response = manager_client().get(
        "/analytics/sales/", {"start": "2026-06-30", "end": "2026-06-01"}
    )
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()
    garbage = manager_client().get("/analytics/sales/", {"start": "yesterday", "grain": "hour"})
    assert garbage.status_code == 200


def test_the_date_fields_show_the_dates_the_report_covers(history):
    default = period_default()
    form = manager_client().get("/analytics/sales/").context["form"]
    assert (form["start"].value(), form["end"].value()) == (
        default.start.isoformat(),
        default.end.isoformat(),
    )
    # Only the start given: the end is today, and shown so.
    form = manager_client().get("/analytics/sales/", {"start": "2026-06-01"}).context["form"]
    assert (form["start"].value(), form["end"].value()) == ("2026-06-01", default.end.isoformat())
    # Dates typed stay as typed, with their error.
    form = (
        manager_client()
        .get("/analytics/sales/", {"start": "2026-06-30", "end": "2026-06-01"})
        .context["form"]
    )
    assert (form["start"].value(), form["end"].value()) == ("2026-06-30", "2026-06-01")


def test_who_may_open_it(history):
    assert TODAY.month == 6
    for role, status in [
        (roles.MANAGER, 200),
        (roles.FINANCE, 200),
        (roles.SALES, 200),
        (roles.CUSTOMER_SERVICE, 403),
        (roles.EDITOR, 403),
    ]:
        client = Client()
        client.force_login(in_role(StaffFactory(), role))
        assert client.get("/analytics/sales/", RANGE).status_code == status, role
    assert Client().get("/analytics/sales/").status_code == 302


def test_the_admin_links_to_the_reports_for_those_who_read_any():
    for role, linked in [(roles.MANAGER, True), (roles.SALES, True), (roles.EDITOR, False)]:
        client = Client()
        client.force_login(in_role(StaffFactory(), role))
        page = client.get("/admin/").content.decode()
        assert ('data-testid="analytics-link"' in page) is linked, role


def test_the_manager_refreshes_the_rollups_on_demand_and_no_one_else(history):
    from analytics.models import RollupRun

    client = Client()
    client.force_login(in_role(StaffFactory(), roles.MANAGER))
    index = client.get("/analytics/").content.decode()
    assert "have not been built yet" in index and "Refresh them now" in index
    response = client.post("/analytics/refresh/")
    assert response.status_code == 302
    assert RollupRun.objects.filter(finished_at__isnull=False).count() == 1  # tasks run inline
    assert "were last refreshed" in client.get("/analytics/").content.decode()

    client.force_login(history["sales1"])
    assert "Refresh them now" not in client.get("/analytics/").content.decode()
    assert client.post("/analytics/refresh/").status_code == 403
    assert client.get("/analytics/refresh/").status_code == 405
    assert RollupRun.objects.count() == 1


@pytest.mark.parametrize(
    "asked",
    [
        {"start": "0001-01-01", "end": "9999-12-31"},  # a day before or after overflowed
        {"start": "9999-12-31"},
        {"end": "0001-01-01"},
        {"start": "1900-01-01", "end": "1900-01-02"},  # before "the first order ever"
        {"start": "2026-02-30", "country": "ZZ", "level": "x", "category": "-1", "grain": "y"},
    ],
)
def test_no_date_or_filter_makes_any_report_fail(asked, history):
    client = manager_client()
    for report in reports_in_order():
        response = client.get(f"/analytics/{report.slug}/", asked)
        assert response.status_code == 200, report.slug
        period = response.context["query"].period
        assert date(2000, 1, 1) <= period.start <= period.end <= date(2099, 12, 31)
    form = client.get("/analytics/sales/", {"start": "1900-01-01"}).context["form"]
    assert "start" in form.errors
