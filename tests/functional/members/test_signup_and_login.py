import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from members.models import BusinessType, Distributor, User
from tests.factories import PASSWORD, DistributorFactory
from tests.functional.members.signup_data import SIGNUP

pytestmark = pytest.mark.django_db


def confirmation_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body).group(1)


def log_in(client, email, password, **extra):
    return client.post("/accounts/login/", {"login": email, "password": password}, **extra)


class TestTheSignupPage:
    def test_asks_for_the_login_first_then_the_business(self, client):
        response = client.get("/accounts/signup/")
        assert response.status_code == 200
        form = response.context["form"]
        assert list(form.fields)[:3] == ["email", "password1", "password2"]
        assert list(form.fields)[3:] == [
            "company_name",
            "contact_name",
            "country",
            "business_type",
            "phone",
            "website",
            "tax_number",
        ]

    def test_renders_inside_the_shop_layout_with_help_texts(self, client):
        html = client.get("/accounts/signup/").content.decode()
        assert 'class="site-header"' in html
        assert 'class="form-card form-signup"' in html
        assert "Your business" in html
        assert 'id="id_phone_helptext"' in html
        assert 'aria-describedby="id_phone_helptext"' in html
        assert html.index('name="email"') < html.index('name="company_name"')

    def test_says_new_accounts_are_reviewed_when_approval_is_required(self, client, settings):
        settings.WHOLESALE_REQUIRE_APPROVAL = True
        assert "We review every new account" in client.get("/accounts/signup/").content.decode()
        settings.WHOLESALE_REQUIRE_APPROVAL = False
        assert "We review every new account" not in client.get("/accounts/signup/").content.decode()


class TestSigningUp:
    def test_creates_the_user_and_the_distributor_and_sends_a_verification_email(self, client):
        response = client.post("/accounts/signup/", SIGNUP)

        assert response.status_code == 302
        assert response["Location"] == "/accounts/confirm-email/"
        user = User.objects.get(email="ana@shop.example")
        distributor = user.distributor
        assert distributor.company_name == "Tienda Ana SL"
        assert distributor.contact_name == "Ana Ruiz"
        assert distributor.country.code == "ES"
        assert distributor.business_type == BusinessType.ONLINE_SHOP
        assert distributor.phone == "+34 600 111 222"
        assert distributor.website == "https://tienda-ana.example"
        assert distributor.tax_number == "ESB12345678"
        assert distributor.status == Distributor.Status.APPROVED
        assert EmailAddress.objects.get(user=user).verified is False
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["ana@shop.example"]
        assert "/accounts/confirm-email/" in mail.outbox[0].body

    def test_a_new_distributor_waits_for_approval_when_required(self, client, settings):
        settings.WHOLESALE_REQUIRE_APPROVAL = True
        client.post("/accounts/signup/", SIGNUP)
        assert User.objects.get(email="ana@shop.example").distributor.status == "pending"

    def test_missing_business_details_create_nothing(self, client):
        data = {**SIGNUP, "company_name": "", "phone": "", "country": ""}
        response = client.post("/accounts/signup/", data)

        assert response.status_code == 200
        assert set(response.context["form"].errors) == {"company_name", "phone", "country"}
        assert not User.objects.exists()
        assert mail.outbox == []

    def test_an_email_already_in_use_creates_no_second_account(self, client):
        DistributorFactory(user__email="ana@shop.example")
        response = client.post("/accounts/signup/", SIGNUP)

        # Enumeration is prevented: the answer looks like a successful signup, and the owner
        # of the address is told by email instead.
        assert response.status_code == 302
        assert User.objects.filter(email__iexact="ana@shop.example").count() == 1
        assert Distributor.objects.count() == 1
        assert [m.to for m in mail.outbox] == [["ana@shop.example"]]


class TestLoggingIn:
    def test_is_refused_until_the_email_is_verified_then_works(self, client):
        client.post("/accounts/signup/", SIGNUP)
        link = confirmation_link(mail.outbox[0])

        stranger = client.__class__()
        response = log_in(stranger, "ana@shop.example", SIGNUP["password1"])
        assert response.status_code == 302
        assert response["Location"] == "/accounts/confirm-email/"
        assert stranger.get("/account/").status_code == 302  # still a guest

        assert client.post(link).status_code == 302
        assert EmailAddress.objects.get(email="ana@shop.example").verified is True

        fresh = client.__class__()
        response = log_in(fresh, "ana@shop.example", SIGNUP["password1"])
        assert response.status_code == 302
        assert response["Location"] == "/"
        assert fresh.get("/account/").status_code == 200

    def test_a_wrong_password_is_a_form_error(self, client):
        DistributorFactory(user__email="ana@shop.example")
        response = log_in(client, "ana@shop.example", "not-the-password")
        assert response.status_code == 200
        assert response.context["form"].errors
        assert "_auth_user_id" not in client.session

    def test_the_login_page_renders_inside_the_shop_layout(self, client):
        html = client.get("/accounts/login/").content.decode()
        assert 'class="site-header"' in html
        assert 'class="form-card form-entrance form-login"' in html
        assert "/accounts/password/reset/" in html


class TestPasswordReset:
    def test_known_and_unknown_emails_get_the_same_answer_and_only_the_known_a_mail(self, client):
        DistributorFactory(user__email="known@shop.example")

        known = client.post("/accounts/password/reset/", {"email": "known@shop.example"})
        unknown = client.post("/accounts/password/reset/", {"email": "nobody@shop.example"})

        assert known.status_code == unknown.status_code == 302
        assert known["Location"] == unknown["Location"] == "/accounts/password/reset/done/"
        assert [m.to for m in mail.outbox] == [["known@shop.example"]]
        done_known = client.get(known["Location"])
        done_unknown = client.get(unknown["Location"])
        assert [t.name for t in done_known.templates] == [t.name for t in done_unknown.templates]
        assert done_known.content == done_unknown.content

    def test_the_link_sets_a_new_password(self, client):
        DistributorFactory(user__email="known@shop.example")
        client.post("/accounts/password/reset/", {"email": "known@shop.example"})
        body = mail.outbox[0].body
        link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", body)

        form_page = client.get(link.group(1), follow=True)
        assert form_page.status_code == 200
        response = client.post(
            form_page.redirect_chain[-1][0],
            {"password1": "a-new-trade-pass-88", "password2": "a-new-trade-pass-88"},
        )
        assert response.status_code == 302
        assert response["Location"] == "/accounts/password/reset/key/done/"
        assert User.objects.get(email="known@shop.example").check_password("a-new-trade-pass-88")


class TestLoginRateLimits:
    """B9: allauth's login_failed limit, "10/m/ip,5/300s/key", on our real (Redis) cache.

    allauth 65 answers a limited login with the login form and the error "Too many failed
    login attempts", status 200, and refuses even the right password until the window passes.
    """

    LIMITED = "Too many failed login attempts"

    def test_the_eleventh_failed_login_from_one_ip_is_refused(self, client):
        buyer = DistributorFactory(user__email="target@shop.example").user
        for n in range(10):
            response = log_in(client, f"guess{n}@shop.example", "wrong-password")
            assert self.LIMITED not in response.content.decode()

        response = log_in(client, buyer.email, PASSWORD)

        assert response.status_code == 200
        assert self.LIMITED in response.content.decode()
        assert "_auth_user_id" not in client.session
        # Another address is not limited by this one's failures.
        other = client.__class__(REMOTE_ADDR="203.0.113.9")
        assert log_in(other, buyer.email, PASSWORD).status_code == 302

    def test_the_sixth_failed_login_for_one_account_is_refused_from_any_ip(self, client):
        buyer = DistributorFactory(user__email="target@shop.example").user
        for n in range(5):
            response = log_in(client, buyer.email, "wrong-password", REMOTE_ADDR=f"198.51.100.{n}")
            assert self.LIMITED not in response.content.decode()

        response = log_in(client, buyer.email, PASSWORD, REMOTE_ADDR="198.51.100.77")

        assert response.status_code == 200
        assert self.LIMITED in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_the_limits_count_in_the_shared_cache(self, settings):
        # Counters kept per process (locmem) would give every gunicorn worker its own budget.
        assert "RedisCache" in settings.CACHES["default"]["BACKEND"]


class TestAdminLogin:
    """B9: /admin/login/ goes through allauth's login (secure_admin_login), so its limits hold."""

    def test_a_guest_is_sent_to_the_shop_login(self, client):
        response = client.get("/admin/login/?next=/admin/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")

    def test_posting_a_staff_password_to_the_admin_login_does_not_log_in(self, client):
        from tests.factories import StaffFactory

        staff = StaffFactory(email="boss@shop.example")
        response = client.post(
            "/admin/login/", {"username": staff.email, "password": PASSWORD, "next": "/admin/"}
        )
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert "_auth_user_id" not in client.session
        assert client.get("/admin/").status_code == 302

    def test_a_limited_account_cannot_reach_the_admin(self, client):
        from tests.factories import StaffFactory

        staff = StaffFactory(email="boss@shop.example")
        for n in range(5):
            log_in(client, staff.email, "wrong-password", REMOTE_ADDR=f"198.51.100.{n}")

        response = log_in(client, staff.email, PASSWORD, REMOTE_ADDR="198.51.100.50")
        assert "Too many failed login attempts" in response.content.decode()
        assert client.get("/admin/").status_code == 302

    def test_a_distributor_logged_in_is_refused_the_admin_login(self, buyer_client):
        assert buyer_client.get("/admin/login/").status_code == 403
