"""The staff roles of DESIGN.md as groups: made by a migration, each with exactly its
permissions, and none on what sales and customer service may only see in part."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from staff import roles

pytestmark = pytest.mark.django_db


def held(name: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_the_migration_made_every_role_with_exactly_its_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)
    for name, wanted in roles.ROLES.items():
        assert held(name) == wanted, name


def test_the_table_of_design_md():
    assert {"catalog.change_product", "catalog.delete_variant"} <= roles.ROLES[roles.EDITOR]
    assert not any(p.startswith(("orders.", "members.")) for p in roles.ROLES[roles.EDITOR])
    finance = roles.ROLES[roles.FINANCE]
    assert {"orders.confirm_payment", "orders.refund_order", "orders.view_payment"} <= finance
    assert "catalog.change_product" not in finance
    manager = roles.ROLES[roles.MANAGER]
    assert {"catalog.change_product", "members.change_distributor", "orders.view_payment"} <= (
        manager
    )
    assert not {"orders.confirm_payment", "orders.refund_order"} & manager


@pytest.mark.parametrize("role", [roles.SALES, roles.CUSTOMER_SERVICE])
def test_sales_and_service_hold_no_permission_on_owned_models(role):
    # A model permission opens every object (RELIABILITY A6): their access is per object.
    shared_reading = roles.CATALOG_VIEW | roles.FOLLOWUP_TEMPLATES_VIEW
    # Besides, the scope markers and the reports of their own figures (analytics.access).
    markers = {
        roles.SEES_OWN_CUSTOMERS,
        roles.SEES_HANDED_OVER,
        roles.ANALYTICS_OWN_SALES,
        roles.ANALYTICS_OWN_SERVICE,
    }
    assert held(role) - markers == shared_reading
    assert not any(p.startswith(("orders.", "members.")) for p in held(role))
    owned = ("inquiry", "inquirymessage", "dispute", "accessgrant", "followupsent")
    assert not any(p.split("_", 1)[1] in owned for p in held(role) if p.startswith("staff."))


def test_syncing_again_changes_nothing_and_removes_a_stray_grant(capsys):
    sales = Group.objects.get(name=roles.SALES)
    sales.permissions.add(Permission.objects.get(codename="view_order"))
    call_command("roles_sync")
    assert held(roles.SALES) == roles.ROLES[roles.SALES]
    assert "sales: 11 permissions" in capsys.readouterr().out
