"""The sales history generator (analytics.history): a small history is a consistent one, with
the shape the reports need (cycles, seasons, churners), and the demo's is written once."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from statistics import median

import pytest
from django.db.models import Min, Sum
from django.utils import timezone

from analytics.history import DEMO_DOMAIN, history_generate, history_seed_demo
from catalog.models import CartAddition, PriceTier, Product, ProductView, SearchLog
from catalog.pricing import Tier, quote
from members.models import Distributor, LevelChange, PointsEntry, User
from orders.membership import members_level_recompute_all
from orders.models import Order, OrderLine, OrderState, Payment, Refund
from orders.reconcile import reconcile
from staff import roles
from tests.factories import CategoryFactory, ProductFactory, StaffFactory
from tests.integration.staff.helpers import in_role, salesperson

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 12, 31, 18, tzinfo=timezone.get_current_timezone())
S = OrderState


def a_catalog(*, launched: datetime, count: int = 8) -> list[Product]:
    categories = [CategoryFactory(name=name) for name in ("Bags", "Mugs", "Hoodies")]
    products = []
    for index in range(count):
        product = ProductFactory(
            name=f"Canvas {['Tote', 'Mug', 'Hoodie'][index % 3]} {index}",
            category=categories[index % 3],
            variants=["Black", "White", "Navy"],
            published_at=launched - timedelta(days=index),
        )
        products.append(product)
    return products


@pytest.fixture
def shop():
    """A catalog launched long ago, two salespeople, finance (confirms transfers, refunds)."""
    a_catalog(launched=NOW - timedelta(days=700))
    sales = [in_role(salesperson(name).user, roles.SALES) for name in ("Lily", "Kevin")]
    finance = in_role(StaffFactory(email="finance@example.test"), roles.FINANCE)
    return {"sales": sales, "finance": finance}


@pytest.fixture
def history(shop):
    written = history_generate(buyers=30, months=6, seed=3, now=NOW)
    return {**shop, "written": written}


class TestASmallHistory:
    def test_writes_what_it_says(self, history):
        written = history["written"]
        assert written["buyers"] == 30
        assert written["orders"] == Order.objects.count() > 100
        assert written["lines"] == OrderLine.objects.count()
        assert Distributor.objects.filter(user__email__endswith=f"@{DEMO_DOMAIN}").count() == 30

    def test_order_totals_add_up(self, history):
        for order in Order.objects.prefetch_related("lines"):
            lines = list(order.lines.all())
            assert order.goods_total == sum(line.line_total for line in lines)
            assert order.discount_total == order.level_discount_total + order.points_discount_total
            assert order.grand_total == (
                order.goods_total
                - order.discount_total
                + order.shipping_total
                + order.insurance_total
                + order.fee_total
            )
            for line in lines:
                assert line.line_total == line.unit_price * line.quantity
            if order.currency == order.base_currency:
                assert order.grand_total_base == order.grand_total
            else:
                converted = order.grand_total_base * order.exchange_rate
                assert abs(converted - order.grand_total) <= order.grand_total / 100 + 1
            assert order.goods_total >= 0 and not order.holds_stock

    def test_lines_are_at_the_tier_their_product_reached(self, history):
        tiers = defaultdict(list)
        for tier in PriceTier.objects.all():
            tiers[tier.product_id].append(Tier(tier.min_quantity, tier.unit_price))
        for order in Order.objects.prefetch_related("lines__variant"):
            units = Counter()
            for line in order.lines.all():
                units[line.product_id_snapshot] += line.quantity
            for line in order.lines.all():
                expected = quote(
                    tiers[line.product_id_snapshot],
                    units[line.product_id_snapshot],
                    "USD",
                    variant_price=line.variant.price,
                )
                assert line.unit_price_base == expected.unit_price.amount
                assert line.tier_min_quantity == expected.tier_min_quantity

    def test_refunds_match_the_lines_given_back(self, history):
        refunded = Order.objects.filter(refunded_total__gt=0).prefetch_related("lines")
        assert refunded.exists()
        for order in refunded:
            lines = list(order.lines.all())
            refund = Refund.objects.get(order=order)
            assert refund.amount == order.refunded_total
            if order.state == S.REFUNDED:
                assert order.refunded_total == order.grand_total
                assert all(line.refunded_quantity == line.quantity for line in lines)
            else:
                assert order.refunded_total == sum(
                    line.unit_price * line.refunded_quantity for line in lines
                )
                assert sum(line.refunded_quantity for line in lines) > 0
        untouched = OrderLine.objects.filter(order__refunded_total=0, refunded_quantity__gt=0)
        assert not untouched.exists()

    def test_reconciles_with_payments_history_and_points(self, history):
        problems = reconcile()
        assert {check: found for check, found in problems.items() if found} == {}
        assert Payment.objects.filter(status=Payment.Status.FAILED).exists()
        assert PointsEntry.objects.filter(kind=PointsEntry.Kind.EARN).exists()

    def test_levels_are_what_the_paid_orders_reach(self, history):
        assert members_level_recompute_all(now=NOW) == 0
        assert LevelChange.objects.exists()

    def test_states_follow_the_age_of_the_order(self, history):
        orders = list(Order.objects.all())
        assert all(order.placed_at <= NOW for order in orders)
        for order in orders:
            if order.state in (S.PENDING_PAYMENT, S.CANCELLED):
                assert order.paid_at is None
            else:
                assert order.placed_at <= order.paid_at <= NOW
        pending = [order for order in orders if order.state == S.PENDING_PAYMENT]
        assert all(order.placed_at > NOW - timedelta(days=8) for order in pending)
        old = [order for order in orders if order.paid_at and order.paid_at < NOW - timedelta(60)]
        done = sum(order.state in (S.COMPLETED, S.REFUNDED) for order in old)
        assert done == len(old) > 0
        recent = [order for order in orders if order.paid_at and order.paid_at > NOW - timedelta(2)]
        assert not any(order.state == S.COMPLETED for order in recent)
        states = Counter(order.state for order in orders)
        assert states[S.COMPLETED] > len(orders) / 2
        assert states[S.CANCELLED] > 0

    def test_numbers_are_checkouts_and_unique(self, history):
        numbers = list(Order.objects.values_list("pk", "number"))
        assert all(number == f"W{100000 + pk}" for pk, number in numbers)
        assert len({number for _pk, number in numbers}) == len(numbers)

    def test_each_buyer_keeps_a_cycle_of_their_own_and_churners_stop(self, history):
        placed = defaultdict(list)
        for member, at in Order.objects.order_by("placed_at").values_list("member", "placed_at"):
            placed[member].append(at)
        cycles = {
            member: median((b - a).days for a, b in pairwise(times))
            for member, times in placed.items()
            if len(times) >= 4
        }
        assert max(cycles.values()) >= 2 * min(cycles.values())
        stopped = [
            member
            for member, times in placed.items()
            if member in cycles and NOW - times[-1] > timedelta(days=max(3 * cycles[member], 45))
        ]
        assert stopped
        assert len(stopped) < len(placed) / 2

    def test_the_fourth_quarter_sells_more_than_the_summer(self, history):
        months = Counter(at.month for at in Order.objects.values_list("placed_at", flat=True))
        assert months[11] + months[12] > 1.5 * (months[7] + months[8])

    def test_more_views_than_cart_additions_than_units_bought(self, history):
        bought = OrderLine.objects.values("order", "variant__product").distinct().count()
        assert ProductView.objects.count() > CartAddition.objects.count() > bought
        assert SearchLog.objects.filter(results=0).exists()
        assert (
            SearchLog.objects.filter(results__gt=0).count()
            > SearchLog.objects.filter(results=0).count()
        )

    def test_buyers_are_spread_over_markets_and_salespeople(self, history):
        distributors = Distributor.objects.filter(user__email__endswith=f"@{DEMO_DOMAIN}")
        assert distributors.values("country").distinct().count() >= 5
        owners = set(distributors.values_list("owner", flat=True))
        assert {user.pk for user in history["sales"]} <= owners
        assert not Distributor.objects.filter(created_at__gt=NOW).exists()


class TestTheDemoHistory:
    @pytest.fixture
    def demo_shop(self):
        """Like seed_demo's: a catalog published over the last six weeks."""
        a_catalog(launched=timezone.now() - timedelta(days=2), count=16)
        for product in Product.objects.all():
            Product.objects.filter(pk=product.pk).update(
                published_at=timezone.now() - timedelta(days=2 + 2.5 * product.pk % 40)
            )
        in_role(salesperson("Lily").user, roles.SALES)
        in_role(StaffFactory(email="finance@example.test"), roles.FINANCE)

    def test_is_written_once(self, demo_shop):
        first = history_seed_demo(buyers=12)
        assert first["buyers"] == 12 and first["orders"] > 12
        counts = (User.objects.count(), Order.objects.count(), ProductView.objects.count())
        assert history_seed_demo(buyers=12) == {}
        assert (User.objects.count(), Order.objects.count(), ProductView.objects.count()) == counts

    def test_spreads_the_launches_over_the_year_and_sells_products_once_launched(self, demo_shop):
        newest = set(Product.objects.order_by("-published_at")[:12].values_list("pk", flat=True))
        before = dict(Product.objects.values_list("pk", "published_at"))
        history_seed_demo(buyers=12)
        after = dict(Product.objects.values_list("pk", "published_at"))
        assert {pk for pk in before if after[pk] == before[pk]} == newest
        assert all(after[pk] < timezone.now() - timedelta(days=45) for pk in set(after) - newest)
        first_sales = (
            OrderLine.objects.values("variant__product")
            .annotate(first=Min("order__placed_at"))
            .values_list("variant__product", "first")
        )
        assert first_sales
        for product, first in first_sales:
            assert first >= after[product]
        assert Decimal(0) < Order.objects.aggregate(total=Sum("grand_total_base"))["total"]
