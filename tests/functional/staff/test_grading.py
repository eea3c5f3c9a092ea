"""Customer grading (A–D) and buyer type in the distributor admin: shown in the list,
filterable, set by the owning salesperson on the change form and by no other salesperson."""

import pytest

from members.models import BuyerType, Distributor, Grade
from tests.integration.staff.followup_helpers import (
    owned_distributor,
    sales_user,
    staff_in,
)

pytestmark = pytest.mark.django_db

DISTRIBUTORS = "/admin/members/distributor/"


@pytest.fixture
def world():
    sales1, sales2 = sales_user("Lily"), sales_user("Kevin")
    return {
        "sales1": sales1,
        "mine": owned_distributor(sales1, company_name="Mine Trading"),
        "theirs": owned_distributor(sales2, company_name="Theirs Trading", grade=Grade.B),
    }


def change_form_data(response, **changes) -> dict:
    """The POST that saves an admin change form as it was shown, with `changes`: the main
    form's values and each inline's management form."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else str(value)
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
    return {**data, **changes}


class TestSettingTheGrade:
    def test_the_change_form_offers_grade_and_buyer_type(self, client, world):
        client.force_login(world["sales1"])
        response = client.get(f"{DISTRIBUTORS}{world['mine'].pk}/change/")
        fields = response.context["adminform"].form.fields
        assert "grade" in fields and "buyer_type" in fields
        assert [value for value, _label in fields["grade"].choices] == ["", "A", "B", "C", "D"]
        assert "closed or about to buy" in response.content.decode()

    def test_a_salesperson_grades_their_own_customer(self, client, world):
        client.force_login(world["sales1"])
        url = f"{DISTRIBUTORS}{world['mine'].pk}/change/"
        response = client.post(
            url, change_form_data(client.get(url), grade="A", buyer_type="sample")
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        mine = Distributor.objects.get(pk=world["mine"].pk)
        assert (mine.grade, mine.buyer_type) == (Grade.A, BuyerType.SAMPLE)
        assert mine.company_name == "Mine Trading" and mine.owner == world["sales1"]

    def test_an_unknown_grade_is_a_form_error(self, client, world):
        client.force_login(world["sales1"])
        url = f"{DISTRIBUTORS}{world['mine'].pk}/change/"
        response = client.post(url, change_form_data(client.get(url), grade="E"))
        assert response.status_code == 200
        assert "grade" in response.context["adminform"].form.errors
        assert Distributor.objects.get(pk=world["mine"].pk).grade == ""

    def test_not_another_salespersons_customer(self, client, world):
        client.force_login(world["sales1"])
        mine_url = f"{DISTRIBUTORS}{world['mine'].pk}/change/"
        data = change_form_data(client.get(mine_url), grade="D", company_name="Taken")
        theirs_url = f"{DISTRIBUTORS}{world['theirs'].pk}/change/"
        response = client.post(theirs_url, data)
        assert response.status_code == 404
        assert "Theirs Trading" not in response.content.decode()
        theirs = Distributor.objects.get(pk=world["theirs"].pk)
        assert (theirs.grade, theirs.company_name) == (Grade.B, "Theirs Trading")
        print(f"\nA3 (grading): sales1 posting on sales2's customer → {response.status_code}")


class TestTheList:
    def test_shows_grade_and_buyer_type(self, client, world):
        Distributor.objects.filter(pk=world["mine"].pk).update(grade="C", buyer_type="big")
        client.force_login(world["sales1"])
        page = client.get(DISTRIBUTORS).content.decode()
        assert "column-grade" in page and "column-buyer_type" in page
        assert "C · clear intent" in page and "Big buyer" in page

    def test_filters_by_grade_within_their_own(self, client, world, django_assert_max_num_queries):
        sales1 = world["sales1"]
        Distributor.objects.filter(pk=world["mine"].pk).update(grade="B", buyer_type="small")
        owned_distributor(sales1, company_name="Mine Too", grade="A")
        owned_distributor(sales1, company_name="Mine Also", grade="B", buyer_type="big")
        client.force_login(sales1)
        with django_assert_max_num_queries(16):
            response = client.get(DISTRIBUTORS, {"grade__exact": "B"})
        names = sorted(d.company_name for d in response.context["cl"].result_list)
        assert names == ["Mine Also", "Mine Trading"]  # not sales2's grade-B customer
        by_type = client.get(DISTRIBUTORS, {"grade__exact": "B", "buyer_type__exact": "big"})
        assert [d.company_name for d in by_type.context["cl"].result_list] == ["Mine Also"]
        print("\nA2 (grade filter): sales1 sees 2 grade-B rows, owns 2, 3 exist")

    def test_the_list_costs_the_same_for_more_rows(self, client, world):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client.force_login(world["sales1"])
        with CaptureQueriesContext(connection) as few:
            client.get(DISTRIBUTORS, {"grade__exact": "A"})
        for n in range(6):
            owned_distributor(world["sales1"], company_name=f"More {n}", grade="A")
        with CaptureQueriesContext(connection) as more:
            response = client.get(DISTRIBUTORS, {"grade__exact": "A"})
        assert len(response.context["cl"].result_list) == 6
        assert len(more) == len(few)

    def test_the_manager_filters_everyone(self, client, world):
        client.force_login(staff_in("manager"))
        response = client.get(DISTRIBUTORS, {"grade__exact": "B"})
        assert [d.company_name for d in response.context["cl"].result_list] == ["Theirs Trading"]
