"""Every allauth page we use renders inside the shop's layout (templates/base.html)."""

import re

import pytest
from django.core import mail

from tests.factories import DistributorFactory
from tests.functional.members.signup_data import SIGNUP

pytestmark = pytest.mark.django_db


def assert_in_shop_layout(response, heading: str):
    assert response.status_code == 200
    html = response.content.decode()
    names = [t.name for t in response.templates]
    assert "base.html" in names
    assert "allauth/layouts/base.html" in names
    assert 'class="site-header"' in html and 'class="site-footer"' in html
    assert "members/accounts.css" in html
    assert re.search(rf"<h1>\s*{re.escape(heading)}\s*</h1>", html), heading
    assert "Menu:" not in html  # allauth's own bare layout is not used


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("/accounts/login/", "Log in"),
        ("/accounts/signup/", "Open a trade account"),
        ("/accounts/password/reset/", "Password Reset"),
        ("/accounts/password/reset/done/", "Password Reset"),
        ("/accounts/password/reset/key/done/", "Change Password"),
        ("/accounts/password/reset/key/1-bad-token/", "Bad Token"),
        ("/accounts/confirm-email/", "Verify Your Email Address"),
        ("/accounts/confirm-email/not-a-key/", "Confirm Email Address"),
    ],
)
def test_guest_pages(client, url, heading):
    assert_in_shop_layout(client.get(url, follow=True), heading)


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("/accounts/logout/", "Sign Out"),
        ("/accounts/email/", "Email Addresses"),
        ("/accounts/password/change/", "Change Password"),
    ],
)
def test_member_pages(buyer_client, url, heading):
    response = buyer_client.get(url)
    assert_in_shop_layout(response, heading)
    assert 'class="form-card' in response.content.decode()


def test_the_email_page_keeps_allauths_confirm_before_remove_script(buyer_client):
    html = buyer_client.get("/accounts/email/").content.decode()
    head = html[: html.index("</head>")]
    assert "account/js/account.js" in head
    assert 'data-allauth-onload="allauth.account.forms.manageEmailForm"' in head


def test_the_email_confirmation_page(client):
    client.post("/accounts/signup/", SIGNUP)
    key = re.search(r"/accounts/confirm-email/([^/\s]+)/", mail.outbox[0].body).group(1)

    response = client.get(f"/accounts/confirm-email/{key}/")

    assert_in_shop_layout(response, "Confirm Email Address")
    assert "ana@shop.example" in response.content.decode()


def test_the_password_reset_form_from_a_real_key(client):
    DistributorFactory(user__email="known@shop.example")
    client.post("/accounts/password/reset/", {"email": "known@shop.example"})
    path = re.search(r"(/accounts/password/reset/key/\S+/)", mail.outbox[0].body).group(1)
    response = client.get(path, follow=True)
    assert_in_shop_layout(response, "Change Password")
    assert 'name="password1"' in response.content.decode()
