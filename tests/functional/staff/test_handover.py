"""Hand-overs through the admin: disputes handed to customer service, objects shared with a
colleague for a while, customers transferred between salespeople, and CSV exports — each
seen from every side (RELIABILITY A4, A6, A7, A8). Run with -s for the figures."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.utils import timezone

from members.models import Distributor
from orders import lifecycle
from orders.models import Order, OrderEvent, OrderState
from staff import roles
from staff.grants import grants_expire
from staff.models import AccessGrant, Dispute, OwnershipChange
from tests.factories import DistributorFactory, ProductFactory, StaffFactory, place_order
from tests.integration.staff.helpers import in_role, salesperson

pytestmark = pytest.mark.django_db

DISTRIBUTORS = "/admin/members/distributor/"
ORDERS = "/admin/orders/order/"


def paid(order):
    finance = in_role(StaffFactory(), roles.FINANCE)
    lifecycle.bank_transfer_confirm(order_id=order.pk, by=finance, reference="T-1")
    return Order.objects.get(pk=order.pk)


@pytest.fixture
def world():
    sales1 = in_role(salesperson(first_name="Lily").user, roles.SALES)
    sales2 = in_role(salesperson(first_name="Kevin").user, roles.SALES)
    service = in_role(StaffFactory(first_name="Sunny"), roles.CUSTOMER_SERVICE)
    manager = in_role(StaffFactory(first_name="Ming"), roles.MANAGER)
    product = ProductFactory(variants__stock=900)
    size = product.variants.order_by("position").first()
    mine = DistributorFactory(company_name="Mine Trading")
    theirs = DistributorFactory(company_name="Theirs Trading")
    Distributor.objects.filter(pk=mine.pk).update(owner=sales1)
    Distributor.objects.filter(pk=theirs.pk).update(owner=sales2)
    return {
        "sales1": sales1,
        "sales2": sales2,
        "service": service,
        "manager": manager,
        "mine": mine,
        "theirs": theirs,
        "my_order": paid(place_order(mine.user, {size: 60})),
        "my_other_order": paid(place_order(mine.user, {size: 60})),
        "their_order": paid(place_order(theirs.user, {size: 60})),
    }


def visible_orders(client, orders):
    page = client.get(ORDERS).content.decode()
    return sum(order.number in page for order in orders)


def open_dispute(client, order, service, reason="Buyer says two cartons arrived crushed"):
    return client.post(
        f"{ORDERS}{order.pk}/dispute/", {"handed_to": service.pk, "reason": reason}, follow=True
    )


def test_a_dispute_gives_customer_service_that_order_only_until_closed(client, world):
    order, service = world["my_order"], world["service"]
    every_order = [order, world["my_other_order"], world["their_order"]]
    client.force_login(service)
    before = visible_orders(client, every_order)
    assert client.get(f"{ORDERS}{order.pk}/change/").status_code == 404

    client.force_login(world["sales1"])
    page = client.get(f"{ORDERS}{order.pk}/change/").content.decode()
    assert "Dispute: hand to customer service" in page
    opened = open_dispute(client, order, service).content.decode()
    assert "is disputed and handed to Sunny" in opened
    order.refresh_from_db()
    assert order.state == OrderState.DISPUTED
    dispute = Dispute.objects.get(order=order)
    assert dispute.handled_by == service and dispute.state == Dispute.State.OPEN
    notes = list(order.events.filter(kind=OrderEvent.Kind.NOTE).values_list("reason", flat=True))
    assert any("Dispute handed to Sunny" in note for note in notes)

    client.force_login(service)
    during = visible_orders(client, every_order)
    assert client.get(f"{ORDERS}{order.pk}/change/").status_code == 200
    assert client.get(f"{ORDERS}{world['my_other_order'].pk}/change/").status_code == 404
    assert client.get("/admin/staff/dispute/").status_code == 200

    closed = client.post(
        f"{ORDERS}{order.pk}/dispute/close/",
        {"resolution": "Replacement cartons sent"},
        follow=True,
    )
    assert closed.status_code == 200
    order.refresh_from_db()
    assert order.state == OrderState.PROCESSING  # paid before the dispute: handled on
    after = visible_orders(client, every_order)
    assert client.get(f"{ORDERS}{order.pk}/change/").status_code == 404
    assert (before, during, after) == (0, 1, 0)
    grant = AccessGrant.objects.get(dispute__order=order)
    assert grant.revoked_by == service and grant.revoked_at is not None
    print(f"\nA6: customer service sees {before} → {during} → {after} orders")


def test_a_dispute_cannot_be_opened_on_someone_elses_order_or_by_customer_service(client, world):
    client.force_login(world["sales1"])
    their_order = world["their_order"]
    assert open_dispute(client, their_order, world["service"]).status_code == 404
    client.force_login(world["service"])
    assert open_dispute(client, world["my_order"], world["service"]).status_code == 404
    assert not Dispute.objects.exists()


def test_an_unpaid_order_cannot_be_disputed_and_a_reason_is_required(client, world):
    client.force_login(world["sales1"])
    size = ProductFactory(variants__stock=100).variants.first()
    unpaid = place_order(world["mine"].user, {size: 60})
    page = open_dispute(client, unpaid, world["service"]).content.decode()
    assert "cannot become disputed" in page
    blank = open_dispute(client, world["my_order"], world["service"], reason="  ")
    assert "This field is required" in blank.content.decode()
    not_service = client.post(
        f"{ORDERS}{world['my_order'].pk}/dispute/",
        {"handed_to": world["sales2"].pk, "reason": "wrong"},
    )
    assert not_service.status_code == 200  # the form refuses a salesperson as hand-over target
    assert not Dispute.objects.exists()


def test_sharing_a_customer_with_a_colleague_lasts_until_it_expires(client, world):
    mine = world["mine"]
    client.force_login(world["sales1"])
    response = client.post(
        f"{DISTRIBUTORS}{mine.pk}/share/",
        {"colleague": world["sales2"].pk, "days": 7, "reason": "Covering my holiday"},
    )
    assert response.status_code == 302
    grant = AccessGrant.objects.get()
    assert grant.kind == AccessGrant.Kind.SHARE and grant.granted_by == world["sales1"]

    client.force_login(world["sales2"])
    assert client.get(f"{DISTRIBUTORS}{mine.pk}/change/").status_code == 200
    assert "Mine Trading" in client.get(DISTRIBUTORS).content.decode()
    # A shared customer is not the colleague's to pass on.
    assert client.get(f"{DISTRIBUTORS}{mine.pk}/share/").status_code == 403

    assert grants_expire(now=timezone.now() + timedelta(days=8)) == 1
    assert client.get(f"{DISTRIBUTORS}{mine.pk}/change/").status_code == 404
    assert "Mine Trading" not in client.get(DISTRIBUTORS).content.decode()


def test_the_giver_revokes_a_share_from_the_grants_list(client, world):
    client.force_login(world["sales1"])
    client.post(
        f"{ORDERS}{world['my_order'].pk}/share/",
        {"colleague": world["service"].pk, "days": 3, "reason": "Please call the buyer"},
    )
    grant = AccessGrant.objects.get()
    client.force_login(world["sales2"])
    assert client.get(f"/admin/staff/accessgrant/{grant.pk}/change/").status_code == 404
    client.post("/admin/staff/accessgrant/", {"action": "revoke", "_selected_action": [grant.pk]})
    grant.refresh_from_db()
    assert grant.revoked_at is None  # not theirs to revoke

    client.force_login(world["service"])
    assert client.get(f"{ORDERS}{world['my_order'].pk}/change/").status_code == 200
    client.force_login(world["sales1"])
    client.post("/admin/staff/accessgrant/", {"action": "revoke", "_selected_action": [grant.pk]})
    grant.refresh_from_db()
    assert grant.revoked_by == world["sales1"]
    client.force_login(world["service"])
    assert client.get(f"{ORDERS}{world['my_order'].pk}/change/").status_code == 404


def test_a_transfer_switches_who_sees_the_customer_and_their_orders_at_once(client, world):
    mine, order = world["mine"], world["my_order"]
    client.force_login(world["manager"])
    page = client.post(
        DISTRIBUTORS,
        {"action": "transfer_selected", "_selected_action": [mine.pk]},
    ).content.decode()
    assert "Mine Trading" in page and "New salesperson" in page
    client.post(
        DISTRIBUTORS,
        {
            "action": "transfer_selected",
            "_selected_action": [mine.pk],
            "apply": "1",
            "to_owner": world["sales2"].pk,
            "reason": "Lily moves to the Europe desk",
        },
    )
    mine.refresh_from_db()
    assert mine.owner == world["sales2"]
    change = OwnershipChange.objects.get(distributor=mine, source="transfer")
    assert (change.from_owner, change.to_owner, change.by) == (
        world["sales1"],
        world["sales2"],
        world["manager"],
    )

    client.force_login(world["sales1"])
    sales1_sees = (
        client.get(f"{DISTRIBUTORS}{mine.pk}/change/").status_code,
        client.get(f"{ORDERS}{order.pk}/change/").status_code,
    )
    client.force_login(world["sales2"])
    sales2_sees = (
        client.get(f"{DISTRIBUTORS}{mine.pk}/change/").status_code,
        client.get(f"{ORDERS}{order.pk}/change/").status_code,
    )
    history = client.get(f"{DISTRIBUTORS}{mine.pk}/change/").content.decode()
    assert "Lily moves to the Europe desk" in history  # the ownership history on the page
    assert (sales1_sees, sales2_sees) == ((404, 404), (200, 200))
    print(f"\nA7: sales1 {sales1_sees}, sales2 {sales2_sees}, 1 history row")


def test_transfer_all_customers_of_someone_who_leaves(client, world):
    extra = DistributorFactory(company_name="Second Mine")
    Distributor.objects.filter(pk=extra.pk).update(owner=world["sales1"])
    client.force_login(world["manager"])
    assert "Transfer all customers" in client.get(DISTRIBUTORS).content.decode()
    same = client.post(
        f"{DISTRIBUTORS}transfer/",
        {"from_owner": world["sales1"].pk, "to_owner": world["sales1"].pk, "reason": "x"},
    )
    assert "Choose two different salespeople" in same.content.decode()
    client.post(
        f"{DISTRIBUTORS}transfer/",
        {"from_owner": world["sales1"].pk, "to_owner": world["sales2"].pk, "reason": "Left"},
    )
    assert not Distributor.objects.filter(owner=world["sales1"]).exists()
    assert OwnershipChange.objects.filter(source="transfer", reason="Left").count() == 2


def test_salespeople_cannot_transfer_even_their_own_customers(client, world):
    client.force_login(world["sales1"])
    assert client.get(f"{DISTRIBUTORS}transfer/").status_code == 403
    assert "Transfer all customers" not in client.get(DISTRIBUTORS).content.decode()
    client.post(
        DISTRIBUTORS,
        {
            "action": "transfer_selected",
            "_selected_action": [world["mine"].pk, world["theirs"].pk],
            "apply": "1",
            "to_owner": world["sales1"].pk,
            "reason": "Mine now",
        },
    )
    owners = dict(Distributor.objects.values_list("company_name", "owner"))
    assert owners == {"Mine Trading": world["sales1"].pk, "Theirs Trading": world["sales2"].pk}
    print("\nA4: transfer by a salesperson, foreign objects affected 0")


def rows(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_exports_hold_only_what_the_user_sees_and_neutralise_formulas(client, world):
    Distributor.objects.filter(pk=world["mine"].pk).update(company_name="=HYPERLINK(1)")
    client.force_login(world["sales1"])
    response = client.post(
        DISTRIBUTORS,
        {"action": "export_csv", "_selected_action": [world["mine"].pk, world["theirs"].pk]},
    )
    exported = rows(response)
    assert response["Content-Type"].startswith("text/csv")
    assert [row[0] for row in exported[1:]] == ["'=HYPERLINK(1)"]
    orders = rows(
        client.post(
            ORDERS,
            {
                "action": "export_csv",
                "_selected_action": [world["my_order"].pk, world["their_order"].pk],
            },
        )
    )
    assert [row[0] for row in orders[1:]] == [world["my_order"].number]
    print(f"\nA2/A4 export: sales1 got {len(exported) - 1} of 2 distributors, 1 of 2 orders")


def test_sales_and_service_cannot_confirm_refund_or_edit_what_is_not_theirs(client, world):
    size = ProductFactory(variants__stock=100).variants.first()
    unpaid = place_order(world["mine"].user, {size: 60})
    mine = world["mine"]
    for user in (world["sales1"], world["service"]):
        client.force_login(user)
        statuses = [
            client.post(f"{ORDERS}{unpaid.pk}/confirm-transfer/", {"reference": "x"}).status_code,
            client.post(
                f"{ORDERS}{world['my_order'].pk}/refund/", {"reason": "x", "full": "on"}
            ).status_code,
            client.post(
                f"{ORDERS}{world['my_order'].pk}/state/",
                {"to_state": "cancelled", "reason": "x"},
            ).status_code,
            client.post(f"{ORDERS}{world['my_order'].pk}/change/", {"email": "x@y.z"}).status_code,
        ]
        assert all(status in (403, 404) for status in statuses), statuses
        print(f"\nA8: {user.first_name} POSTs answered {statuses}")
    # The owner is read-only, even on the salesperson's own customer.
    client.force_login(world["sales1"])
    form = client.get(f"{DISTRIBUTORS}{mine.pk}/change/").context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    client.post(f"{DISTRIBUTORS}{mine.pk}/change/", {**data, "owner": world["sales2"].pk})
    mine.refresh_from_db()
    assert mine.owner == world["sales1"]
    unpaid.refresh_from_db()
    assert unpaid.state == OrderState.PENDING_PAYMENT
    assert not mail.outbox or all("refund" not in m.subject.lower() for m in mail.outbox)


def test_revenue_per_salesperson_counts_paid_orders_net_of_refunds(client, world):
    OwnershipChange.objects.create(
        distributor=world["mine"], to_owner=world["sales1"], source="referral"
    )
    client.force_login(StaffFactory(is_superuser=True))
    page = client.get("/admin/staff/salesprofile/").content.decode()
    mine_total = world["my_order"].grand_total_base + world["my_other_order"].grand_total_base
    assert f"{mine_total:,.2f}" in page  # revenue from Lily's customers, and from her link
    assert f"{world['their_order'].grand_total_base:,.2f}" in page


def test_a_salesperson_hands_an_inquiry_to_customer_service_who_can_answer_it(client, world):
    from staff.models import Inquiry

    inquiry = Inquiry.objects.create(
        kind=Inquiry.Kind.INQUIRY,
        name="Ana",
        email="ana@example.test",
        subject="Broken zipper on last order",
        owner=world["sales1"],
    )
    url = f"/admin/staff/inquiry/{inquiry.pk}/"
    client.force_login(world["service"])
    assert client.get(f"{url}change/").status_code == 404
    client.force_login(world["sales1"])
    assert "Hand over or share" in client.get(f"{url}change/").content.decode()
    client.post(
        f"{url}share/",
        {"colleague": world["service"].pk, "days": 5, "reason": "After-sales question"},
    )
    client.force_login(world["service"])
    assert client.get(f"{url}change/").status_code == 200
    client.post(f"{url}reply/", {"message": "We are sending a new zipper."})
    inquiry.refresh_from_db()
    assert inquiry.first_reply_at is not None
    client.force_login(world["sales2"])
    assert client.get(f"{url}share/").status_code == 404


def test_the_beat_job_revokes_shares_whose_time_is_up(world, settings):
    from wholesale.celery import app

    grant = AccessGrant.objects.create(
        content_type_id=ContentType.objects.get_for_model(Distributor).pk,
        object_id=world["mine"].pk,
        granted_to=world["sales2"],
        kind=AccessGrant.Kind.SHARE,
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    task = settings.CELERY_BEAT_SCHEDULE["staff-grants-expire"]["task"]
    app.tasks[task].delay()
    grant.refresh_from_db()
    assert grant.revoked_at is not None
