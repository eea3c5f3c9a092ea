"""``manage.py seed_demo``: the demo data, loaded once however often the command runs."""

import csv
import io
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from catalog.models import Category, Product, ProductImage, Variant
from catalog.selectors import stock_mismatches
from members.models import Distributor, User
from orders.checkout import order_place
from orders.exports import export_run, profiles_due, run_file_path
from orders.models import (
    ExportProfile,
    Order,
    Payment,
    Shipment,
    ShippingMethod,
    ShippingZone,
    TrackingEvent,
    TrackingRun,
    TrackingStatus,
)
from orders.selectors import shipping_options
from orders.services import cart_add_lines
from orders.tracking import OfflineCarrier, tracking_update
from staff.models import CompanyPage, Inquiry, ShopSettings
from wholesale.management.commands import seed_demo
from wholesale.money import Money

pytestmark = pytest.mark.django_db

STAFF_EMAILS = [
    "admin@demo.test",
    "manager@demo.test",
    "finance@demo.test",
    "editor@demo.test",
    "service@demo.test",
    "sales1@demo.test",
    "sales2@demo.test",
]
BUYER_EMAILS = ["buyer1@demo.test", "buyer2@demo.test"]
WRITES = ("INSERT", "UPDATE", "DELETE")


def remove_demo_data():
    # The stock ledger is append-only through the ORM and protects its variants: clear it first.
    with connection.cursor() as cursor:
        # Append-only through the ORM (the ledgers and histories), and the rollups.
        for table in (
            "catalog_stockmovement",
            "staff_ownershipchange",
            "members_pointsentry",
            "members_levelchange",
            "orders_orderevent",
            "orders_refundline",
            "orders_refund",
            "analytics_productsalesday",
            "analytics_variantsalesday",
            "analytics_productactivityday",
            "analytics_rolluprun",
        ):
            cursor.execute(f"DELETE FROM {table}")  # our own table names, not input
    Distributor.objects.update(owner=None)  # an owner is protected while they own anyone
    Inquiry.objects.all().delete()  # protects its salesperson
    CompanyPage.objects.all().delete()
    ShopSettings.objects.all().delete()
    Payment.objects.all().delete()
    ExportProfile.objects.all().delete()
    TrackingEvent.objects.all().delete()
    TrackingRun.objects.all().delete()  # the sweep seed_demo runs logs itself
    Shipment.objects.all().delete()
    Order.objects.all().delete()
    Product.objects.all().delete()
    while Category.objects.exists():
        Category.objects.filter(children__isnull=True).delete()
    User.objects.all().delete()
    ShippingZone.objects.all().delete()
    ShippingMethod.objects.all().delete()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo data, seeded once for this module and removed after it.

    A fast password hasher and small pictures: the same code paths in a few seconds.
    """
    media_root = tmp_path_factory.mktemp("media")
    overrides = override_settings(
        MEDIA_ROOT=media_root,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    overrides.enable()
    patch = pytest.MonkeyPatch()
    patch.setattr(seed_demo, "IMAGE_SIDE", 240)
    try:
        with django_db_blocker.unblock():
            out = io.StringIO()
            call_command("seed_demo", stdout=out)
        yield SimpleNamespace(media_root=media_root, output=out.getvalue())
    finally:
        with django_db_blocker.unblock():
            remove_demo_data()
        patch.undo()
        overrides.disable()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def stored_files(root) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*") if p.is_file())


class TestRunningTwice:
    def test_the_second_run_writes_nothing(self, demo):
        counts, files = row_counts(), stored_files(demo.media_root)
        products = list(Product.objects.order_by("pk").values_list("pk", "updated_at"))

        out = io.StringIO()
        with CaptureQueriesContext(connection) as queries:
            call_command("seed_demo", stdout=out)

        writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]
        assert writes == []
        assert row_counts() == counts
        assert stored_files(demo.media_root) == files
        assert list(Product.objects.order_by("pk").values_list("pk", "updated_at")) == products
        assert "created 0 users, 0 categories, 0 products" in out.getvalue()

    def test_the_first_run_says_what_it_made(self, demo):
        assert "created 9 users, 12 categories, 80 products" in demo.output


class TestDemoAccounts:
    @pytest.mark.parametrize("email", STAFF_EMAILS + BUYER_EMAILS)
    def test_can_log_in_with_the_demo_password(self, demo, client, email):
        assert client.login(email=email, password="demo-pass-2024")
        address = EmailAddress.objects.get(email=email)
        assert address.verified and address.primary

    def test_a_buyer_logs_in_through_the_login_page(self, demo, client):
        response = client.post(
            "/accounts/login/", {"login": "buyer1@demo.test", "password": "demo-pass-2024"}
        )
        assert response.status_code == 302
        assert client.get("/account/").status_code == 200

    def test_staff_roles(self, demo):
        admin = User.objects.get(email="admin@demo.test")
        assert admin.is_superuser and admin.is_staff
        for email in ("manager@demo.test", "editor@demo.test"):
            user = User.objects.get(email=email)
            assert user.is_staff and not user.is_superuser
            assert user.has_perms(["catalog.add_product", "catalog.change_variant"])
        for email in ("finance@demo.test", "service@demo.test", "sales1@demo.test"):
            user = User.objects.get(email=email)
            assert user.is_staff
            assert user.has_perm("catalog.view_product")
            assert not user.has_perm("catalog.change_product")

    def test_the_editor_reaches_the_product_admin(self, demo, client):
        client.login(email="editor@demo.test", password="demo-pass-2024")
        assert client.get("/admin/catalog/product/").status_code == 200

    def test_buyers_are_approved_distributors(self, demo):
        distributors = Distributor.objects.filter(user__email__in=BUYER_EMAILS)
        assert distributors.count() == 2
        for distributor in distributors:
            assert distributor.is_approved
            assert distributor.company_name and distributor.country and distributor.phone
            assert not distributor.user.is_staff


class TestDemoCatalog:
    def test_a_small_category_tree(self, demo):
        assert Category.objects.count() == 12
        assert set(
            Category.objects.filter(parent__slug="apparel").values_list("slug", flat=True)
        ) == {"t-shirts", "hoodies"}

    def test_products_have_variants_tiers_and_pictures(self, demo):
        products = Product.objects.annotate(
            variant_count=Count("variants", distinct=True),
            tier_count=Count("tiers", distinct=True),
            image_count=Count("images", distinct=True),
        )
        assert products.count() == 80
        for product in products:
            assert 2 <= product.variant_count <= 8, product
            assert 2 <= product.tier_count <= 4, product
            assert 1 <= product.image_count <= 3, product
            assert product.price_from is not None
            assert product.moq % product.order_increment == 0
        for image in ProductImage.objects.all()[:10]:
            assert (demo.media_root / image.renditions["thumb"]["webp"]).is_file()
            assert (demo.media_root / image.original.name).is_file()

    def test_a_mix_of_publishing_stock_and_prices(self, demo):
        now = timezone.now()
        assert Product.objects.filter(status=Product.Status.DRAFT).count() >= 3
        assert Product.objects.filter(published_at__gt=now).count() >= 2
        assert Product.objects.published().count() >= 70
        made_to_order = Product.objects.filter(made_to_order=True)
        assert made_to_order.exists()
        assert all(p.lead_time_days for p in made_to_order)
        assert Variant.objects.filter(stock=0).exists()
        assert Variant.objects.filter(stock__gt=0, stock__lt=20).exists()
        assert Variant.objects.exclude(price=None).exists()
        assert Product.objects.filter(units_sold__gt=100).exists()
        assert Variant.objects.filter(barcode="").count() == 0

    def test_the_stock_ledger_covers_the_demo_stock(self, demo):
        assert list(stock_mismatches()) == []
        assert Variant.objects.filter(stock__gt=0, stock_movements__isnull=True).count() == 0

    def test_the_data_is_the_same_on_every_run(self, demo):
        # Fixed by the seed: the first T-shirt's first variant and its first tier.
        tee = Product.objects.get(slug="heavyweight-cotton-tee")
        first = tee.variants.first()
        assert (first.sku, first.barcode) == ("TS001-ORA-M", "6900000001004")
        assert str(tee.tiers.first().unit_price) == "4.88"


class TestOrderingDemo:
    def test_buyers_have_a_default_address(self, demo):
        for email in BUYER_EMAILS:
            assert User.objects.get(email=email).addresses.filter(is_default=True).count() == 1

    @pytest.mark.parametrize("country", ["GB", "ES", "US", "AU", "IL", "RU", "BR", "JP"])
    def test_every_market_has_shipping(self, demo, country):
        options = shipping_options(country=country, weight_grams=3000, goods=Money.base("250.00"))
        assert [option.method_code for option in options][:1]
        assert {"economy-post", "express"} <= {option.method_code for option in options}

    def test_finance_confirms_transfers_and_the_manager_ships(self, demo):

        finance = User.objects.get(email="finance@demo.test")
        manager = User.objects.get(email="manager@demo.test")
        assert finance.has_perms(["orders.confirm_payment", "orders.refund_order"])
        assert manager.has_perm("orders.ship_order")
        assert not manager.has_perm("orders.confirm_payment")

    def test_a_demo_buyer_can_order(self, demo):
        import uuid

        buyer = User.objects.get(email="buyer1@demo.test")
        product = (
            Product.objects.filter(status=Product.Status.PUBLISHED, made_to_order=False)
            .exclude(price_from=None)
            .order_by("pk")
            .first()
        )
        variant = product.variants.filter(is_active=True, stock__gte=60).first()
        quantity = max(product.moq, 60)
        quantity += -quantity % product.order_increment
        cart_add_lines(member=buyer, product_slug=product.slug, quantities={variant.pk: quantity})
        order = order_place(
            member=buyer,
            checkout_key=uuid.uuid4(),
            address_id=buyer.addresses.get(is_default=True).pk,
            method_code="express",
            payment_method="bank_transfer",
        )
        assert order.ship_country == "GB" and order.grand_total > 0
        # The stock comes back; the module's clean-up removes the order.
        from orders.lifecycle import order_cancel_by_buyer

        order_cancel_by_buyer(member=buyer, number=order.number)
        assert Variant.objects.get(pk=variant.pk).stock == variant.stock
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM catalog_stockmovement WHERE reference = %s", [f"order:{order.number}"]
            )
        order.payments.all().delete()
        order.lines.all().delete()
        order.delete()


class TestStaffRoles:
    @pytest.mark.parametrize(
        ("email", "role"),
        [
            ("manager@demo.test", "manager"),
            ("finance@demo.test", "finance"),
            ("editor@demo.test", "editor"),
            ("service@demo.test", "customer_service"),
            ("sales1@demo.test", "sales"),
            ("sales2@demo.test", "sales"),
        ],
    )
    def test_each_demo_account_has_its_role(self, demo, email, role):
        user = User.objects.get(email=email)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert not user.user_permissions.exists()


class TestSalesOwnership:
    def test_each_demo_buyer_belongs_to_their_salesperson(self, demo):
        for buyer, owner in (("buyer1", "sales1"), ("buyer2", "sales2")):
            distributor = Distributor.objects.get(user__email=f"{buyer}@demo.test")
            assert distributor.owner.email == f"{owner}@demo.test"

    def test_salespeople_have_readable_referral_links(self, demo, client):
        response = client.get("/r/lily/")
        assert response.status_code == 302
        assert User.objects.get(email="sales1@demo.test").sales_profile.referral_code == "lily"


class TestDemoOrders:
    def test_each_salesperson_finds_only_their_customers_orders(self, demo, client):
        demo_orders = Order.objects.filter(member__email__in=BUYER_EMAILS)
        states = dict(
            demo_orders.values_list("member__email", "state").order_by("member__email", "pk")
        )
        assert demo_orders.filter(member__email="buyer1@demo.test").count() == 3
        assert set(states) == set(BUYER_EMAILS)
        assert demo_orders.filter(state="paid").count() == 2
        assert demo_orders.filter(state="shipped").count() == 2
        client.login(email="sales1@demo.test", password="demo-pass-2024")
        own = demo_orders.filter(member__email="buyer1@demo.test")
        theirs = demo_orders.filter(member__email="buyer2@demo.test")
        assert theirs.count() == 2

        def listed(order) -> bool:
            page = client.get("/admin/orders/order/", {"q": order.number}).content.decode()
            return f">{order.number}<" in page

        assert all(listed(order) for order in own)
        assert not any(listed(order) for order in theirs)


class TestDemoJobs:
    """What the demo's beat does with the seeded data: parcels move on through the offline
    carrier's week, and the export profile drops its file."""

    def test_parcels_are_on_their_way_and_move_on_at_each_sweep(self, demo, client):
        shipments = list(Shipment.objects.select_related("order").order_by("shipped_at"))
        assert len(shipments) == 2
        assert all(s.status != TrackingStatus.DELIVERED for s in shipments)
        assert all(TrackingEvent.objects.filter(shipment=s).count() >= 2 for s in shipments)
        older = shipments[0]
        client.login(email=older.order.member.email, password="demo-pass-2024")
        page = client.get(f"/account/orders/{older.order.number}/").content.decode()
        assert "Arrived at customs" in page or "Departed origin facility" in page

        # Two sweeps later in the week (as the beat runs them), both parcels are delivered.
        for days in (2, 7):
            later = timezone.now() + timedelta(days=days)
            tracking_update(now=later, provider=OfflineCarrier(now=later), min_interval=None)
        assert set(Shipment.objects.values_list("status", flat=True)) == {"delivered"}
        assert set(
            Order.objects.filter(shipments__isnull=False).values_list("state", flat=True)
        ) == {"delivered"}

    def test_the_export_profile_is_due_and_drops_the_paid_lines(self, demo, settings, tmp_path):
        settings.WHOLESALE_EXPORT_ROOT = tmp_path
        settings.WHOLESALE_EXPORT_LAG_SECONDS = 0
        (profile,) = ExportProfile.objects.all()
        assert profiles_due() == [profile.pk]
        run = export_run(profile.pk)
        assert run.status == "succeeded"
        with open(run_file_path(run), newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        exported = {row["OrderNo"] for row in rows}
        expected = set(
            Order.objects.filter(state__in=profile.states).values_list("number", flat=True)
        )
        assert exported == expected
        demo_paid = Order.objects.filter(member__email__in=BUYER_EMAILS, state__in=profile.states)
        assert set(demo_paid.values_list("number", flat=True)) <= exported
        assert demo_paid.count() == 4
        assert run.row_count == len(rows) and all(row["SKU"] for row in rows)
        assert export_run(profile.pk) is None  # nothing new: no second file
