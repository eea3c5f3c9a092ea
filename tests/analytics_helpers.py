"""Known, small sales histories for the report tests: buyers with a country, salesperson and
level, and orders written directly with round figures (no checkout, stock or shipping), so a
test can work its expected figures out by hand.

    buyer = a_buyer(country="DE", owner=sales1)
    a_sale(buyer, {variant: (10, "4.00")}, paid_at=day(3))   # 10 units at 4.00 = 40.00
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from members.models import Distributor, Level
from orders.models import Order, OrderLine, OrderState
from tests.factories import DistributorFactory

_numbers = count(1)
TODAY = date(2026, 6, 30)  # a fixed "today" for the report tests


def day(offset: int, *, hour: int = 12) -> datetime:
    """`offset` days before TODAY, at `hour` o'clock (aware)."""
    return datetime.combine(
        TODAY - timedelta(days=offset), time(hour), tzinfo=timezone.get_current_timezone()
    )


def a_buyer(*, country="DE", owner=None, level: str | None = None, business_type=None, **extra):
    """A distributor's user, with the country, owner (a salesperson) and level given."""
    fields = {"country": country, **extra}
    if business_type is not None:
        fields["business_type"] = business_type
    distributor = DistributorFactory(**fields)
    updates = {}
    if owner is not None:
        updates["owner"] = owner
    if level is not None:
        updates["level"] = Level.objects.get(name=level)
    if updates:
        Distributor.objects.filter(pk=distributor.pk).update(**updates)
    return type(distributor.user).objects.get(pk=distributor.user_id)


def a_sale(
    buyer,
    lines,
    *,
    paid_at: datetime | None,
    state: str = OrderState.PAID,
    payment_method: str = "bank_transfer",
    currency: str = "USD",
    exchange_rate: str = "1",
    refunded: str = "0",
    placed_at: datetime | None = None,
) -> Order:
    """An order of `lines` ({variant: (units, unit price in the base currency)}), its total the
    sum of the lines, paid at `paid_at` (None: never paid). Nothing else is added."""
    rate = Decimal(exchange_rate)
    goods_base = sum(
        (Decimal(price) * units for units, price in lines.values()), start=Decimal("0.00")
    )
    goods = (goods_base * rate).quantize(Decimal("0.01"))
    distributor = buyer.distributor
    number = next(_numbers)
    order = Order.objects.create(
        number=f"T{number:07d}",
        member=buyer,
        email=buyer.email,
        company_name=distributor.company_name,
        state=state,
        payment_method=payment_method,
        checkout_key=uuid.uuid4(),
        currency=currency,
        base_currency="USD",
        exchange_rate=rate,
        goods_total=goods,
        shipping_total=Decimal("0.00"),
        insurance_total=Decimal("0.00"),
        grand_total=goods,
        grand_total_base=goods_base,
        refunded_total=Decimal(refunded),
        shipping_method_code="express",
        shipping_method_name="Express",
        delivery_min_days=3,
        delivery_max_days=7,
        weight_grams=1000,
        ship_name=distributor.contact_name,
        ship_line1="1 Test Street",
        ship_city="Testville",
        ship_country=distributor.country,
        holds_stock=False,
        placed_at=placed_at or paid_at or timezone.now(),
        paid_at=paid_at,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            variant=variant,
            product_id_snapshot=variant.product_id,
            product_name=variant.product.name,
            sku=variant.sku,
            variant_label=variant.label,
            quantity=units,
            tier_min_quantity=1,
            unit_price_base=Decimal(price),
            unit_price=(Decimal(price) * rate).quantize(Decimal("0.01")),
            line_total=(Decimal(price) * rate * units).quantize(Decimal("0.01")),
            position=position,
        )
        for position, (variant, (units, price)) in enumerate(lines.items())
    )
    return order


def client_of(user):
    """A test client logged in as `user`."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def manager_client():
    """A test client logged in as a super admin, who reads every report unnarrowed."""
    from tests.factories import StaffFactory

    return client_of(StaffFactory(is_superuser=True))


def result_of(response):
    """The report's result behind a page that answered 200."""
    assert response.status_code == 200
    return response.context["result"]
