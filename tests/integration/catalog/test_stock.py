"""The stock ledger: every change of a variant's stock is one append-only movement."""

import importlib
import io

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from catalog.cache import VERSION_KEY, catalog_version, stock_key
from catalog.locks import lock_variants
from catalog.models import StockMovement, Variant
from catalog.selectors import stock_mismatches
from catalog.services import (
    OutOfStock,
    stock_adjust,
    stock_release,
    stock_set,
    stock_take,
)
from tests.factories import ProductFactory, StaffFactory
from wholesale.ledger import AppendOnlyError

pytestmark = pytest.mark.django_db

Reason = StockMovement.Reason


def a_variant(stock=10, **product):
    return ProductFactory(variants=["S"], variants__stock=stock, **product).variants.get()


def three_variants(stocks=(10, 10, 10)):
    product = ProductFactory(variants=["S", "M", "L"])
    variants = list(product.variants.order_by("pk"))
    for variant, stock in zip(variants, stocks, strict=True):
        stock_set(variant_id=variant.pk, quantity=stock)
        variant.refresh_from_db()
    return variants


def stock_of(variant) -> int:
    return Variant.objects.values_list("stock", flat=True).get(pk=variant.pk)


def movements(variant) -> list[tuple[int, int, str]]:
    return list(
        StockMovement.objects.filter(variant=variant)
        .order_by("pk")
        .values_list("delta", "balance_after", "reason")
    )


class TestOpeningTheLedger:
    def test_a_variant_created_with_stock_gets_an_initial_movement(self):
        variant = a_variant(stock=40)
        assert movements(variant) == [(40, 40, Reason.INITIAL)]

    def test_a_variant_created_empty_gets_none(self):
        assert movements(a_variant(stock=0)) == []

    def test_the_migration_opens_the_ledger_of_existing_variants_once(self):
        product = ProductFactory(variants=[])
        # bulk_create skips post_save: these stand for rows from before the ledger existed.
        held, empty = Variant.objects.bulk_create(
            [
                Variant(product=product, sku="OLD-1", stock=25),
                Variant(product=product, sku="OLD-2", stock=0),
            ]
        )
        migration = importlib.import_module("catalog.migrations.0005_stock_opening_balances")

        migration.open_ledger(apps, None)
        migration.open_ledger(apps, None)

        assert movements(held) == [(25, 25, Reason.INITIAL)]
        assert movements(empty) == []
        assert list(stock_mismatches()) == []


class TestAdjusting:
    def test_adds_and_removes_with_who_why_and_where(self):
        variant = a_variant(stock=10)
        staff = StaffFactory()

        added = stock_adjust(
            variant_id=variant.pk,
            delta=5,
            reason=Reason.RETURN,
            by=staff,
            reference="rma:77",
            note="Back from a buyer, unopened",
        )
        removed = stock_adjust(variant_id=variant.pk, delta=-3, reason=Reason.ADJUSTMENT)

        assert stock_of(variant) == 12
        assert (added.delta, added.balance_after, added.created_by, added.reference) == (
            5,
            15,
            staff,
            "rma:77",
        )
        assert added.note == "Back from a buyer, unopened"
        assert (removed.delta, removed.balance_after, removed.created_by) == (-3, 12, None)

    def test_never_below_zero(self):
        variant = a_variant(stock=2)
        with pytest.raises(OutOfStock) as refused:
            stock_adjust(variant_id=variant.pk, delta=-3, reason=Reason.ADJUSTMENT)
        assert (refused.value.variant, refused.value.requested, refused.value.available) == (
            variant,
            3,
            2,
        )
        assert stock_of(variant) == 2
        assert len(movements(variant)) == 1

    @pytest.mark.parametrize("delta", [0, 1.5, True, "3"])
    def test_a_delta_is_a_non_zero_whole_number(self, delta):
        variant = a_variant()
        with pytest.raises(ValueError):
            stock_adjust(variant_id=variant.pk, delta=delta, reason=Reason.ADJUSTMENT)
        assert movements(variant) == [(10, 10, Reason.INITIAL)]

    def test_refuses_an_unknown_reason_or_variant(self):
        variant = a_variant()
        with pytest.raises(ValueError):
            stock_adjust(variant_id=variant.pk, delta=1, reason="gift")
        with pytest.raises(Variant.DoesNotExist):
            stock_adjust(variant_id=variant.pk + 999, delta=1, reason=Reason.ADJUSTMENT)

    def test_the_product_page_cache_goes_stale_on_commit(self, django_capture_on_commit_callbacks):
        variant = a_variant()
        slug = variant.product.slug
        before, page_before = catalog_version(), catalog_version(stock_key(slug))
        with django_capture_on_commit_callbacks(execute=True):
            stock_adjust(variant_id=variant.pk, delta=1, reason=Reason.ADJUSTMENT)
        assert catalog_version(stock_key(slug)) != page_before
        # Only that product's pages: the catalog's lists and other products stay cached.
        assert cache.get(VERSION_KEY) == before


class TestStocktake:
    def test_records_the_difference_as_a_count(self):
        variant = a_variant(stock=10)
        staff = StaffFactory()

        movement = stock_set(variant_id=variant.pk, quantity=7, by=staff, note="Shelf B3")

        assert stock_of(variant) == 7
        assert (movement.delta, movement.balance_after, movement.reason) == (-3, 7, Reason.COUNT)
        assert (movement.created_by, movement.note) == (staff, "Shelf B3")

    def test_a_matching_count_records_nothing(self):
        variant = a_variant(stock=10)
        assert stock_set(variant_id=variant.pk, quantity=10) is None
        assert len(movements(variant)) == 1

    @pytest.mark.parametrize("quantity", [-1, 2.5, None])
    def test_a_count_is_zero_or_more(self, quantity):
        variant = a_variant(stock=10)
        with pytest.raises(ValueError):
            stock_set(variant_id=variant.pk, quantity=quantity)
        assert stock_of(variant) == 10


class TestTakingSeveral:
    def test_takes_every_line_with_one_movement_each(self):
        small, medium, large = three_variants((10, 10, 10))
        buyer = StaffFactory()

        taken = stock_take(
            quantities={large.pk: 4, small.pk: 1},
            reason=Reason.ORDER,
            reference="order:W-10023",
            by=buyer,
        )

        assert [(m.variant_id, m.delta, m.balance_after) for m in taken] == [
            (small.pk, -1, 9),
            (large.pk, -4, 6),
        ]
        assert all(m.pk and m.reference == "order:W-10023" for m in taken)
        assert all(m.reason == Reason.ORDER and m.created_by == buyer for m in taken)
        assert [stock_of(v) for v in (small, medium, large)] == [9, 10, 6]

    def test_one_short_line_refuses_them_all_and_changes_nothing(self):
        small, medium, large = three_variants((10, 2, 0))

        with pytest.raises(OutOfStock) as refused:
            stock_take(
                quantities={large.pk: 1, small.pk: 5, medium.pk: 3},
                reason=Reason.ORDER,
                reference="order:W-10024",
            )

        shortages = [(s.variant.pk, s.requested, s.available) for s in refused.value.shortages]
        assert shortages == [(medium.pk, 3, 2), (large.pk, 1, 0)]
        assert medium.sku in str(refused.value) and large.sku in str(refused.value)
        assert small.sku not in str(refused.value)
        assert [stock_of(v) for v in (small, medium, large)] == [10, 2, 0]
        assert not StockMovement.objects.filter(reference="order:W-10024").exists()

    def test_made_to_order_is_not_stock_tracked(self):
        made = a_variant(stock=0, made_to_order=True, lead_time_days=21)
        stocked = a_variant(stock=5)

        taken = stock_take(
            quantities={made.pk: 500, stocked.pk: 2}, reason=Reason.ORDER, reference="order:W-1"
        )
        released = stock_release(
            quantities={made.pk: 500}, reason=Reason.ORDER_CANCELLED, reference="order:W-1"
        )

        assert [m.variant_id for m in taken] == [stocked.pk]
        assert released == []
        assert (stock_of(made), movements(made)) == (0, [])
        assert stock_of(stocked) == 3

    def test_only_made_to_order_lines_never_touch_the_cache(
        self, django_capture_on_commit_callbacks
    ):
        made = a_variant(stock=0, made_to_order=True, lead_time_days=21)
        with django_capture_on_commit_callbacks() as callbacks:
            stock_take(quantities={made.pk: 3}, reason=Reason.ORDER, reference="order:W-2")
        assert callbacks == []

    @pytest.mark.parametrize("quantity", [0, -2, 1.5, True])
    def test_quantities_are_positive_whole_numbers(self, quantity):
        small, medium, _large = three_variants()
        with pytest.raises(ValueError):
            stock_take(
                quantities={small.pk: 1, medium.pk: quantity},
                reason=Reason.ORDER,
                reference="order:W-3",
            )
        assert [stock_of(small), stock_of(medium)] == [10, 10]

    def test_an_unknown_variant_refuses_the_take(self):
        variant = a_variant(stock=10)
        with pytest.raises(Variant.DoesNotExist):
            stock_take(
                quantities={variant.pk: 1, variant.pk + 999: 1},
                reason=Reason.ORDER,
                reference="order:W-4",
            )
        assert stock_of(variant) == 10

    def test_release_puts_stock_back(self):
        small, medium, _large = three_variants((3, 0, 10))
        back = stock_release(
            quantities={medium.pk: 2, small.pk: 1}, reason=Reason.RETURN, reference="rma:12"
        )
        assert [(m.variant_id, m.delta, m.balance_after, m.reason) for m in back] == [
            (small.pk, 1, 4, Reason.RETURN),
            (medium.pk, 2, 2, Reason.RETURN),
        ]

    def test_inside_a_checkout_that_fails_later_nothing_is_kept(self):
        variant = a_variant(stock=10)

        with pytest.raises(RuntimeError), transaction.atomic():
            locked = lock_variants([variant.pk])
            assert locked[variant.pk].stock == 10
            stock_take(quantities={variant.pk: 4}, reason=Reason.ORDER, reference="order:W-5")
            raise RuntimeError("payment provider down")

        assert stock_of(variant) == 10
        assert len(movements(variant)) == 1


class TestTheLedgerIsAppendOnly:
    def test_a_movement_cannot_be_changed_or_deleted(self):
        movement = StockMovement.objects.get(variant=a_variant())
        movement.delta = 1000
        with pytest.raises(AppendOnlyError):
            movement.save()
        with pytest.raises(AppendOnlyError):
            movement.delete()
        with pytest.raises(AppendOnlyError):
            StockMovement.objects.filter(pk=movement.pk).update(delta=1000)
        with pytest.raises(AppendOnlyError):
            StockMovement.objects.all().delete()
        assert StockMovement.objects.get(pk=movement.pk).delta == 10

    def test_a_stocked_variant_cannot_be_deleted_with_its_history(self):
        from django.db.models import ProtectedError

        variant = a_variant()
        with pytest.raises(ProtectedError):
            variant.product.delete()

    def test_the_database_refuses_a_zero_change_or_a_negative_balance(self):
        variant = a_variant()
        for delta, balance in ((0, 10), (-20, -10)):
            with pytest.raises(IntegrityError), transaction.atomic():
                StockMovement.objects.create(
                    variant=variant, delta=delta, balance_after=balance, reason=Reason.ADJUSTMENT
                )

    def test_deleting_a_staff_account_keeps_its_movements(self):
        variant = a_variant()
        staff = StaffFactory()
        movement = stock_adjust(variant_id=variant.pk, delta=1, reason=Reason.ADJUSTMENT, by=staff)
        staff.delete()
        assert StockMovement.objects.get(pk=movement.pk).created_by is None


class TestReconciliation:
    def reconcile(self) -> str:
        out = io.StringIO()
        call_command("stock_reconcile", stdout=out)
        return out.getvalue()

    def test_a_ledger_kept_by_the_services_reconciles(self):
        small, medium, large = three_variants((10, 5, 0))
        stock_take(quantities={small.pk: 3, medium.pk: 5}, reason=Reason.ORDER, reference="o:1")
        stock_release(quantities={medium.pk: 1}, reason=Reason.ORDER_CANCELLED, reference="o:1")
        stock_adjust(variant_id=large.pk, delta=8, reason=Reason.IMPORT, reference="erp:9")

        assert list(stock_mismatches()) == []
        assert "all 3 variants" in self.reconcile()

    def test_finds_stock_changed_behind_the_ledger(self):
        tampered = a_variant(stock=10)
        a_variant(stock=10)
        Variant.objects.filter(pk=tampered.pk).update(stock=4)

        found = list(stock_mismatches())

        assert [(v.pk, v.stock, v.ledger_stock) for v in found] == [(tampered.pk, 4, 10)]
        out = io.StringIO()
        with pytest.raises(CommandError) as failed:
            call_command("stock_reconcile", stdout=out)
        assert failed.value.returncode == 1
        assert f"{tampered.sku} (variant {tampered.pk}): stock 4" in out.getvalue()
        assert "off by -6" in out.getvalue()

    def test_finds_a_tampered_movement(self):
        variant = a_variant(stock=10)
        stock_take(quantities={variant.pk: 2}, reason=Reason.ORDER, reference="order:W-6")
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE catalog_stockmovement SET delta = -1 WHERE reference = 'order:W-6'"
            )
        assert [(v.pk, v.stock, v.ledger_stock) for v in stock_mismatches()] == [(variant.pk, 8, 9)]

    def test_finds_stock_that_never_entered_the_ledger(self):
        product = ProductFactory(variants=[])
        (ghost,) = Variant.objects.bulk_create([Variant(product=product, sku="GHOST", stock=7)])
        assert [(v.pk, v.ledger_stock) for v in stock_mismatches()] == [(ghost.pk, 0)]
