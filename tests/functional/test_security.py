"""B10: CSRF on every state-changing form, and a production configuration that passes
``manage.py check --deploy`` without warnings."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from members.models import Distributor
from tests.factories import DistributorFactory, StaffFactory

BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


@pytest.mark.django_db
class TestPostsWithoutACsrfToken:
    def test_the_login_is_refused(self, csrf_client):
        DistributorFactory(user__email="ana@shop.example")
        response = csrf_client.post(
            "/accounts/login/", {"login": "ana@shop.example", "password": "demo-pass-2024"}
        )
        assert response.status_code == 403
        assert "_auth_user_id" not in csrf_client.session

    def test_the_account_profile_is_not_changed(self, csrf_client):
        distributor = DistributorFactory(company_name="Before")
        csrf_client.force_login(distributor.user)
        response = csrf_client.post("/account/", {"company_name": "After"})
        assert response.status_code == 403
        distributor.refresh_from_db()
        assert distributor.company_name == "Before"

    def test_an_admin_action_is_not_run(self, csrf_client):
        csrf_client.force_login(StaffFactory(is_superuser=True))
        pending = DistributorFactory(status=Distributor.Status.PENDING)
        response = csrf_client.post(
            "/admin/members/distributor/",
            {"action": "approve", "_selected_action": [pending.pk], "index": 0},
        )
        assert response.status_code == 403
        pending.refresh_from_db()
        assert pending.status == Distributor.Status.PENDING

    def test_the_same_posts_with_a_token_go_through(self, csrf_client):
        # Guards the tests above: a 403 must come from the missing token, nothing else.
        distributor = DistributorFactory(company_name="Before")
        csrf_client.force_login(distributor.user)
        csrf_client.get("/account/")
        token = csrf_client.cookies[settings.CSRF_COOKIE_NAME].value
        data = {
            "csrfmiddlewaretoken": token,
            "company_name": "After",
            "contact_name": "Ana",
            "country": "ES",
            "business_type": "online_shop",
            "phone": "+34 600 000 000",
        }
        assert csrf_client.post("/account/", data).status_code == 302
        distributor.refresh_from_db()
        assert distributor.company_name == "After"


def production_env() -> dict:
    """The environment production gives the app: no DEBUG, no test flags, real secrets."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(BASE_DIR)),
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "shop.example.com",
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wholesale"
        ),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    }


def run_check(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class TestTheDeploymentCheck:
    def test_passes_with_production_settings(self):
        result = run_check(production_env())
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues (0 silenced)" in result.stdout

    def test_fails_without_a_shared_cache_for_the_rate_limits(self):
        env = production_env()
        del env["REDIS_URL"]
        result = run_check(env)
        assert result.returncode == 1
        assert "members.W001" in result.stderr

    def test_refuses_to_start_without_a_secret_key(self):
        env = production_env()
        del env["SECRET_KEY"]
        result = run_check(env)
        assert result.returncode != 0
        assert "Set SECRET_KEY" in result.stderr
