"""ERP export profiles in the admin: the manager adds one, runs it now, reads the run log and
downloads the file; other staff roles get no page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from orders.exports import export_root, export_run
from orders.models import ExportProfile, ExportRun
from staff import roles
from tests.factories import StaffFactory
from tests.integration.orders.export_helpers import a_profile, an_order

pytestmark = pytest.mark.django_db
PROFILES = "/admin/orders/exportprofile/"
RUNS = "/admin/orders/exportrun/"


@pytest.fixture(autouse=True)
def _export_root(settings, tmp_path):
    settings.WHOLESALE_EXPORT_ROOT = tmp_path / "exports"
    settings.WHOLESALE_EXPORT_LAG_SECONDS = 0


def role_client(role: str) -> Client:
    roles.roles_sync()
    user = StaffFactory()
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def profile_form(**values) -> dict:
    data = {
        "name": "Nightly ERP",
        "is_active": "on",
        "schedule": "daily",
        "states": ["paid", "processing"],
        "date_from": "",
        "date_to": "",
        "incremental": "on",
        "columns": "order_number = Order no\ncustomer_company = Customer\nline_sku = SKU",
        "format": "csv",
        "folder": "erp/nightly",
        "endpoint_url": "",
        "endpoint_secret": "",
    }
    data.update(values)
    return data


class TestManagerManagesProfiles:
    def test_the_manager_adds_a_profile_with_its_columns(self):
        client = role_client(roles.MANAGER)
        response = client.post(f"{PROFILES}add/", profile_form())

        assert response.status_code == 302, response.context["adminform"].form.errors
        profile = ExportProfile.objects.get()
        assert profile.fields == [
            {"source": "order_number", "column": "Order no"},
            {"source": "customer_company", "column": "Customer"},
            {"source": "line_sku", "column": "SKU"},
        ]
        assert profile.states == ["paid", "processing"] and profile.schedule == "daily"

        page = client.get(f"{PROFILES}{profile.pk}/change/")
        assert "order_number = Order no" in page.content.decode()
        assert f"{PROFILES}{profile.pk}/run/" in page.content.decode()

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"columns": "nonsense = X"}, "columns"),
            ({"folder": "../../etc"}, "folder"),
            ({"endpoint_url": "https://erp.example.test/in"}, "folder"),  # both destinations
            ({"folder": "", "endpoint_url": "https://erp.example.test/in"}, "endpoint_secret"),
        ],
    )
    def test_a_bad_profile_is_refused_with_a_reason(self, values, field):
        client = role_client(roles.MANAGER)
        response = client.post(f"{PROFILES}add/", profile_form(**values))

        assert response.status_code == 200
        assert field in response.context["adminform"].form.errors
        assert not ExportProfile.objects.exists()

    def test_run_now_queues_the_export_and_the_run_log_offers_the_file(
        self, django_capture_on_commit_callbacks
    ):
        order = an_order()
        profile = a_profile()
        client = role_client(roles.MANAGER)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"{PROFILES}{profile.pk}/run/")
        assert response.status_code == 302 and response["Location"] == RUNS

        run = ExportRun.objects.get(profile=profile)
        assert run.status == "succeeded" and run.row_count == 1
        listing = client.get(RUNS)
        download = f"{RUNS}{run.pk}/download/"
        assert download in listing.content.decode()
        file = client.get(download)
        assert file.status_code == 200
        assert order.number in b"".join(file.streaming_content).decode()

    def test_the_run_now_action_on_the_list(self, django_capture_on_commit_callbacks):
        an_order()
        profile = a_profile()
        client = role_client(roles.MANAGER)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                PROFILES, {"action": "run_now_action", "_selected_action": [str(profile.pk)]}
            )
        assert ExportRun.objects.get(profile=profile).status == "succeeded"

    def test_run_now_refuses_a_get(self):
        profile = a_profile()
        client = role_client(roles.MANAGER)
        assert client.get(f"{PROFILES}{profile.pk}/run/").status_code == 405


class TestOtherRoles:
    @pytest.mark.parametrize("role", [roles.FINANCE, roles.SALES, roles.EDITOR])
    def test_no_profile_page_run_or_download(self, role):
        an_order()
        profile = a_profile()
        run = export_run(profile.pk)
        client = role_client(role)

        assert client.get(PROFILES).status_code == 403
        assert client.post(f"{PROFILES}{profile.pk}/run/").status_code in (403, 404)
        assert client.get(f"{RUNS}{run.pk}/download/").status_code == 403
        assert ExportRun.objects.count() == 1

    def test_the_run_log_is_read_only_for_the_manager(self):
        an_order()
        run = export_run(a_profile().pk)
        client = role_client(roles.MANAGER)
        assert client.get(f"{RUNS}{run.pk}/change/").status_code == 200
        assert client.post(f"{RUNS}{run.pk}/delete/", {"post": "yes"}).status_code == 403
        assert ExportRun.objects.filter(pk=run.pk).exists()

    def test_a_download_outside_the_root_is_not_served(self):
        an_order()
        run = export_run(a_profile().pk)
        ExportRun.objects.filter(pk=run.pk).update(file="../../etc/passwd")
        client = role_client(roles.MANAGER)
        assert client.get(f"{RUNS}{run.pk}/download/").status_code == 404
        assert (export_root() / "erp").is_dir()


class TestRunLogQueries:
    def test_the_run_log_list_takes_a_fixed_number_of_queries(self, django_assert_max_num_queries):
        profile = a_profile(incremental=False)
        an_order()
        for _ in range(5):
            export_run(profile.pk)
        client = role_client(roles.MANAGER)
        with django_assert_max_num_queries(12):
            response = client.get(RUNS)
        assert response.status_code == 200
        assert response.content.decode().count("/download/") == 5
