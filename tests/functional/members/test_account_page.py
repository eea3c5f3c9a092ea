import pytest

from members.models import Distributor
from tests.factories import DistributorFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PROFILE = {
    "company_name": "Tienda Ana SL",
    "contact_name": "Ana Ruiz",
    "country": "PT",
    "business_type": "marketplace",
    "phone": "+351 900 000 000",
    "website": "https://tienda.example",
    "tax_number": "PT123456789",
}


class TestTheAccountPage:
    def test_sends_guests_to_the_login(self, client):
        response = client.get("/account/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/account/"

    def test_shows_the_profile_to_edit(self, client):
        distributor = DistributorFactory(company_name="Trading Ana")
        client.force_login(distributor.user)
        response = client.get("/account/")
        assert response.status_code == 200
        assert response.context["form"].instance == distributor
        html = response.content.decode()
        assert 'value="Trading Ana"' in html
        assert "You can see our wholesale prices and place orders." in html

    @pytest.mark.parametrize(
        ("status", "text"),
        [
            ("approved", "You can see our wholesale prices and place orders."),
            ("pending", "Your trade account is waiting for approval."),
            ("rejected", "We could not approve your trade account."),
        ],
    )
    def test_shows_the_approval_status(self, client, status, text):
        distributor = DistributorFactory(status=status)
        client.force_login(distributor.user)
        html = client.get("/account/").content.decode()
        assert text in html
        assert f'class="account-status status-{status}"' in html

    def test_a_deactivated_login_is_logged_out(self, client):
        distributor = DistributorFactory()
        client.force_login(distributor.user)
        distributor.user.is_active = False
        distributor.user.save()
        assert client.get("/account/").status_code == 302

    def test_saves_the_profile(self, client):
        distributor = DistributorFactory()
        client.force_login(distributor.user)
        response = client.post("/account/", PROFILE)
        assert response.status_code == 302
        assert response["Location"] == "/account/"
        distributor.refresh_from_db()
        assert distributor.company_name == "Tienda Ana SL"
        assert distributor.country.code == "PT"
        assert distributor.business_type == "marketplace"
        followed = client.get("/account/").content.decode()
        assert "Your company profile is saved." in followed

    def test_cannot_change_the_status_or_the_owner(self, client):
        distributor = DistributorFactory(status=Distributor.Status.PENDING)
        other = UserFactory()
        client.force_login(distributor.user)
        client.post("/account/", {**PROFILE, "status": "approved", "user": other.pk})
        distributor.refresh_from_db()
        assert distributor.status == Distributor.Status.PENDING
        assert distributor.user_id != other.pk

    @pytest.mark.parametrize(
        "bad",
        [
            {"company_name": ""},
            {"country": "XX"},
            {"business_type": "pirate"},
            {"website": "not a url"},
            {"phone": "9" * 41},
        ],
    )
    def test_bad_input_is_shown_and_changes_nothing(self, client, bad):
        distributor = DistributorFactory(company_name="Before")
        client.force_login(distributor.user)
        response = client.post("/account/", {**PROFILE, **bad})
        assert response.status_code == 200
        assert set(response.context["form"].errors) == set(bad)
        assert 'class="errorlist' in response.content.decode()
        distributor.refresh_from_db()
        assert distributor.company_name == "Before"

    def test_text_is_escaped(self, client):
        distributor = DistributorFactory()
        client.force_login(distributor.user)
        client.post("/account/", {**PROFILE, "company_name": "<script>alert(1)</script>"})
        html = client.get("/account/").content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_links_to_password_and_email_management(self, buyer_client):
        html = buyer_client.get("/account/").content.decode()
        assert 'href="/accounts/password/change/"' in html
        assert 'href="/accounts/email/"' in html


class TestTheAccountPageForStaff:
    def test_staff_without_a_profile_see_a_short_page(self, client):
        client.force_login(StaffFactory())
        response = client.get("/account/")
        assert response.status_code == 200
        assert response.templates[0].name == "members/account_staff.html"
        assert 'href="/admin/"' in response.content.decode()
        assert "form" not in response.context

    def test_staff_posting_the_profile_form_create_nothing(self, client):
        client.force_login(StaffFactory())
        client.post("/account/", PROFILE)
        assert not Distributor.objects.exists()


class TestALoginWithoutAProfile:
    def test_is_asked_to_complete_one(self, client):
        client.force_login(UserFactory())
        html = client.get("/account/").content.decode()
        assert "Complete your company profile" in html

    def test_completing_it_registers_a_distributor(self, client, settings):
        settings.WHOLESALE_REQUIRE_APPROVAL = True
        user = UserFactory()
        client.force_login(user)
        assert client.post("/account/", PROFILE).status_code == 302
        distributor = Distributor.objects.get(user=user)
        assert distributor.company_name == "Tienda Ana SL"
        assert distributor.status == Distributor.Status.PENDING
