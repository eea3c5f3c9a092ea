"""Issue 7 in the browser: the boss opens every report, sees its chart drawn and its table,
changes the date range and downloads the CSV (headless Chromium, real pages only)."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.registry import reports_in_order
from analytics.rollups import rollups_refresh
from staff import roles
from tests.analytics_helpers import a_buyer, a_sale
from tests.factories import ProductFactory, StaffFactory
from tests.integration.staff.helpers import in_role, salesperson

from .admin_pages import admin_log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def recent_history():
    """Two salespeople's buyers with sales over the last months, so every report has rows."""
    roles.roles_sync()
    lily = in_role(salesperson("Lily").user, roles.SALES)
    kevin = in_role(salesperson("Kevin").user, roles.SALES)
    variant = ProductFactory(variants=["S"]).variants.get()
    now = timezone.now()
    for index, (country, owner) in enumerate([("DE", lily), ("FR", kevin), ("US", lily)]):
        buyer = a_buyer(country=country, owner=owner)
        for days in range(3 + index, 200, 20 + 5 * index):
            a_sale(buyer, {variant: (10 + index, "4.00")}, paid_at=now - timedelta(days=days))
    rollups_refresh()


def test_the_boss_reads_every_report(new_page, live_server):
    recent_history()
    boss = StaffFactory(email="boss@shop.example", is_superuser=True)
    page = new_page()
    admin_log_in(page, live_server.url, boss.email)
    page.goto(live_server.url + "/analytics/")
    links = page.get_by_test_id("reports").get_by_role("link")
    reports = reports_in_order()
    assert links.count() == len(reports)
    start = (timezone.localdate() - timedelta(days=120)).isoformat()
    for report in reports:
        page.goto(f"{live_server.url}/analytics/{report.slug}/")
        assert page.locator("h1").first.inner_text()
        table = page.get_by_test_id("report-table")
        assert table.is_visible()
        if page.locator("#report-chart-canvas").count():
            page.wait_for_selector("#report-chart-canvas[data-drawn='1']")
        # A longer range, through the form.
        page.get_by_label("From").fill(start)
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(f"**start={start}*")
        assert start in page.get_by_test_id("report-period").inner_text(), report.slug
        with page.expect_download() as download:
            page.get_by_test_id("report-csv").click()
        with open(download.value.path(), encoding="utf-8-sig") as handle:
            text = handle.read()
        header = next(csv.reader(io.StringIO(text)))
        assert header == [cell.text_content() for cell in table.locator("thead th").all()], (
            report.slug
        )
