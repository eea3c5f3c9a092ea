"""A salesperson in the admin sees only their own customers and those customers' orders
(RELIABILITY A2, A3, A4 for distributors and orders); roles with the model permission see all.
Run with -s for the figures."""

import pytest

from members.models import Distributor
from tests.factories import DistributorFactory, ProductFactory, StaffFactory, place_order
from tests.integration.staff.helpers import in_role, salesperson

pytestmark = pytest.mark.django_db

DISTRIBUTORS = "/admin/members/distributor/"
ORDERS = "/admin/orders/order/"


@pytest.fixture
def world():
    sales1 = in_role(salesperson(first_name="Lily").user, "sales")
    sales2 = in_role(salesperson(first_name="Kevin").user, "sales")
    product = ProductFactory(variants__stock=500)
    size = product.variants.order_by("position").first()
    mine, theirs = (
        DistributorFactory(company_name="Mine Trading", status=Distributor.Status.PENDING),
        DistributorFactory(company_name="Theirs Trading", status=Distributor.Status.PENDING),
    )
    Distributor.objects.filter(pk=mine.pk).update(owner=sales1, status="approved")
    Distributor.objects.filter(pk=theirs.pk).update(owner=sales2, status="approved")
    mine.refresh_from_db()
    theirs.refresh_from_db()
    return {
        "sales1": sales1,
        "mine": mine,
        "theirs": theirs,
        "my_order": place_order(mine.user, {size: 60}),
        "their_order": place_order(theirs.user, {size: 60}),
    }


def test_the_lists_show_only_their_own(client, world):
    client.force_login(world["sales1"])
    distributors = client.get(DISTRIBUTORS).content.decode()
    orders = client.get(ORDERS).content.decode()
    assert "Mine Trading" in distributors and "Theirs Trading" not in distributors
    assert world["my_order"].number in orders and world["their_order"].number not in orders
    searched = client.get(DISTRIBUTORS, {"q": "Trading"}).content.decode()
    assert "Theirs Trading" not in searched
    by_number = client.get(ORDERS, {"q": world["their_order"].number}).content.decode()
    assert "0 orders" in by_number or world["their_order"].number not in by_number
    print("\nA2: sales1 sees 1 of 2 distributors and 1 of 2 orders")


def test_foreign_object_pages_render_nothing(client, world):
    client.force_login(world["sales1"])
    theirs, their_order = world["theirs"], world["their_order"]
    urls = [
        f"{DISTRIBUTORS}{theirs.pk}/change/",
        f"{DISTRIBUTORS}{theirs.pk}/history/",
        f"{DISTRIBUTORS}{theirs.pk}/delete/",
        f"{ORDERS}{their_order.pk}/change/",
        f"{ORDERS}{their_order.pk}/history/",
        f"{ORDERS}{their_order.pk}/delete/",
    ]
    statuses = []
    for url in urls:
        response = client.get(url)
        statuses.append(response.status_code)
        assert response.status_code in (302, 403, 404), url
        body = response.content.decode()
        assert "Theirs Trading" not in body and their_order.number not in body, url
    print(f"\nA3: statuses {statuses}")


def test_their_own_pages_open_with_the_order_lines(client, world):
    client.force_login(world["sales1"])
    assert client.get(f"{DISTRIBUTORS}{world['mine'].pk}/change/").status_code == 200
    page = client.get(f"{ORDERS}{world['my_order'].pk}/change/").content.decode()
    assert world["my_order"].lines.get().sku in page
    assert "Payments" not in page  # payments stay finance's


def test_a_bulk_action_with_a_foreign_id_touches_only_their_own(client, world):
    client.force_login(world["sales1"])
    Distributor.objects.update(status=Distributor.Status.PENDING)
    client.post(
        DISTRIBUTORS,
        {
            "action": "approve",
            "_selected_action": [world["mine"].pk, world["theirs"].pk],
        },
    )
    statuses = dict(Distributor.objects.values_list("company_name", "status"))
    assert statuses == {"Mine Trading": "approved", "Theirs Trading": "pending"}
    print("\nA4: foreign objects affected 0")


@pytest.mark.parametrize("role", ["manager", "finance"])
def test_roles_with_the_model_permission_see_everyone(client, world, role):
    client.force_login(in_role(StaffFactory(), role))
    orders = client.get(ORDERS).content.decode()
    assert world["my_order"].number in orders and world["their_order"].number in orders
    assert "Theirs Trading" in client.get(DISTRIBUTORS).content.decode()


def test_an_own_object_page_checks_its_scope_once(client, world, django_assert_max_num_queries):
    """The admin asks a page's permissions many times over (buttons, inlines, fields): the
    scope is looked up once per object and request (17 queries before, 10 after)."""
    client.force_login(world["sales1"])
    url = f"{DISTRIBUTORS}{world['mine'].pk}/change/"
    client.get(url)
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200
