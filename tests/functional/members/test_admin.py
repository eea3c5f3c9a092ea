import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.models import BusinessType, Distributor, User
from tests.factories import DistributorFactory, StaffFactory

pytestmark = pytest.mark.django_db

USERS = "/admin/members/user/"
DISTRIBUTORS = "/admin/members/distributor/"


@pytest.fixture
def admin_client(client):
    client.force_login(StaffFactory(is_superuser=True, email="root@shop.example"))
    return client


class TestTheUserAdmin:
    def test_lists_and_searches_by_email(self, admin_client):
        DistributorFactory(user__email="ana@shop.example")
        DistributorFactory(user__email="bob@shop.example")
        response = admin_client.get(USERS, {"q": "ana@"})
        assert response.status_code == 200
        emails = [u.email for u in response.context["cl"].result_list]
        assert emails == ["ana@shop.example"]

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({"is_staff__exact": "1"}, {"root@shop.example", "staff@shop.example"}),
            ({"is_active__exact": "0"}, {"gone@shop.example"}),
        ],
    )
    def test_filters_staff_and_active(self, admin_client, query, expected):
        StaffFactory(email="staff@shop.example")
        DistributorFactory(user__email="gone@shop.example", user__is_active=False)
        DistributorFactory(user__email="ana@shop.example")
        response = admin_client.get(USERS, query)
        assert {u.email for u in response.context["cl"].result_list} == expected

    def test_adds_a_user_by_email(self, admin_client):
        response = admin_client.post(
            f"{USERS}add/",
            {
                "email": "New.Staff@Shop.example",
                "usable_password": "true",
                "password1": "a-long-staff-pass-31",
                "password2": "a-long-staff-pass-31",
            },
        )
        assert response.status_code == 302
        user = User.objects.get(email="new.staff@shop.example")
        assert user.check_password("a-long-staff-pass-31")

    def test_refuses_an_email_taken_in_another_case(self, admin_client):
        DistributorFactory(user__email="ana@shop.example")
        response = admin_client.post(
            f"{USERS}add/",
            {
                "email": "ANA@shop.example",
                "usable_password": "true",
                "password1": "a-long-staff-pass-31",
                "password2": "a-long-staff-pass-31",
            },
        )
        assert response.status_code == 200
        assert "email" in response.context["adminform"].form.errors
        assert User.objects.filter(email__iexact="ana@shop.example").count() == 1

    def test_changes_a_user(self, admin_client):
        user = DistributorFactory(user__email="ana@shop.example").user
        page = admin_client.get(f"{USERS}{user.pk}/change/")
        assert page.status_code == 200
        response = admin_client.post(
            f"{USERS}{user.pk}/change/",
            {
                "email": "ana.ruiz@shop.example",
                "first_name": "Ana",
                "last_name": "Ruiz",
                "is_active": "on",
                "is_staff": "on",
                "date_joined_0": "2026-01-02",
                "date_joined_1": "10:00:00",
            },
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        user.refresh_from_db()
        assert (user.email, user.first_name, user.is_staff) == (
            "ana.ruiz@shop.example",
            "Ana",
            True,
        )


class TestTheDistributorAdmin:
    def test_lists_the_columns_staff_need(self, admin_client):
        DistributorFactory(
            company_name="Tienda Ana SL",
            user__email="ana@shop.example",
            country="ES",
            business_type=BusinessType.MARKETPLACE,
            status=Distributor.Status.PENDING,
        )
        html = admin_client.get(DISTRIBUTORS).content.decode()
        for text in ("Tienda Ana SL", "ana@shop.example", "Spain", "Marketplace seller"):
            assert text in html
        assert "Waiting for approval" in html

    @pytest.mark.parametrize("term", ["Tienda", "ana@shop", "600 111"])
    def test_searches_company_email_and_phone(self, admin_client, term):
        DistributorFactory(
            company_name="Tienda Ana SL", user__email="ana@shop.example", phone="+34 600 111 222"
        )
        DistributorFactory(company_name="Other Co", phone="+1 555 0100")
        response = admin_client.get(DISTRIBUTORS, {"q": term})
        assert [d.company_name for d in response.context["cl"].result_list] == ["Tienda Ana SL"]

    def test_filters_by_status_and_country(self, admin_client):
        DistributorFactory(company_name="Pending PT", status="pending", country="PT")
        DistributorFactory(company_name="Approved PT", country="PT")
        DistributorFactory(company_name="Pending ES", status="pending", country="ES")
        response = admin_client.get(DISTRIBUTORS, {"status__exact": "pending", "country": "PT"})
        assert [d.company_name for d in response.context["cl"].result_list] == ["Pending PT"]

    def test_query_count_does_not_grow_with_the_list(self, admin_client):
        DistributorFactory()
        with CaptureQueriesContext(connection) as one:
            assert admin_client.get(DISTRIBUTORS).status_code == 200
        DistributorFactory.create_batch(8)
        with CaptureQueriesContext(connection) as nine:
            assert admin_client.get(DISTRIBUTORS).status_code == 200
        assert len(nine) == len(one)

    def test_the_status_cannot_be_edited_in_the_form(self, admin_client):
        distributor = DistributorFactory(status=Distributor.Status.PENDING)
        response = admin_client.get(f"{DISTRIBUTORS}{distributor.pk}/change/")
        form = response.context["adminform"].form
        assert "status" not in form.fields
        assert "user" not in form.fields


class TestApprovingDistributors:
    def run_action(self, client, action, *distributors):
        return client.post(
            DISTRIBUTORS,
            {"action": action, "_selected_action": [d.pk for d in distributors], "index": 0},
            follow=True,
        )

    def test_approves_the_selected_and_emails_each(
        self, admin_client, django_capture_on_commit_callbacks
    ):
        first = DistributorFactory(status="pending", user__email="a@shop.example")
        second = DistributorFactory(status="rejected", user__email="b@shop.example")
        untouched = DistributorFactory(status="pending")

        with django_capture_on_commit_callbacks(execute=True):
            response = self.run_action(admin_client, "approve", first, second)

        assert "2 distributors approved" in response.content.decode()
        for distributor in (first, second):
            distributor.refresh_from_db()
            assert distributor.status == Distributor.Status.APPROVED
            assert distributor.status_changed_by.email == "root@shop.example"
        untouched.refresh_from_db()
        assert untouched.status == Distributor.Status.PENDING
        assert sorted(m.to[0] for m in mail.outbox) == ["a@shop.example", "b@shop.example"]
        assert "approved" in mail.outbox[0].subject

    def test_approving_an_approved_distributor_sends_no_second_email(
        self, admin_client, django_capture_on_commit_callbacks
    ):
        approved = DistributorFactory(status="approved")
        with django_capture_on_commit_callbacks(execute=True):
            response = self.run_action(admin_client, "approve", approved)
        assert "0 distributors approved" in response.content.decode()
        assert mail.outbox == []

    def test_rejects_the_selected_without_an_email(
        self, admin_client, django_capture_on_commit_callbacks
    ):
        pending = DistributorFactory(status="pending")
        with django_capture_on_commit_callbacks(execute=True):
            response = self.run_action(admin_client, "reject", pending)
        assert "1 distributor rejected" in response.content.decode()
        pending.refresh_from_db()
        assert pending.status == Distributor.Status.REJECTED
        assert mail.outbox == []

    def test_staff_who_may_only_view_cannot_run_the_actions(self, client):
        from django.contrib.auth.models import Permission

        viewer = StaffFactory()
        viewer.user_permissions.add(Permission.objects.get(codename="view_distributor"))
        client.force_login(viewer)
        pending = DistributorFactory(status="pending")

        page = client.get(DISTRIBUTORS)
        assert page.status_code == 200
        assert "approve" not in page.context["cl"].model_admin.get_actions(page.wsgi_request)
        self.run_action(client, "approve", pending)
        pending.refresh_from_db()
        assert pending.status == Distributor.Status.PENDING


class TestAddingADistributorByHand:
    def test_starts_approved_and_stamped_with_who_added_it(self, admin_client):
        from tests.factories import UserFactory

        user = UserFactory(email="walk-in@shop.example")
        response = admin_client.post(
            f"{DISTRIBUTORS}add/",
            {
                "user": user.pk,
                "company_name": "Walk-in Traders",
                "contact_name": "Li Wei",
                "country": "MY",
                "business_type": BusinessType.OFFLINE_SHOP,
                "phone": "+60 12 345 6789",
                "website": "walkin.example",
            },
        )
        assert response.status_code == 302
        distributor = Distributor.objects.get(user=user)
        assert distributor.status == Distributor.Status.APPROVED
        assert distributor.status_changed_by.email == "root@shop.example"
        assert distributor.website == "https://walkin.example"

    def test_the_user_picker_searches_by_email(self, admin_client):
        DistributorFactory(user__email="ana@shop.example")
        response = admin_client.get(
            "/admin/autocomplete/",
            {
                "term": "ana@",
                "app_label": "members",
                "model_name": "distributor",
                "field_name": "user",
            },
        )
        assert response.status_code == 200
        assert [r["text"] for r in response.json()["results"]] == ["ana@shop.example"]
