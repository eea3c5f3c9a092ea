"""Stock in the admin: edits become movements by the staff member, and the ledger is read-only."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Product, StockMovement, Variant
from catalog.services import stock_take
from tests.factories import EditorFactory, ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

Reason = StockMovement.Reason
LEDGER_URL = "/admin/catalog/stockmovement/"


def management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def a_draft(stock=40, sizes=("S",)):
    """A draft product (no tiers needed to save it) with one variant per size."""
    return ProductFactory(
        tiers=[],
        variants=list(sizes),
        variants__stock=stock,
        status=Product.Status.DRAFT,
        published_at=None,
    )


def change_url(product) -> str:
    return f"/admin/catalog/product/{product.pk}/change/"


def product_change_data(product, *, loaded=None, new_variants=(), **variant_fields) -> dict:
    """The POST of the product's change page, its variants as they are in the database.

    `loaded` maps a variant pk to the stock the page showed (default: the stock now);
    `variant_fields` overrides inline fields, e.g. ``{"variants-0-stock": "35"}``.
    """
    variants = list(product.variants.order_by("position", "pk"))
    loaded = loaded or {}
    data = {
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
        **management("variants", len(variants) + len(new_variants), initial=len(variants)),
        **management("tiers", 0),
        **management("images", 0),
        **management("translations", 0),
    }
    for index, variant in enumerate(variants):
        prefix = f"variants-{index}-"
        data.update(
            {
                prefix + "id": str(variant.pk),
                prefix + "product": str(product.pk),
                prefix + "sku": variant.sku,
                prefix + "barcode": variant.barcode,
                prefix + "option1": variant.option1,
                prefix + "weight_grams": str(variant.weight_grams),
                prefix + "stock": str(variant.stock),
                prefix + "stock_loaded": str(loaded.get(variant.pk, variant.stock)),
                prefix + "price": "",
                prefix + "position": str(variant.position),
                prefix + "is_active": "on",
            }
        )
    for offset, (sku, stock) in enumerate(new_variants):
        prefix = f"variants-{len(variants) + offset}-"
        data.update(
            {
                prefix + "sku": sku,
                prefix + "weight_grams": "100",
                prefix + "stock": str(stock),
                prefix + "position": str(len(variants) + offset),
                prefix + "is_active": "on",
            }
        )
    data.update(variant_fields)
    return data


@pytest.fixture
def editor():
    return EditorFactory()


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def ledger(variant) -> list[tuple]:
    return list(
        StockMovement.objects.filter(variant=variant)
        .order_by("pk")
        .values_list("delta", "balance_after", "reason", "created_by")
    )


class TestEditingStockInTheProductAdmin:
    def test_the_page_carries_the_stock_it_showed(self, editor_client):
        product = a_draft(stock=40)
        page = editor_client.get(change_url(product)).content.decode()
        assert 'name="variants-0-stock_loaded" value="40"' in page

    def test_an_edit_is_an_adjustment_by_the_staff_member(self, editor_client, editor):
        product = a_draft(stock=40)
        variant = product.variants.get()

        response = editor_client.post(
            change_url(product), product_change_data(product, **{"variants-0-stock": "35"})
        )

        assert response.status_code == 302
        variant.refresh_from_db()
        assert variant.stock == 35
        assert ledger(variant) == [
            (40, 40, Reason.INITIAL, None),
            (-5, 35, Reason.ADJUSTMENT, editor.pk),
        ]

    def test_sales_made_while_the_page_was_open_are_kept(self, editor_client, editor):
        product = a_draft(stock=40)
        variant = product.variants.get()
        data = product_change_data(product, **{"variants-0-stock": "35"})  # opened at 40
        stock_take(quantities={variant.pk: 3}, reason=Reason.ORDER, reference="order:W-1")

        response = editor_client.post(change_url(product), data)

        assert response.status_code == 302
        variant.refresh_from_db()
        assert variant.stock == 32  # 40 - 3 sold - 5 written off, not the 35 typed
        assert ledger(variant)[-1] == (-5, 32, Reason.ADJUSTMENT, editor.pk)

    def test_an_edit_to_the_figure_sales_reached_meanwhile_still_counts(self, editor_client):
        product = a_draft(stock=40)
        variant = product.variants.get()
        data = product_change_data(product, **{"variants-0-stock": "37"})  # opened at 40
        stock_take(quantities={variant.pk: 3}, reason=Reason.ORDER, reference="order:W-4")

        assert editor_client.post(change_url(product), data).status_code == 302
        variant.refresh_from_db()
        assert variant.stock == 34
        assert ledger(variant)[-1][:3] == (-3, 34, Reason.ADJUSTMENT)

    def test_a_cut_below_what_is_left_now_is_a_form_error(self, editor_client):
        product = a_draft(stock=5)
        variant = product.variants.get()
        data = product_change_data(product, **{"variants-0-stock": "0"})  # opened at 5
        stock_take(quantities={variant.pk: 3}, reason=Reason.ORDER, reference="order:W-2")

        response = editor_client.post(change_url(product), data)

        assert response.status_code == 200
        assert "Only 2 left now" in response.content.decode()
        variant.refresh_from_db()
        assert variant.stock == 2
        assert len(ledger(variant)) == 2

    def test_other_fields_change_without_touching_stock(self, editor_client):
        product = a_draft(stock=40)
        variant = product.variants.get()
        data = product_change_data(product, **{"variants-0-barcode": "6901234567892"})
        stock_take(quantities={variant.pk: 3}, reason=Reason.ORDER, reference="order:W-3")

        response = editor_client.post(change_url(product), data)

        assert response.status_code == 302
        variant.refresh_from_db()
        assert (variant.barcode, variant.stock) == ("6901234567892", 37)
        assert len(ledger(variant)) == 2

    def test_a_post_without_the_loaded_value_compares_with_the_stock_now(self, editor_client):
        product = a_draft(stock=40)
        variant = product.variants.get()
        data = product_change_data(product, **{"variants-0-stock": "50"})
        del data["variants-0-stock_loaded"]

        assert editor_client.post(change_url(product), data).status_code == 302
        variant.refresh_from_db()
        assert variant.stock == 50
        assert ledger(variant)[-1][:3] == (10, 50, Reason.ADJUSTMENT)

    def test_a_new_variant_opens_with_an_initial_movement_by_the_staff_member(
        self, editor_client, editor
    ):
        product = a_draft(stock=40)

        response = editor_client.post(
            change_url(product),
            product_change_data(product, new_variants=[("NEW-XL", 12), ("NEW-XXL", 0)]),
        )

        assert response.status_code == 302
        added = Variant.objects.get(sku="NEW-XL")
        assert added.stock == 12
        assert ledger(added) == [(12, 12, Reason.INITIAL, editor.pk)]
        assert ledger(Variant.objects.get(sku="NEW-XXL")) == []

    def test_a_stocked_variant_cannot_be_deleted_from_the_inline(self, editor_client):
        product = a_draft(stock=40)

        response = editor_client.post(
            change_url(product), product_change_data(product, **{"variants-0-DELETE": "on"})
        )

        assert response.status_code == 200
        assert "protected" in response.content.decode()
        assert product.variants.count() == 1

    def test_a_viewer_sees_stock_without_the_hidden_field(self, client):
        viewer = StaffFactory()
        viewer.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="catalog", codename__startswith="view_"
            )
        )
        client.force_login(viewer)
        page = client.get(change_url(a_draft(stock=40))).content.decode()
        assert "stock_loaded" not in page
        assert "Stock loaded" not in page


class TestTheLedgerAdmin:
    def test_lists_movements_with_a_fixed_query_count(self, editor_client):
        variant = a_draft(stock=20).variants.get()
        stock_take(quantities={variant.pk: 1}, reason=Reason.ORDER, reference="order:W-7")
        with CaptureQueriesContext(connection) as few:
            first = editor_client.get(LEDGER_URL)
        for index in range(10):
            other = ProductFactory(variants=["ONE"], variants__stock=5).variants.get()
            stock_take(quantities={other.pk: 1}, reason=Reason.ORDER, reference=f"o:{index}")
        with CaptureQueriesContext(connection) as many:
            more = editor_client.get(LEDGER_URL)
        assert first.status_code == more.status_code == 200
        assert len(many) == len(few) <= 8
        assert variant.sku in more.content.decode()
        assert "order:W-7" in more.content.decode()

    def test_searches_by_sku_and_reference_and_filters_by_reason(self, editor_client):
        shirt = a_draft(stock=10, sizes=("S",)).variants.get()
        mug = ProductFactory(variants=["ONE"], variants__stock=10).variants.get()
        stock_take(quantities={shirt.pk: 1}, reason=Reason.ORDER, reference="order:W-8")
        stock_take(quantities={mug.pk: 2}, reason=Reason.ORDER, reference="order:W-9")

        by_sku = editor_client.get(LEDGER_URL, {"q": mug.sku}).context["cl"].result_list
        by_reference = editor_client.get(LEDGER_URL, {"q": "W-8"}).context["cl"].result_list
        orders = editor_client.get(LEDGER_URL, {"reason__exact": "order"}).context["cl"]

        assert {m.variant_id for m in by_sku} == {mug.pk}
        assert [m.reference for m in by_reference] == ["order:W-8"]
        assert {m.reason for m in orders.result_list} == {Reason.ORDER}

    def test_is_read_only_even_for_editors(self, editor_client):
        movement = StockMovement.objects.get(variant=a_draft(stock=10).variants.get())
        url = f"{LEDGER_URL}{movement.pk}/change/"

        assert editor_client.get(f"{LEDGER_URL}add/").status_code == 403
        assert editor_client.get(f"{LEDGER_URL}{movement.pk}/delete/").status_code == 403
        page = editor_client.get(url)
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        editor_client.post(url, {"delta": "999", "balance_after": "999", "reason": "count"})
        assert StockMovement.objects.get(pk=movement.pk).delta == 10

    def test_staff_without_catalog_permissions_is_refused(self, client):
        client.force_login(StaffFactory())
        assert client.get(LEDGER_URL).status_code == 403
