"""Referral links and signup: who becomes a new distributor's salesperson."""

import pytest
from django.test import Client

from members.models import User
from staff.models import OwnershipChange, ReferralVisit
from staff.referrals import COOKIE_NAME
from tests.factories import PASSWORD, DistributorFactory
from tests.functional.members.signup_data import SIGNUP
from tests.integration.staff.helpers import salesperson

pytestmark = pytest.mark.django_db

Source = OwnershipChange.Source


def signed_up_owner():
    distributor = User.objects.get(email="ana@shop.example").distributor
    change = distributor.ownership_changes.get()
    return distributor.owner, change.source


class TestTheReferralLink:
    def test_remembers_the_salesperson_counts_the_visit_and_goes_to_signup(
        self, client, settings, django_assert_max_num_queries
    ):
        sales = salesperson()

        with django_assert_max_num_queries(2):
            response = client.get(f"/r/{sales.referral_code}/")

        assert response.status_code == 302
        assert response["Location"] == "/accounts/signup/"
        cookie = response.cookies[COOKIE_NAME]
        assert cookie["max-age"] == settings.WHOLESALE_REFERRAL_COOKIE_DAYS * 86400
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
        assert sales.referral_code in cookie.value  # signed, not encrypted
        assert ReferralVisit.objects.filter(sales_profile=sales).count() == 1

    def test_goes_on_to_a_local_next_page_only(self, client):
        sales = salesperson()
        local = client.get(f"/r/{sales.referral_code}/?next=/products/")
        assert local["Location"] == "/products/"
        for foreign in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
            response = client.get(f"/r/{sales.referral_code}/", {"next": foreign})
            assert response["Location"] == "/accounts/signup/"

    def test_an_unknown_code_is_not_found(self, client):
        salesperson()
        response = client.get("/r/nosuchcd/")
        assert response.status_code == 404
        assert COOKIE_NAME not in response.cookies
        assert not ReferralVisit.objects.exists()

    def test_a_salesperson_who_left_has_no_link(self, client):
        sales = salesperson()
        sales.user.is_active = False
        sales.user.save()
        assert client.get(f"/r/{sales.referral_code}/").status_code == 404


class TestSigningUp:
    def test_through_a_referral_link_makes_that_salesperson_the_owner(self, client):
        salesperson(first_name="Other")
        sales = salesperson()
        client.get(f"/r/{sales.referral_code}/")

        assert client.post("/accounts/signup/", SIGNUP).status_code == 302

        assert signed_up_owner() == (sales.user, Source.REFERRAL)

    def test_the_referral_wins_over_a_contact_chosen_on_the_form(self, client):
        chosen = salesperson(first_name="Chosen")
        sales = salesperson()
        client.get(f"/r/{sales.referral_code}/")
        client.post("/accounts/signup/", {**SIGNUP, "salesperson": chosen.user.pk})
        assert signed_up_owner() == (sales.user, Source.REFERRAL)

    def test_offers_a_choice_of_salesperson_and_uses_it(self, client):
        salesperson(first_name="Maria")
        chosen = salesperson(first_name="Jonas")
        salesperson(first_name="Busy", is_accepting_customers=False)

        html = client.get("/accounts/signup/").content.decode()
        assert "Your contact at our company" in html
        assert "Jonas" in html and "Maria" in html and "Busy" not in html
        assert chosen.user.email not in html

        client.post("/accounts/signup/", {**SIGNUP, "salesperson": chosen.user.pk})
        assert signed_up_owner() == (chosen.user, Source.SIGNUP_CHOICE)

    def test_refuses_a_chosen_contact_who_is_not_offered(self, client):
        salesperson()
        busy = salesperson(is_accepting_customers=False)
        response = client.post("/accounts/signup/", {**SIGNUP, "salesperson": busy.user.pk})
        assert response.status_code == 200
        assert not User.objects.filter(email="ana@shop.example").exists()

    def test_without_salespeople_the_question_is_not_asked(self, client):
        assert "Your contact at our company" not in client.get("/accounts/signup/").content.decode()
        client.post("/accounts/signup/", SIGNUP)
        distributor = User.objects.get(email="ana@shop.example").distributor
        assert distributor.owner is None

    def test_without_link_or_choice_the_owner_is_assigned_in_turn(self, client):
        first = salesperson(first_name="First")
        salesperson(first_name="Second")
        client.post("/accounts/signup/", SIGNUP)
        assert signed_up_owner() == (first.user, Source.ROUND_ROBIN)

    def test_a_tampered_cookie_is_ignored(self, client):
        first = salesperson(first_name="First")
        sales = salesperson()
        client.cookies[COOKIE_NAME] = f"{sales.referral_code}:forged"
        client.post("/accounts/signup/", SIGNUP)
        assert signed_up_owner() == (first.user, Source.ROUND_ROBIN)

    def test_an_expired_cookie_is_ignored(self, client, settings):
        first = salesperson(first_name="First")
        sales = salesperson()
        client.get(f"/r/{sales.referral_code}/")
        settings.WHOLESALE_REFERRAL_COOKIE_DAYS = 0
        client.post("/accounts/signup/", SIGNUP)
        assert signed_up_owner() == (first.user, Source.ROUND_ROBIN)


class TestTheReferralSurvives:
    def test_login_and_logout_before_signing_up(self, client):
        sales = salesperson()
        salesperson(first_name="Other")
        colleague = DistributorFactory().user  # e.g. a shared computer at a trade show
        client.get(f"/r/{sales.referral_code}/")

        login = client.post("/accounts/login/", {"login": colleague.email, "password": PASSWORD})
        assert login.status_code == 302 and "_auth_user_id" in client.session
        assert client.post("/accounts/logout/").status_code == 302
        assert "_auth_user_id" not in client.session

        client.post("/accounts/signup/", SIGNUP)
        assert signed_up_owner() == (sales.user, Source.REFERRAL)


class TestASecondSalespersonsLink:
    """The first link wins while its cookie lives (the rule and why: staff.referrals)."""

    def test_does_not_replace_the_first(self, client):
        first, second = salesperson(first_name="First"), salesperson(first_name="Second")
        client.get(f"/r/{first.referral_code}/")

        response = client.get(f"/r/{second.referral_code}/")

        assert response.status_code == 302
        assert COOKIE_NAME not in response.cookies  # the first cookie is kept as it is
        assert ReferralVisit.objects.filter(sales_profile=second).count() == 1  # still counted
        client.post("/accounts/signup/", SIGNUP)
        assert signed_up_owner() == (first.user, Source.REFERRAL)

    def test_replaces_the_first_once_its_salesperson_left(self, client):
        first, second = salesperson(first_name="First"), salesperson(first_name="Second")
        client.get(f"/r/{first.referral_code}/")
        first.user.is_active = False
        first.user.save()

        client.get(f"/r/{second.referral_code}/")

        client.post("/accounts/signup/", SIGNUP)
        assert signed_up_owner() == (second.user, Source.REFERRAL)


def test_a_referral_signup_in_another_browser_is_not_attributed(client):
    sales = salesperson(first_name="Linked")
    turn = salesperson(first_name="Turn")
    client.get(f"/r/{sales.referral_code}/")
    other_browser = Client()
    other_browser.post("/accounts/signup/", SIGNUP)
    owner, source = signed_up_owner()
    assert source == Source.ROUND_ROBIN
    assert owner in {sales.user, turn.user}


def test_completing_a_profile_after_login_keeps_the_referral(client):
    """A login without a company profile (e.g. made by staff) completes it on /account/: the
    referral link followed before still decides the owner."""
    from tests.factories import UserFactory
    from tests.functional.members.test_account_page import PROFILE

    salesperson(first_name="Other")
    sales = salesperson()
    user = UserFactory()
    client.get(f"/r/{sales.referral_code}/")
    client.force_login(user)
    assert client.post("/account/", PROFILE).status_code == 302
    user.distributor.refresh_from_db()
    assert user.distributor.owner == sales.user
    assert user.distributor.ownership_changes.get().source == Source.REFERRAL
