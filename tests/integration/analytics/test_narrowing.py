"""Every report a salesperson may open, page and CSV, against a history with another
salesperson's customer in it: not one of that customer's names, and not the other
salesperson's name, appears, whatever the URL asks for (issue 7: "the salesperson's view of a
report never shows another salesperson's figures")."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from analytics.access import viewer_for
from analytics.registry import reports_in_order
from analytics.rollups import rollups_refresh
from staff import roles
from tests.analytics_helpers import a_buyer, a_sale
from tests.factories import CategoryFactory, ProductFactory
from tests.integration.staff.helpers import in_role, salesperson

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_books():
    lily = in_role(salesperson("Lily", referral_code="lily").user, roles.SALES)
    zoltan = in_role(salesperson("Zoltan", referral_code="zoltan").user, roles.SALES)
    category = CategoryFactory(name="Caps")
    ours = ProductFactory(category=category, variants=["S"]).variants.get()
    theirs = ProductFactory(
        name="Zirconia Hat", category=category, variants=["Zebra"]
    ).variants.get()
    alpha = a_buyer(country="DE", owner=lily, company_name="Alpha Trading")
    zeta = a_buyer(country="BR", owner=zoltan, company_name="Zeta Importadora")
    now = timezone.now()
    for days in (5, 25, 45, 65, 200):
        a_sale(alpha, {ours: (10, "4.00")}, paid_at=now - timedelta(days=days))
        a_sale(zeta, {theirs: (700, "9.99")}, paid_at=now - timedelta(days=days, hours=3))
    rollups_refresh()
    return {"lily": lily, "zoltan": zoltan}


FOREIGN = ("Zeta Importadora", "Zirconia", "Zebra", "Zoltan", "6,993", "6993")


def test_a_salesperson_never_sees_another_salespersons_customers(two_books):
    lily, zoltan = two_books["lily"], two_books["zoltan"]
    client = Client()
    client.force_login(lily)
    start = (timezone.localdate() - timedelta(days=365)).isoformat()
    readable = [r for r in reports_in_order() if viewer_for(lily, r.audiences) is not None]
    assert {r.slug for r in readable} >= {"sales", "markets", "salespeople"}
    for report in readable:
        for params in ({}, {"salesperson": zoltan.pk}, {"country": "BR"}):
            query = {"start": start, **params}
            page = client.get(f"/analytics/{report.slug}/", query)
            assert page.status_code == 200, report.slug
            body = page.content.decode()
            csv_body = b"".join(
                client.get(
                    f"/analytics/{report.slug}/", {**query, "format": "csv"}
                ).streaming_content
            ).decode("utf-8-sig")
            for text in FOREIGN:
                assert text not in body, (report.slug, params, text)
                assert text not in csv_body, (report.slug, params, text)
