"""Cart services and selectors against PostgreSQL: every rule, and what a refusal leaves."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from catalog.models import Product, Variant
from members.models import Distributor
from orders import selectors, services
from orders.models import Cart, CartLine
from orders.quick_order import parse_lines
from tests.factories import DistributorFactory, ProductFactory, StaffFactory, UserFactory
from wholesale.money import Money

pytestmark = pytest.mark.django_db


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def variants(product):
    return {v.option1: v for v in product.variants.all()}


def add(member, product, **sizes):
    by_size = variants(product)
    return services.cart_add_lines(
        member=member,
        product_slug=product.slug,
        quantities={by_size[size].pk: quantity for size, quantity in sizes.items()},
    )


def cart_state(member) -> dict[str, int]:
    return dict(
        CartLine.objects.filter(cart__member=member).values_list("variant__sku", "quantity")
    )


class TestAddingToTheCart:
    def test_creates_the_cart_on_the_first_addition(self, buyer):
        product = ProductFactory()
        assert selectors.cart_for(member=buyer) is None
        result = add(buyer, product, S=6, M=4)
        assert Cart.objects.filter(member=buyer).count() == 1
        assert cart_state(buyer) == {f"{product.slug.upper()}-S": 6, f"{product.slug.upper()}-M": 4}
        assert [(line.label, line.added, line.in_cart) for line in result.lines] == [
            ("S", 6, 6),
            ("M", 4, 4),
        ]

    def test_adds_to_the_quantity_already_in_the_cart(self, buyer):
        product = ProductFactory()
        add(buyer, product, S=6)
        result = add(buyer, product, S=4, M=0)
        assert list(cart_state(buyer).values()) == [10]
        assert [(line.added, line.in_cart) for line in result.lines] == [(4, 10)]
        assert Cart.objects.filter(member=buyer).count() == 1

    def test_is_all_or_nothing_when_one_variant_is_short(self, buyer):
        product = ProductFactory()
        product.variants.filter(option1="M").update(stock=5)
        with pytest.raises(ValidationError, match="Only 5 of"):
            add(buyer, product, S=10, M=6)
        assert cart_state(buyer) == {}

    def test_counts_what_is_in_the_cart_against_the_stock(self, buyer):
        product = ProductFactory()
        add(buyer, product, S=60)
        with pytest.raises(ValidationError, match="60 already in your cart"):
            add(buyer, product, S=41)
        assert list(cart_state(buyer).values()) == [60]
        add(buyer, product, S=40)
        assert list(cart_state(buyer).values()) == [100]

    def test_refuses_an_out_of_stock_variant(self, buyer):
        product = ProductFactory()
        product.variants.update(stock=0)
        with pytest.raises(ValidationError, match="out of stock"):
            add(buyer, product, S=1)

    def test_made_to_order_products_are_not_limited_by_stock(self, buyer):
        product = ProductFactory(made_to_order=True, lead_time_days=20)
        product.variants.update(stock=0)
        add(buyer, product, S=500)
        assert list(cart_state(buyer).values()) == [500]

    def test_keeps_each_line_under_the_maximum(self, buyer):
        product = ProductFactory(made_to_order=True, lead_time_days=20)
        add(buyer, product, S=99_000)
        with pytest.raises(ValidationError, match="at most 100,000"):
            add(buyer, product, S=1_001)
        assert list(cart_state(buyer).values()) == [99_000]

    @pytest.mark.parametrize("quantity", [-1, 10**12])
    def test_refuses_a_bad_quantity(self, buyer, quantity):
        product = ProductFactory()
        with pytest.raises(ValidationError):
            add(buyer, product, S=quantity)
        assert cart_state(buyer) == {}

    def test_refuses_nothing_to_add(self, buyer):
        product = ProductFactory()
        with pytest.raises(ValidationError, match="at least one variant"):
            add(buyer, product, S=0)
        assert not Cart.objects.exists()

    def test_below_the_moq_is_added_and_reported(self, buyer):
        product = ProductFactory(moq=50)
        result = add(buyer, product, S=20, M=10)
        assert sum(cart_state(buyer).values()) == 30
        assert any("add 20 more" in problem for problem in result.problems)

    def test_not_a_whole_number_of_packs_is_added_and_reported(self, buyer):
        product = ProductFactory(order_increment=6)
        result = add(buyer, product, S=7)
        assert sum(cart_state(buyer).values()) == 7
        assert any("packs of 6" in problem for problem in result.problems)

    def test_the_pack_rule_counts_all_variants_of_the_product(self, buyer):
        product = ProductFactory(order_increment=6)
        add(buyer, product, S=4)
        assert add(buyer, product, M=2).problems == []


class TestVariantsThatCannotBeAdded:
    def test_an_unknown_variant_id_is_a_404(self, buyer):
        product = ProductFactory()
        with pytest.raises(Http404):
            services.cart_add_lines(
                member=buyer, product_slug=product.slug, quantities={999_999: 1}
            )
        assert not CartLine.objects.exists()

    def test_one_unknown_id_among_good_ones_adds_nothing(self, buyer):
        product = ProductFactory()
        good = product.variants.first()
        with pytest.raises(Http404):
            services.cart_add_lines(
                member=buyer, product_slug=product.slug, quantities={good.pk: 5, 999_999: 1}
            )
        assert not CartLine.objects.exists()

    def test_a_variant_of_another_product_is_a_404(self, buyer):
        product, other = ProductFactory(), ProductFactory()
        with pytest.raises(Http404):
            services.cart_add_lines(
                member=buyer,
                product_slug=product.slug,
                quantities={other.variants.first().pk: 5},
            )

    def test_an_unpublished_product_is_a_404(self, buyer):
        product = ProductFactory()
        Product.objects.filter(pk=product.pk).update(status=Product.Status.DRAFT)
        with pytest.raises(Http404):
            add(buyer, product, S=5)
        assert not Cart.objects.exists()

    def test_an_inactive_variant_is_a_404(self, buyer):
        product = ProductFactory()
        product.variants.filter(option1="S").update(is_active=False)
        with pytest.raises(Http404):
            add(buyer, product, S=5)


class TestWhoMayAdd:
    @pytest.mark.parametrize(
        ("status", "reason"),
        [
            (Distributor.Status.PENDING, "waiting for approval"),
            (Distributor.Status.REJECTED, "Only approved trade accounts"),
        ],
    )
    def test_only_approved_distributors(self, status, reason):
        member = DistributorFactory(status=status).user
        with pytest.raises(ValidationError, match=reason):
            add(member, ProductFactory(), S=10)
        assert not Cart.objects.exists()

    @pytest.mark.parametrize("factory", [StaffFactory, UserFactory])
    def test_not_staff_or_logins_without_a_profile(self, factory):
        with pytest.raises(ValidationError, match="Only approved trade accounts"):
            add(factory(), ProductFactory(), S=10)


class TestChangingALine:
    def test_sets_the_quantity(self, buyer):
        add(buyer, ProductFactory(), S=5)
        line = CartLine.objects.get()
        services.cart_update_line(member=buyer, line_id=line.pk, quantity=12)
        line.refresh_from_db()
        assert line.quantity == 12

    @pytest.mark.parametrize(("quantity", "reason"), [(0, "at least 1"), (-3, "negative")])
    def test_refuses_zero_and_negative(self, buyer, quantity, reason):
        add(buyer, ProductFactory(), S=5)
        line = CartLine.objects.get()
        with pytest.raises(ValidationError, match=reason):
            services.cart_update_line(member=buyer, line_id=line.pk, quantity=quantity)
        line.refresh_from_db()
        assert line.quantity == 5

    def test_refuses_more_than_the_stock(self, buyer):
        add(buyer, ProductFactory(), S=5)
        line = CartLine.objects.get()
        with pytest.raises(ValidationError, match="Only 100 of"):
            services.cart_update_line(member=buyer, line_id=line.pk, quantity=101)
        line.refresh_from_db()
        assert line.quantity == 5

    def test_another_members_line_is_a_404_and_unchanged(self, buyer):
        other = DistributorFactory().user
        add(other, ProductFactory(), S=5)
        line = CartLine.objects.get()
        add(buyer, ProductFactory(), S=1)  # the buyer has a cart of their own
        with pytest.raises(Http404):
            services.cart_update_line(member=buyer, line_id=line.pk, quantity=50)
        with pytest.raises(Http404):
            services.cart_remove_line(member=buyer, line_id=line.pk)
        line.refresh_from_db()
        assert line.quantity == 5

    def test_a_line_id_without_any_cart_is_a_404(self, buyer):
        with pytest.raises(Http404):
            services.cart_update_line(member=buyer, line_id=1, quantity=5)
        assert not Cart.objects.exists()

    def test_a_line_no_longer_sold_can_be_removed_but_not_changed(self, buyer):
        product = ProductFactory()
        add(buyer, product, S=5)
        Product.objects.filter(pk=product.pk).update(status=Product.Status.DRAFT)
        line = CartLine.objects.get()
        with pytest.raises(ValidationError, match="no longer sold"):
            services.cart_update_line(member=buyer, line_id=line.pk, quantity=6)
        removed = services.cart_remove_line(member=buyer, line_id=line.pk)
        assert removed.variant.sku.endswith("-S")
        assert not CartLine.objects.exists()


class TestTheCartView:
    def test_prices_the_tier_reached_by_mixing_variants(self, buyer):
        product = ProductFactory()
        add(buyer, product, S=6, M=6)
        view = selectors.cart_view(member=buyer)
        [group] = view.products
        assert group.price.quantity == 12
        assert group.price.unit_price == usd("3.80")
        assert [(line.label, line.quantity, line.total) for line in group.lines] == [
            ("S", 6, usd("22.80")),
            ("M", 6, usd("22.80")),
        ]
        assert (group.price.next_tier.more, group.price.next_tier.unit_price) == (38, usd("3.30"))
        assert view.goods_total == usd("45.60")

    def test_uses_a_variants_own_price(self, buyer):
        product = ProductFactory()
        Variant.objects.filter(product=product, option1="M").update(price=Decimal("4.70"))
        add(buyer, product, S=5, M=5)
        [group] = selectors.cart_view(member=buyer).products
        assert [line.unit_price for line in group.lines] == [usd("3.80"), usd("4.30")]

    def test_reports_what_to_fix_before_checkout(self, buyer, settings):
        settings.WHOLESALE_MIN_ORDER_AMOUNT = Decimal("100")
        product = ProductFactory(name="Canvas Tote", moq=20, order_increment=6)
        add(buyer, product, S=7)
        view = selectors.cart_view(member=buyer)
        assert view.goods_total == usd("29.40")
        assert view.missing == usd("70.60")
        text = " ".join(view.problems)
        assert "minimum order of Canvas Tote is 20" in text
        assert "packs of 6" in text
        assert "add $70.60 more" in text
        assert not view.ready_for_checkout

    def test_a_cart_that_meets_every_rule_is_ready(self, buyer, settings):
        settings.WHOLESALE_MIN_ORDER_AMOUNT = Decimal("100")
        add(buyer, ProductFactory(), S=30)
        view = selectors.cart_view(member=buyer)
        assert view.problems == []
        assert view.ready_for_checkout

    def test_flags_lines_whose_stock_fell_or_that_are_no_longer_sold(self, buyer):
        kept, dropped = ProductFactory(), ProductFactory()
        add(buyer, kept, S=40)
        add(buyer, dropped, S=10)
        kept.variants.filter(option1="S").update(stock=25)
        Product.objects.filter(pk=dropped.pk).update(status=Product.Status.DRAFT)
        view = selectors.cart_view(member=buyer)
        lines = {line.sku: line for group in view.products for line in group.lines}
        assert "Only 25 of" in lines[f"{kept.slug.upper()}-S"].problem
        assert "No longer available" in lines[f"{dropped.slug.upper()}-S"].problem
        assert lines[f"{dropped.slug.upper()}-S"].total is None
        assert view.goods_total == usd("152.00")  # only what can be ordered: 40 × 3.80

    def test_shows_the_lead_time_of_made_to_order_products(self, buyer):
        add(buyer, ProductFactory(made_to_order=True, lead_time_days=25), S=10)
        [group] = selectors.cart_view(member=buyer).products
        assert group.made_to_order and group.lead_time_days == 25

    def test_an_empty_cart(self, buyer):
        view = selectors.cart_view(member=buyer)
        assert view.is_empty and view.problems == [] and not view.ready_for_checkout

    def test_reads_in_two_queries_whatever_the_number_of_lines(
        self, buyer, django_assert_num_queries
    ):
        for _ in range(10):
            add(buyer, ProductFactory(variants=["S", "M", "L"]), S=3, M=3, L=4)
        with django_assert_num_queries(2):
            view = selectors.cart_view(member=buyer)
        assert view.line_count == 30

    def test_counts_lines_for_the_header(self, buyer):
        add(buyer, ProductFactory(), S=1, M=1)
        assert selectors.cart_line_count(member=buyer) == 2


class TestQuickOrder:
    def test_adds_good_lines_and_explains_the_others(self, buyer):
        product = ProductFactory()
        hidden = ProductFactory()
        Product.objects.filter(pk=hidden.pk).update(status=Product.Status.DRAFT)
        sku = product.slug.upper()
        entries = parse_lines(
            f"{sku}-S, 12\n"
            "NOPE-1, 3\n"
            f"{sku}-M, 0.5\n"
            f"{hidden.slug.upper()}-S, 2\n"
            f"{sku}-M, 101\n"
            f"{sku.lower()}-m, 8\n"
        )
        outcomes = services.cart_quick_order(member=buyer, entries=entries)
        assert [o.accepted for o in outcomes] == [True, False, False, False, False, True]
        reasons = [o.reason for o in outcomes]
        assert "Unknown SKU" in reasons[1]
        assert "whole number" in reasons[2]
        assert "no longer sold" in reasons[3]
        assert "Only 100 of" in reasons[4]
        assert cart_state(buyer) == {f"{sku}-S": 12, f"{sku}-M": 8}

    def test_the_same_sku_on_several_lines_adds_up_against_the_stock(self, buyer):
        product = ProductFactory()
        sku = f"{product.slug.upper()}-S"
        add(buyer, product, S=50)
        outcomes = services.cart_quick_order(
            member=buyer, entries=parse_lines(f"{sku},30\n{sku},30\n{sku},20")
        )
        assert [o.accepted for o in outcomes] == [True, False, True]
        assert cart_state(buyer) == {sku: 100}

    def test_nothing_readable_writes_nothing(self, buyer):
        outcomes = services.cart_quick_order(member=buyer, entries=parse_lines("X, -1\nY"))
        assert [o.accepted for o in outcomes] == [False, False]
        assert not Cart.objects.exists()

    def test_a_member_who_cannot_order_is_refused(self):
        member = DistributorFactory(status=Distributor.Status.PENDING).user
        with pytest.raises(ValidationError):
            services.cart_quick_order(member=member, entries=parse_lines("A, 1"))
