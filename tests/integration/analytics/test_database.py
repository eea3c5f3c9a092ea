"""How the report pages use PostgreSQL: their own settings, and the index they read sales from."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.database import report_transaction
from analytics.sources import SALE_STATES
from orders.models import Order
from tests.analytics_helpers import manager_client

pytestmark = pytest.mark.django_db


def test_a_report_runs_with_the_analytics_settings(settings):
    settings.WHOLESALE_ANALYTICS_DB_SETTINGS = {"work_mem": "48MB", "parallel_setup_cost": 123}
    with report_transaction(), connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone() == ("48MB",)
        cursor.execute("SHOW parallel_setup_cost")
        assert cursor.fetchone() == ("123",)


def test_the_report_page_sets_them_before_its_own_queries():
    with CaptureQueriesContext(connection) as captured:
        assert manager_client().get("/analytics/sales/").status_code == 200
    sql = [q["sql"] for q in captured.captured_queries]
    tuned = next(i for i, s in enumerate(sql) if "set_config('work_mem'" in s)
    assert any("orders_order" in s for s in sql[tuned + 1 :])
    assert not any("orders_order" in s for s in sql[:tuned])


def test_the_sales_index_covers_exactly_the_sale_states():
    """The partial index serves the reports only if its condition is the one they filter on."""
    (index,) = [i for i in Order._meta.indexes if i.name == "order_sale_cover"]
    (lookup, states) = index.condition.children[0]
    assert lookup == "state__in"
    assert set(states) == set(SALE_STATES)
