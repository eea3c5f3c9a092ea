"""The catalog admin as the editor uses it, and as viewing roles see it."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from catalog.images import product_image_add
from catalog.models import Category, Product, ProductImage
from tests.factories import CategoryFactory, EditorFactory, ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/catalog/product/add/"
CHANGELIST_URL = "/admin/catalog/product/"


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def editor_client(client):
    client.force_login(EditorFactory())
    return client


@pytest.fixture
def viewer_client(client):
    viewer = StaffFactory()
    viewer.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="catalog", codename__startswith="view_")
    )
    client.force_login(viewer)
    return client


def stored_files(root) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()] if Path(root).exists() else []


def jpeg(size=(800, 600), name="shirt.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def add_form(category, *, image=None, **overrides):
    data = {
        "name": "Washed Denim Jacket",
        "slug": "washed-denim-jacket",
        "category": str(category.pk),
        "description": "Stone washed, brass buttons.",
        "status": "published",
        "published_at_0": "",
        "published_at_1": "",
        "option1_name": "Size",
        "option2_name": "Colour",
        "option3_name": "",
        "moq": "10",
        "order_increment": "5",
        "lead_time_days": "",
        **management("variants", 2),
        "variants-0-sku": "DJ-M-BLUE",
        "variants-0-barcode": "6901234567892",
        "variants-0-option1": "M",
        "variants-0-option2": "Blue",
        "variants-0-weight_grams": "650",
        "variants-0-stock": "40",
        "variants-0-price": "",
        "variants-0-position": "0",
        "variants-0-is_active": "on",
        "variants-1-sku": "DJ-XL-BLUE",
        "variants-1-barcode": "6901234567908",
        "variants-1-option1": "XL",
        "variants-1-option2": "Blue",
        "variants-1-weight_grams": "700",
        "variants-1-stock": "0",
        "variants-1-price": "13.50",
        "variants-1-position": "1",
        "variants-1-is_active": "on",
        **management("tiers", 2),
        "tiers-0-min_quantity": "10",
        "tiers-0-unit_price": "12.00",
        "tiers-1-min_quantity": "50",
        "tiers-1-unit_price": "10.40",
        **management("images", 1),
        **management("translations", 0),
        "images-0-alt_text": "Front of the jacket",
        "images-0-position": "",
    }
    if image is not None:
        data["images-0-upload"] = image
    data.update(overrides)
    return data


class TestAddingAProduct:
    def test_editor_adds_a_product_with_variants_tiers_and_an_image(
        self, editor_client, media_root
    ):
        category = CategoryFactory(name="Jackets")

        response = editor_client.post(ADD_URL, data=add_form(category, image=jpeg()))

        assert response.status_code == 302, response.context and response.context.get("errors")
        product = Product.objects.get(slug="washed-denim-jacket")
        assert product.published_at is not None
        assert sorted(product.variants.values_list("sku", flat=True)) == [
            "DJ-M-BLUE",
            "DJ-XL-BLUE",
        ]
        assert list(product.tiers.values_list("min_quantity", "unit_price")) == [
            (10, Decimal("12.00")),
            (50, Decimal("10.40")),
        ]
        # product_refresh ran after the inlines were saved.
        assert product.price_from == Decimal("10.40")
        image = product.images.get()
        assert image.alt_text == "Front of the jacket"
        assert set(image.renditions) == {"thumb", "medium", "large"}
        assert (image.renditions["large"]["width"], image.renditions["large"]["height"]) == (
            800,
            600,
        )
        assert len(stored_files(media_root)) == 7

    def test_a_bad_image_is_a_form_error_and_nothing_is_saved(self, editor_client, media_root):
        category = CategoryFactory(name="Jackets")
        fake = SimpleUploadedFile("shirt.jpg", b"not a picture at all" * 50, "image/jpeg")

        response = editor_client.post(ADD_URL, data=add_form(category, image=fake))

        assert response.status_code == 200
        assert "This file is not a JPEG, PNG, WebP or GIF image" in response.content.decode()
        assert not Product.objects.exists()
        assert not ProductImage.objects.exists()
        assert stored_files(media_root) == []

    def test_an_empty_image_row_with_only_alt_text_asks_for_a_file(self, editor_client, media_root):
        category = CategoryFactory(name="Jackets")

        response = editor_client.post(ADD_URL, data=add_form(category))

        assert response.status_code == 200
        assert "Choose an image file to upload." in response.content.decode()
        assert not Product.objects.exists()

    def test_a_published_product_needs_a_tier(self, editor_client, media_root):
        category = CategoryFactory(name="Jackets")
        data = add_form(category, image=jpeg(), **management("tiers", 0))

        response = editor_client.post(ADD_URL, data=data)

        assert response.status_code == 200
        assert "A published product needs at least one price tier." in response.content.decode()
        assert not Product.objects.exists()

    def test_made_to_order_needs_a_lead_time(self, editor_client, media_root):
        category = CategoryFactory(name="Jackets")
        data = add_form(category, image=jpeg(), made_to_order="on")

        response = editor_client.post(ADD_URL, data=data)

        assert response.status_code == 200
        assert "needs a lead time" in response.content.decode()
        assert not Product.objects.exists()


class TestChangingImages:
    def change_form(self, product, image, **image_fields):
        return {
            "name": product.name,
            "slug": product.slug,
            "category": str(product.category_id),
            "description": product.description,
            "status": product.status,
            "published_at_0": "",
            "published_at_1": "",
            "option1_name": product.option1_name,
            "moq": str(product.moq),
            "order_increment": str(product.order_increment),
            **management("variants", 0),
            **management("tiers", 0),
            **management("images", 1, initial=1),
            **management("translations", 0),
            "images-0-id": str(image.pk),
            "images-0-product": str(product.pk),
            "images-0-alt_text": image.alt_text,
            "images-0-position": str(image.position),
            **image_fields,
        }

    def test_deleting_an_image_removes_its_files(
        self, editor_client, media_root, django_capture_on_commit_callbacks
    ):
        product = ProductFactory(
            tiers=[], variants=[], status=Product.Status.DRAFT, published_at=None
        )
        image = product_image_add(product=product, upload=jpeg())
        assert len(stored_files(media_root)) == 7

        with django_capture_on_commit_callbacks(execute=True):
            response = editor_client.post(
                f"/admin/catalog/product/{product.pk}/change/",
                data=self.change_form(product, image, **{"images-0-DELETE": "on"}),
            )

        assert response.status_code == 302
        assert not ProductImage.objects.exists()
        assert stored_files(media_root) == []

    def test_uploading_on_an_existing_row_replaces_the_image(
        self, editor_client, media_root, django_capture_on_commit_callbacks
    ):
        product = ProductFactory(
            tiers=[], variants=[], status=Product.Status.DRAFT, published_at=None
        )
        image = product_image_add(product=product, upload=jpeg(), alt_text="Old", position=3)

        with django_capture_on_commit_callbacks(execute=True):
            response = editor_client.post(
                f"/admin/catalog/product/{product.pk}/change/",
                data=self.change_form(product, image, **{"images-0-upload": jpeg((300, 300))}),
            )

        assert response.status_code == 302
        replacement = product.images.get()
        assert replacement.pk != image.pk
        assert (replacement.width, replacement.alt_text, replacement.position) == (300, "Old", 3)
        assert len(stored_files(media_root)) == 7


class TestChangelist:
    @pytest.fixture
    def products(self, media_root):
        def make(count):
            for _ in range(count):
                product = ProductFactory()
                product_image_add(product=product, upload=jpeg((120, 120)))

        return make

    def count_queries(self, client) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(CHANGELIST_URL)
        assert response.status_code == 200
        return len(queries)

    def test_query_count_does_not_grow_with_the_products(
        self, editor_client, products, django_assert_max_num_queries
    ):
        # Session, user, permissions (2), counts (2), rows, first images, category filter.
        products(5)
        with django_assert_max_num_queries(9):
            few = self.count_queries(editor_client)
        products(25)
        with django_assert_max_num_queries(9):
            many = self.count_queries(editor_client)
        assert few == many

    def test_finds_a_product_by_sku(self, editor_client):
        wanted = ProductFactory(name="Canvas Tote", variants=["NAT", "BLK"])
        ProductFactory(name="Steel Bottle")

        response = editor_client.get(CHANGELIST_URL, {"q": "CANVAS-TOTE-BLK"})

        assert list(response.context["cl"].result_list) == [wanted]

    def test_publish_sets_a_date_only_where_missing(self, editor_client):
        draft = ProductFactory(status=Product.Status.DRAFT, published_at=None)
        scheduled = ProductFactory(status=Product.Status.DRAFT)
        scheduled_at = scheduled.published_at

        response = editor_client.post(
            CHANGELIST_URL,
            {"action": "publish", "_selected_action": [draft.pk, scheduled.pk]},
        )

        assert response.status_code == 302
        draft.refresh_from_db()
        scheduled.refresh_from_db()
        assert draft.status == scheduled.status == Product.Status.PUBLISHED
        assert draft.published_at is not None
        assert scheduled.published_at == scheduled_at

    def test_unpublish(self, editor_client):
        product = ProductFactory()

        editor_client.post(
            CHANGELIST_URL, {"action": "unpublish", "_selected_action": [product.pk]}
        )

        product.refresh_from_db()
        assert product.status == Product.Status.DRAFT


class TestViewingRoles:
    def test_a_viewer_sees_products_but_cannot_upload(self, viewer_client, media_root):
        product = ProductFactory()
        product_image_add(product=product, upload=jpeg())

        assert viewer_client.get(CHANGELIST_URL).status_code == 200
        response = viewer_client.get(f"/admin/catalog/product/{product.pk}/change/")

        assert response.status_code == 200
        assert 'type="file"' not in response.content.decode()
        assert viewer_client.get(ADD_URL).status_code == 403

    def test_a_viewer_cannot_run_the_publish_action(self, viewer_client):
        product = ProductFactory(status=Product.Status.DRAFT, published_at=None)

        viewer_client.post(CHANGELIST_URL, {"action": "publish", "_selected_action": [product.pk]})

        product.refresh_from_db()
        assert product.status == Product.Status.DRAFT

    def test_staff_without_catalog_permissions_is_refused(self, client):
        client.force_login(StaffFactory())
        assert client.get(CHANGELIST_URL).status_code == 403


class TestCategories:
    def test_changelist_shows_the_path_with_a_fixed_query_count(
        self, editor_client, django_assert_max_num_queries
    ):
        apparel = CategoryFactory(name="Apparel")
        tops = CategoryFactory(name="Tops", parent=apparel)
        CategoryFactory(name="Tees 0", parent=tops)

        def count_queries():
            # Session, user, permissions (2), counts (2), rows, parent filter.
            with (
                django_assert_max_num_queries(8),
                CaptureQueriesContext(connection) as queries,
            ):
                response = editor_client.get("/admin/catalog/category/")
            assert response.status_code == 200
            return len(queries), response.content.decode()

        few, _ = count_queries()
        for n in range(1, 20):
            CategoryFactory(name=f"Tees {n}", parent=CategoryFactory(name=f"Sub {n}", parent=tops))
        many, content = count_queries()

        assert few == many
        assert "Apparel › Tops › Tees 0" in content
        assert "… › Tops › Sub 3 › Tees 3" in content

    def test_a_category_cannot_move_under_its_own_child(self, editor_client):
        apparel = CategoryFactory(name="Apparel")
        tops = CategoryFactory(name="Tops", parent=apparel)

        response = editor_client.post(
            f"/admin/catalog/category/{apparel.pk}/change/",
            {"name": "Apparel", "slug": "apparel", "parent": tops.pk, "position": 0},
        )

        assert response.status_code == 200
        assert "cannot sit under itself" in response.content.decode()
        apparel.refresh_from_db()
        assert apparel.parent is None
        assert Category.objects.count() == 2
