"""Reorder: an old order's lines back in the cart at today's prices and stock, and a report
of what changed (a price higher or lower than paid, fewer units in stock, a variant no longer
sold). Through the page (POST, messages, the cart) and through the service's report."""

from decimal import Decimal

import pytest

from catalog.models import PriceTier, Product, Variant
from catalog.services import product_refresh, product_unpublish, stock_set
from orders import lifecycle
from orders.models import CartLine, Order
from orders.reorder import order_reorder
from orders.services import cart_add_lines
from tests.factories import ProductFactory, StaffFactory, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return ProductFactory(name="Heavy Tee")


@pytest.fixture
def order(buyer, product):
    """60 units, 30 of S and 30 of M, at the 50+ tier (3.30); 70 of each left in stock."""
    s, m = product.variants.order_by("position")
    return place_order(buyer, {s: 30, m: 30})


def sku(product, size) -> str:
    return f"{product.slug.upper()}-{size}"


def cart_of(member) -> dict[str, int]:
    return dict(
        CartLine.objects.filter(cart__member=member).values_list("variant__sku", "quantity")
    )


def reorder(client, order):
    return client.post(f"/account/orders/{order.number}/reorder/", follow=True)


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def set_tier_price(product, min_quantity, price):
    PriceTier.objects.filter(product=product, min_quantity=min_quantity).update(
        unit_price=Decimal(price)
    )
    product_refresh(product_ids=[product.pk])


class TestReorderingFromTheOrderPage:
    def test_puts_the_same_lines_in_the_cart_and_goes_to_the_cart(
        self, buyer_client, buyer, product, order
    ):
        response = reorder(buyer_client, order)
        assert response.redirect_chain == [("/cart/", 302)]
        assert cart_of(buyer) == {sku(product, "S"): 30, sku(product, "M"): 30}
        assert messages_of(response) == [
            ("success", f"2 of the 2 lines of order {order.number} were added to your cart.")
        ]
        html = response.content.decode()
        assert "60 units: the 50+ price, $3.30 each." in html

    def test_a_higher_price_is_reported(self, buyer_client, buyer, product, order):
        set_tier_price(product, 50, "3.50")
        response = reorder(buyer_client, order)
        warnings = [text for level, text in messages_of(response) if level == "warning"]
        assert warnings == [
            f"{sku(product, 'S')} now costs $3.50 each, more than the $3.30 you paid.",
            f"{sku(product, 'M')} now costs $3.50 each, more than the $3.30 you paid.",
        ]
        assert cart_of(buyer) == {sku(product, "S"): 30, sku(product, "M"): 30}

    def test_a_lower_price_is_reported(self, buyer_client, product, order):
        set_tier_price(product, 50, "2.90")
        response = reorder(buyer_client, order)
        warnings = [text for level, text in messages_of(response) if level == "warning"]
        assert f"{sku(product, 'S')} now costs $2.90 each, less than the $3.30 you paid." in (
            warnings
        )

    def test_fewer_units_in_stock_adds_what_there_is(self, buyer_client, buyer, product, order):
        s = Variant.objects.get(sku=sku(product, "S"))
        stock_set(variant_id=s.pk, quantity=12)
        response = reorder(buyer_client, order)
        assert cart_of(buyer) == {sku(product, "S"): 12, sku(product, "M"): 30}
        warnings = [text for level, text in messages_of(response) if level == "warning"]
        assert warnings[0] == (
            f"Only 12 of the 30 units of {sku(product, 'S')} are in stock: 12 added."
        )
        # 42 units reach only the 10–49 tier: both lines now cost more than they did.
        assert f"{sku(product, 'M')} now costs $3.80 each, more than the $3.30 you paid." in (
            warnings
        )

    def test_an_unpublished_product_is_left_out(self, buyer_client, buyer, product, order):
        product_unpublish(product_ids=[product.pk])
        response = reorder(buyer_client, order)
        assert response.redirect_chain == [("/cart/", 302)]
        assert cart_of(buyer) == {}
        assert messages_of(response) == [
            ("error", f"Nothing from order {order.number} could be added to your cart."),
            ("warning", f"{sku(product, 'S')} (Heavy Tee S) is no longer sold: it was left out."),
            ("warning", f"{sku(product, 'M')} (Heavy Tee M) is no longer sold: it was left out."),
        ]

    def test_a_retired_variant_is_left_out_and_the_rest_added(
        self, buyer_client, buyer, product, order
    ):
        Variant.objects.filter(sku=sku(product, "M")).update(is_active=False)
        response = reorder(buyer_client, order)
        assert cart_of(buyer) == {sku(product, "S"): 30}
        assert (
            "success",
            f"1 of the 2 lines of order {order.number} were added to your cart.",
        ) in (messages_of(response))
        assert (
            "warning",
            f"{sku(product, 'M')} (Heavy Tee M) is no longer sold: it was left out.",
        ) in messages_of(response)

    def test_an_out_of_stock_variant_adds_nothing_of_it(self, buyer_client, buyer, product, order):
        stock_set(variant_id=Variant.objects.get(sku=sku(product, "M")).pk, quantity=0)
        response = reorder(buyer_client, order)
        assert cart_of(buyer) == {sku(product, "S"): 30}
        assert (
            "warning",
            f"{sku(product, 'M')} is out of stock: none of the 30 units could be added.",
        ) in messages_of(response)

    def test_adds_to_what_the_cart_already_holds_up_to_the_stock(
        self, buyer_client, buyer, product, order
    ):
        s = Variant.objects.get(sku=sku(product, "S"))
        cart_add_lines(member=buyer, product_slug=product.slug, quantities={s.pk: 60})
        response = reorder(buyer_client, order)
        assert cart_of(buyer) == {sku(product, "S"): 70, sku(product, "M"): 30}
        assert (
            "warning",
            f"{sku(product, 'S')}: 10 of the 30 units added; your cart already held 60 and "
            "there is no stock for more.",
        ) in messages_of(response)

    def test_a_cancelled_order_can_be_reordered(self, buyer_client, buyer, product, order):
        lifecycle.order_cancel_by_buyer(member=buyer, number=order.number)
        reorder(buyer_client, order)
        assert cart_of(buyer) == {sku(product, "S"): 30, sku(product, "M"): 30}

    def test_a_member_who_may_no_longer_order_is_told_why(
        self, buyer_client, buyer, product, order
    ):
        buyer.distributor.status = buyer.distributor.Status.PENDING
        buyer.distributor.save()
        response = reorder(buyer_client, order)
        assert response.redirect_chain == [(f"/account/orders/{order.number}/", 302)]
        assert cart_of(buyer) == {}
        [(level, text)] = messages_of(response)
        assert level == "error" and "waiting for approval" in text

    def test_a_get_changes_nothing(self, buyer_client, buyer, order):
        assert buyer_client.get(f"/account/orders/{order.number}/reorder/").status_code == 405
        assert cart_of(buyer) == {}

    def test_the_order_itself_is_unchanged(self, buyer_client, order):
        lifecycle.bank_transfer_confirm(order_id=order.pk, by=StaffFactory())
        before = Order.objects.filter(pk=order.pk).values().get()
        reorder(buyer_client, order)
        assert Order.objects.filter(pk=order.pk).values().get() == before


class TestTheReorderReport:
    def test_reports_each_line(self, buyer, product, order):
        set_tier_price(product, 50, "3.40")
        stock_set(variant_id=Variant.objects.get(sku=sku(product, "M")).pk, quantity=25)
        report = order_reorder(member=buyer, number=order.number)
        assert report.number == order.number
        s, m = report.lines
        assert (s.sku, s.ordered, s.added, s.short, s.sold) == (
            sku(product, "S"),
            30,
            30,
            False,
            True,
        )
        assert (m.sku, m.ordered, m.added, m.short, m.sold) == (
            sku(product, "M"),
            30,
            25,
            True,
            True,
        )
        assert s.paid_unit_price.amount == Decimal("3.30")
        assert s.unit_price.amount == Decimal("3.40") and s.price_change == "higher"
        assert report.units_added == 55 and report.lines_added == 2

    def test_unchanged_lines_have_nothing_to_say(self, buyer, order):
        report = order_reorder(member=buyer, number=order.number)
        assert report.notes == []
        assert {line.price_change for line in report.lines} == {None}

    def test_an_order_paid_in_another_currency_compares_base_prices(self, buyer, product):
        s, m = product.variants.order_by("position")
        order = place_order(buyer, {s: 30, m: 30}, currency="EUR", rate=Decimal("0.92"))
        assert order.lines.first().unit_price == Decimal("3.04")
        report = order_reorder(member=buyer, number=order.number)
        assert report.notes == []

    def test_unpublished_lines_are_skipped(self, buyer, product, order):
        Product.objects.filter(pk=product.pk).update(status=Product.Status.DRAFT)
        report = order_reorder(member=buyer, number=order.number)
        assert [(line.sold, line.added, line.unit_price) for line in report.lines] == [
            (False, 0, None),
            (False, 0, None),
        ]
        assert cart_of(buyer) == {}
