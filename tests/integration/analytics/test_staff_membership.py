"""Reports 12 (salespeople), 13 (customer service) and 15 (membership and points) on small
known histories: every figure worked out by hand, the filters, each viewer's narrowing (a
salesperson or a customer service member sees only their own row, whatever the URL says), the
CSV, the query-count pins and who may open each report.

Conversations, disputes, level changes and ledger entries are written directly with the dates
the tests need, as the demo seed writes its conversations; the services stamp them "now"."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from members.models import Distributor, Level, LevelChange, PointsAccount, PointsEntry, PointsRules
from staff import roles
from staff.models import Dispute, Inquiry, InquiryMessage, OwnershipChange, ReferralVisit
from tests.analytics_helpers import a_buyer, a_sale, day
from tests.factories import ProductFactory, StaffFactory
from tests.integration.staff.helpers import in_role, salesperson

pytestmark = pytest.mark.django_db

RANGE = {"start": "2026-06-01", "end": "2026-06-30"}  # TODAY is 30 June; compared with May 2–31


def cards(response) -> dict:
    return {str(card.label): card for card in response.context["result"].cards}


def rows_by(response, key) -> dict:
    return {row[key]: row for row in response.context["result"].rows}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def manager_client() -> Client:
    return logged_in(in_role(StaffFactory(), roles.MANAGER))


def who_may_open(url, allowed):
    for role in (roles.MANAGER, roles.FINANCE, roles.SALES, roles.CUSTOMER_SERVICE, roles.EDITOR):
        status = 200 if role in allowed else 403
        response = logged_in(in_role(StaffFactory(), role)).get(url, RANGE)
        assert response.status_code == status, role
    assert Client().get(url).status_code == 302


def inquiry(owner, opened, reply_hours=None, *, country="", replier=None):
    """A conversation opened at `opened`, first answered `reply_hours` later by `replier`
    (its owner by default), or still waiting."""
    first_reply = opened + timedelta(hours=reply_hours) if reply_hours is not None else None
    conversation = Inquiry.objects.create(
        kind=Inquiry.Kind.INQUIRY,
        state=Inquiry.State.ANSWERED if first_reply else Inquiry.State.NEW,
        name="Customer",
        email="customer@example.test",
        subject="Prices",
        country=country,
        owner=owner,
        created_at=opened,
        first_reply_at=first_reply,
        last_message_at=first_reply or opened,
    )
    InquiryMessage.objects.create(inquiry=conversation, body="How much?", created_at=opened)
    if first_reply:
        reply(conversation, replier or owner, first_reply)
    return conversation


def reply(conversation, author, at):
    InquiryMessage.objects.create(
        inquiry=conversation, author=author, from_staff=True, body="This much.", created_at=at
    )


# --- 12. Salespeople --------------------------------------------------------------------------


@pytest.fixture
def sales_team():
    lily_profile = salesperson("Lily")
    kevin_profile = salesperson("Kevin")
    lily = in_role(lily_profile.user, roles.SALES)
    kevin = in_role(kevin_profile.user, roles.SALES)
    variant = ProductFactory(variants=["S"]).variants.get()
    # Ana came to Lily through her link in June and ordered 100; Ben came in May (through the
    # link too) and ordered 30 in June; Eve signed up through Lily's link in June and was
    # handed to Kevin, then ordered 10; Cleo came to Kevin through his link and has not
    # ordered; Dan, Kevin's since long ago, ordered 200.
    ana = a_buyer(country="DE", owner=lily, level="Gold", owner_since=day(5))
    ben = a_buyer(country="FR", owner=lily, owner_since=day(40))
    eve = a_buyer(country="DE", owner=kevin, owner_since=day(6))
    cleo = a_buyer(country="DE", owner=kevin, owner_since=day(3))
    dan = a_buyer(country="FR", owner=kevin, owner_since=day(100))
    referral = OwnershipChange.Source.REFERRAL
    for buyer, owner, at in [(ana, lily, 5), (ben, lily, 40), (eve, lily, 8), (cleo, kevin, 3)]:
        OwnershipChange.objects.create(
            distributor=buyer.distributor, to_owner=owner, source=referral, created_at=day(at)
        )
    OwnershipChange.objects.create(
        distributor=eve.distributor,
        from_owner=lily,
        to_owner=kevin,
        source=OwnershipChange.Source.TRANSFER,
        created_at=day(6),
    )
    a_sale(ana, {variant: (25, "4.00")}, paid_at=day(2))
    a_sale(ben, {variant: (10, "3.00")}, paid_at=day(10))
    a_sale(eve, {variant: (5, "2.00")}, paid_at=day(1))
    a_sale(dan, {variant: (20, "10.00")}, paid_at=day(4))
    a_sale(dan, {variant: (15, "2.00")}, paid_at=day(35))  # May: 30
    for at in (1, 2, 3, 40):
        ReferralVisit.objects.create(sales_profile=lily_profile, visited_at=day(at))
    ReferralVisit.objects.create(sales_profile=kevin_profile, visited_at=day(7))
    # Lily answers in 1 h (a French customer), 2 h and 6 h, and one waits; Kevin in 4 h;
    # in May Lily took 10 h.
    inquiry(lily, day(9), 1, country="FR")
    inquiry(lily, day(8), 2, country="DE")
    inquiry(lily, day(7), 6, country="DE")
    inquiry(lily, day(6), country="DE")
    inquiry(kevin, day(5), 4, country="DE")
    inquiry(lily, day(35), 10, country="DE")
    return {"lily": lily, "kevin": kevin}


def test_each_salespersons_figures_and_the_leaderboard(sales_team):
    response = manager_client().get("/analytics/salespeople/", {**RANGE, "compare": "previous"})
    assert response.status_code == 200
    rows = rows_by(response, "salesperson")
    lily, kevin = rows["Lily"], rows["Kevin"]
    assert (kevin["rank"], lily["rank"]) == (1, 2)  # 210 before 130
    assert [row["salesperson"] for row in response.context["result"].rows] == ["Kevin", "Lily"]
    assert lily["new_customers"] == 1  # Ana (Ben came in May, Eve went to Kevin)
    assert kevin["new_customers"] == 2  # Eve and Cleo
    assert (lily["visits"], lily["signups"], lily["first_orders"]) == (3, 2, 2)  # Ana, Eve
    assert (kevin["visits"], kevin["signups"], kevin["first_orders"]) == (1, 1, 0)
    assert (lily["revenue"], lily["orders"]) == (Decimal("130.00"), 2)
    assert (kevin["revenue"], kevin["orders"]) == (Decimal("210.00"), 2)
    assert lily["reply_median"] == Decimal("2.00")  # of 1, 2 and 6 hours
    assert lily["reply_average"] == Decimal("3.00")
    assert lily["waiting"] == 1
    assert kevin["reply_median"] == Decimal("4.00")
    found = cards(response)
    assert (found["Revenue"].value, found["Revenue"].previous) == (
        Decimal("340.00"),
        Decimal("30.00"),
    )
    assert found["New customers"].value == 3 and found["New customers"].previous == 1  # Ben
    assert found["Link visits"].value == 4 and found["Link visits"].previous == 1
    # Ben signed up in May and ordered only in June: no first order by the end of May.
    assert found["Link signups"].previous == 1 and found["First orders"].previous == 0
    # The median over all four answered conversations (1, 2, 4, 6 h), not a sum of medians.
    assert found["Median first reply (hours)"].value == Decimal("3.00")
    assert found["Median first reply (hours)"].previous == Decimal("10.00")
    chart = response.context["result"].chart
    assert chart.kind == "bar" and chart.labels == ["Kevin", "Lily"]
    assert chart.series[0].values == [Decimal("210.00"), Decimal("130.00")]


def test_country_and_level_filters(sales_team):
    french = rows_by(
        manager_client().get("/analytics/salespeople/", {**RANGE, "country": "FR"}),
        "salesperson",
    )
    assert french["Lily"]["revenue"] == Decimal("30.00")  # Ben
    assert french["Kevin"]["revenue"] == Decimal("200.00")  # Dan
    assert french["Lily"]["signups"] == 0 and french["Lily"]["new_customers"] == 0
    assert french["Lily"]["reply_median"] == Decimal("1.00")  # the French customer's inquiry
    assert french["Lily"]["visits"] == 3  # a visit has no country
    gold = Level.objects.get(name="Gold").pk
    golden = rows_by(
        manager_client().get("/analytics/salespeople/", {**RANGE, "level": gold}), "salesperson"
    )
    assert (golden["Lily"]["revenue"], golden["Lily"]["new_customers"]) == (
        Decimal("100.00"),
        1,
    )
    assert golden["Lily"]["signups"] == 1 and golden["Kevin"]["revenue"] == Decimal("0.00")


def test_a_salesperson_sees_only_their_own_row_whatever_the_url_says(sales_team):
    client = logged_in(sales_team["lily"])
    response = client.get(
        "/analytics/salespeople/", {**RANGE, "salesperson": sales_team["kevin"].pk}
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert [row["salesperson"] for row in result.rows] == ["Lily"]
    assert "rank" not in [column.key for column in result.columns]
    assert cards(response)["Revenue"].value == Decimal("130.00")
    assert cards(response)["Revenue"].previous == Decimal("0.00")
    assert cards(response)["Median first reply (hours)"].value == Decimal("2.00")
    assert result.chart.labels == ["Lily"]
    assert "Kevin" not in response.content.decode()


def test_the_csv_holds_the_leaderboard(sales_team):
    response = manager_client().get("/analytics/salespeople/", {**RANGE, "format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["Rank"], r["Salesperson"], r["Revenue"]) for r in rows] == [
        ("1", "Kevin", "210.00"),
        ("2", "Lily", "130.00"),
    ]
    assert rows[1]["Link signups"] == "2" and rows[1]["Median first reply (hours)"] == "2.00"


def test_the_salespeople_page_costs_the_same_whatever_the_team(
    sales_team, django_assert_max_num_queries
):
    client = manager_client()
    client.get("/analytics/salespeople/", RANGE)  # the session and permissions, once
    with django_assert_max_num_queries(19):
        assert client.get("/analytics/salespeople/", RANGE).status_code == 200
    for name in ("Mia", "Noah", "Omar"):
        newcomer = salesperson(name).user
        buyer = a_buyer(owner=newcomer, owner_since=day(2))
        a_sale(buyer, {ProductFactory(variants=["S"]).variants.get(): (1, "9.00")}, paid_at=day(1))
    with django_assert_max_num_queries(19):
        response = client.get("/analytics/salespeople/", RANGE)
    # The three newcomers' equal revenue shares a place.
    assert [row["rank"] for row in response.context["result"].rows] == [1, 2, 3, 3, 3]


def test_who_may_open_the_salespeople_report(sales_team):
    who_may_open("/analytics/salespeople/", {roles.MANAGER, roles.SALES})


# --- 13. Customer service ---------------------------------------------------------------------


@pytest.fixture
def service_desk():
    lily = in_role(salesperson("Lily").user, roles.SALES)
    cara = in_role(StaffFactory(first_name="Cara"), roles.CUSTOMER_SERVICE)
    dino = in_role(StaffFactory(first_name="Dino"), roles.CUSTOMER_SERVICE)
    max_ = in_role(StaffFactory(first_name="Max"), roles.MANAGER)
    # Cara answers two of Lily's conversations first, in 2 h and 6 h (writing twice in the
    # first); Max writes in the second too. Lily answers her third herself in 1 h and Dino
    # follows up; Dino answers an unowned one first in 1 h, and in May one in 3 h.
    first = inquiry(lily, day(10, hour=8), 2, replier=cara)
    reply(first, cara, day(10, hour=14))
    second = inquiry(lily, day(9, hour=8), 6, replier=cara)
    reply(second, max_, day(9, hour=16))
    third = inquiry(lily, day(8, hour=8), 1)
    reply(third, dino, day(7))
    inquiry(None, day(5, hour=8), 1, replier=dino)
    inquiry(lily, day(40, hour=8), 3, replier=dino)
    inquiry(lily, day(4, hour=8), 1)  # Lily's own work: not customer service's
    variant = ProductFactory(variants=["S"]).variants.get()
    buyer = a_buyer(owner=lily)

    def dispute(handled_by, opened, closed=None):
        order = a_sale(buyer, {variant: (1, "10.00")}, paid_at=day(60))
        Dispute.objects.create(
            order=order,
            reason="Crushed cartons",
            opened_by=lily,
            handled_by=handled_by,
            opened_at=day(opened),
            state=Dispute.State.CLOSED if closed is not None else Dispute.State.OPEN,
            closed_at=day(closed) if closed is not None else None,
            closed_by=handled_by if closed is not None else None,
        )

    dispute(cara, 20, 18)  # resolved in June in 2 days
    dispute(cara, 5)  # still open
    dispute(dino, 45, 15)  # handed over in May, resolved in June in 30 days
    return {"cara": cara, "dino": dino, "max": max_, "lily": lily}


def test_each_persons_service_figures(service_desk):
    response = manager_client().get(
        "/analytics/customer-service/", {**RANGE, "compare": "previous"}
    )
    assert response.status_code == 200
    rows = rows_by(response, "person")
    assert set(rows) == {"Cara", "Dino", "Max"}  # Lily only answered her own
    cara, dino, max_ = rows["Cara"], rows["Dino"], rows["Max"]
    assert (cara["inquiries"], cara["replies"], cara["answered"]) == (2, 3, 2)
    assert cara["reply_median"] == Decimal("4.00")  # of 2 and 6 hours
    assert cara["quick_share"] == Decimal("50.00")
    assert (cara["disputes_handed"], cara["disputes_resolved"], cara["disputes_open"]) == (2, 1, 1)
    assert cara["resolve_days"] == Decimal("2.00")
    assert (dino["inquiries"], dino["answered"], dino["reply_median"]) == (2, 1, Decimal("1.00"))
    assert dino["quick_share"] == Decimal("100.00")
    assert (dino["disputes_handed"], dino["disputes_resolved"], dino["disputes_open"]) == (0, 1, 0)
    assert dino["resolve_days"] == Decimal("30.00")
    assert (max_["inquiries"], max_["answered"], max_["reply_median"]) == (1, 0, None)
    found = cards(response)
    # Four conversations (Cara's and Max's shared one counted once); first replies in 2, 6
    # and 1 hours.
    assert (found["Inquiries handled"].value, found["Inquiries handled"].previous) == (4, 1)
    assert found["Median first reply (hours)"].value == Decimal("2.00")
    assert found["Median first reply (hours)"].previous == Decimal("3.00")
    assert found["Answered within 4 hours"].value == Decimal("66.67")
    assert (found["Disputes handed over"].value, found["Disputes handed over"].previous) == (2, 1)
    assert found["Disputes resolved"].value == 2
    assert found["Disputes open now"].value == 1 and found["Disputes open now"].previous is None
    chart = response.context["result"].chart
    assert chart.kind == "bar" and len(chart.series) == 2


def test_customer_service_sees_only_their_own_row(service_desk):
    response = logged_in(service_desk["dino"]).get("/analytics/customer-service/", RANGE)
    assert response.status_code == 200
    result = response.context["result"]
    assert [row["person"] for row in result.rows] == ["Dino"]
    assert cards(response)["Inquiries handled"].value == 2
    assert cards(response)["Disputes open now"].value == 0
    assert "Cara" not in response.content.decode()


def test_the_service_page_costs_a_fixed_number_of_queries(
    service_desk, django_assert_max_num_queries
):
    client = manager_client()
    client.get("/analytics/customer-service/", RANGE)
    with django_assert_max_num_queries(15):
        assert client.get("/analytics/customer-service/", RANGE).status_code == 200
    for name in ("Eli", "Fay"):
        helper = in_role(StaffFactory(first_name=name), roles.CUSTOMER_SERVICE)
        inquiry(service_desk["lily"], day(3), 2, replier=helper)
    with django_assert_max_num_queries(15):
        response = client.get("/analytics/customer-service/", RANGE)
    assert len(response.context["result"].rows) == 5


def test_who_may_open_the_service_report(service_desk):
    who_may_open("/analytics/customer-service/", {roles.MANAGER, roles.CUSTOMER_SERVICE})


# --- 15. Membership and points ----------------------------------------------------------------


@pytest.fixture
def membership():
    level = {level.name: level for level in Level.objects.all()}
    b1 = a_buyer(country="DE", level="Member")
    b2 = a_buyer(country="DE", level="Silver")
    b3 = a_buyer(country="FR", level="Gold")
    a_buyer(country="FR")  # no level
    b5 = a_buyer(country="DE", level="Member")
    a_buyer(country="DE", level="Gold", status=Distributor.Status.REJECTED)  # not a buyer

    def moved(buyer, from_name, to_name, at):
        LevelChange.objects.create(
            distributor=buyer.distributor,
            from_level=level.get(from_name),
            to_level=level.get(to_name),
            spend=Decimal("0"),
            order_count=0,
            reason="test",
            created_at=day(at),
        )

    moved(b2, "Member", "Silver", 10)
    moved(b3, "Member", "Silver", 20)
    moved(b3, "Silver", "Gold", 8)
    moved(b1, "Silver", "Member", 5)
    moved(b5, None, "Member", 2)
    moved(b1, "Member", "Silver", 40)  # May

    def entry(buyer, kind, points, at):
        PointsEntry.objects.create(
            member=buyer, kind=kind, points=points, reason="test", created_at=day(at)
        )

    Kind = PointsEntry.Kind
    entry(b1, Kind.EARN, 400, 40)
    entry(b1, Kind.EARN, 500, 20)
    entry(b1, Kind.REDEEM, -200, 10)
    entry(b2, Kind.EARN, 100, 200)
    entry(b2, Kind.EARN, 300, 5)
    entry(b2, Kind.EXPIRE, -100, 4)
    entry(b3, Kind.EARN, 1000, 12)
    entry(b3, Kind.REVERSE, -50, 11)
    entry(b3, Kind.ADJUST, 25, 9)
    for buyer, balance in [(b1, 700), (b2, 300), (b3, 975)]:
        PointsAccount.objects.create(member=buyer, balance=balance)
    PointsRules.objects.filter(pk=1).update(point_value=Decimal("0.05"))


def finance_client() -> Client:
    return logged_in(in_role(StaffFactory(), roles.FINANCE))


def test_levels_moves_and_the_points_ledger(membership):
    response = finance_client().get("/analytics/membership/", {**RANGE, "compare": "previous"})
    assert response.status_code == 200
    found = cards(response)
    assert found["Buyers"].value == 5
    assert (found["Moved up"].value, found["Moved up"].previous) == (3, 1)
    assert (found["Moved down"].value, found["Moved down"].previous) == (1, 0)
    assert (found["Points earned"].value, found["Points earned"].previous) == (1800, 400)
    assert (found["Points redeemed"].value, found["Points redeemed"].previous) == (200, 0)
    assert found["Points expired"].value == 100
    assert found["Points reversed (net)"].value == -50
    assert found["Points adjusted (net)"].value == 25
    assert found["Points outstanding"].value == 1975
    assert found["Outstanding points' value"].value == Decimal("98.75")  # at 0.05 a point
    chart = response.context["result"].chart
    assert chart.kind == "doughnut"
    assert dict(zip(chart.labels, chart.series[0].values, strict=True)) == {
        "Member": 2,
        "Silver": 1,
        "Gold": 1,
        "Platinum": 0,
        "No level": 1,
    }
    moves = {(r["from_level"], r["to_level"]): r for r in response.context["result"].rows}
    assert moves[("Member", "Silver")]["changes"] == 2
    assert moves[("Member", "Silver")]["direction"] == "up"
    assert moves[("Silver", "Member")]["direction"] == "down"
    assert moves[("No level", "Member")]["direction"] == "first level"
    assert moves[("Silver", "Gold")]["buyers"] == 1
    assert len(moves) == 4


def test_the_country_filter_narrows_buyers_moves_and_points(membership):
    response = finance_client().get("/analytics/membership/", {**RANGE, "country": "FR"})
    found = cards(response)
    assert found["Buyers"].value == 2
    assert (found["Moved up"].value, found["Moved down"].value) == (2, 0)
    assert (found["Points earned"].value, found["Points redeemed"].value) == (1000, 0)
    assert found["Points outstanding"].value == 975
    assert found["Outstanding points' value"].value == Decimal("48.75")


def test_the_membership_csv_lists_the_moves(membership):
    response = finance_client().get("/analytics/membership/", {**RANGE, "format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0] == {
        "From": "Member",
        "To": "Silver",
        "Direction": "up",
        "Moves": "2",
        "Buyers": "2",
    }
    assert sum(int(row["Moves"]) for row in rows) == 5


def test_the_membership_page_costs_a_fixed_number_of_queries(
    membership, django_assert_max_num_queries
):
    client = finance_client()
    client.get("/analytics/membership/", RANGE)
    with django_assert_max_num_queries(13):
        assert client.get("/analytics/membership/", RANGE).status_code == 200
    gold, platinum = Level.objects.get(name="Gold"), Level.objects.get(name="Platinum")
    for _ in range(3):
        buyer = a_buyer(country="IT", level="Platinum")
        LevelChange.objects.create(
            distributor=buyer.distributor,
            from_level=gold,
            to_level=platinum,
            spend=Decimal("40000"),
            order_count=50,
            reason="test",
            created_at=day(1),
        )
        PointsEntry.objects.create(
            member=buyer, kind=PointsEntry.Kind.EARN, points=10, reason="test", created_at=day(1)
        )
    with django_assert_max_num_queries(13):
        response = client.get("/analytics/membership/", RANGE)
    assert cards(response)["Moved up"].value == 6


def test_who_may_open_the_membership_report(membership):
    who_may_open("/analytics/membership/", {roles.MANAGER, roles.FINANCE})
