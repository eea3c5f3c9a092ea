"""Orders and profiles for the ERP export tests."""

from __future__ import annotations

import uuid

from orders.models import ExportProfile, Order, OrderLine
from tests.factories import DistributorFactory, ProductFactory, StaffFactory, place_order

ORDER_COLUMNS = [
    {"source": "order_number", "column": "Order"},
    {"source": "customer_company", "column": "Company"},
    {"source": "salesperson_email", "column": "Sales"},
    {"source": "grand_total", "column": "Total"},
    {"source": "payment_status", "column": "Paid?"},
]
LINE_COLUMNS = [
    {"source": "order_number", "column": "Order"},
    {"source": "line_sku", "column": "SKU"},
    {"source": "line_product", "column": "Product"},
    {"source": "line_quantity", "column": "Qty"},
    {"source": "line_total", "column": "Line total"},
]


def an_order(*, company="Acme Trading", product_name=None, variants=1, owner=None) -> Order:
    """A placed bank-transfer order of a new distributor (owned by `owner` if given)."""
    distributor = DistributorFactory(company_name=company)
    if owner is not None:
        distributor.owner = owner
        distributor.save(update_fields=["owner"])
    product = ProductFactory(**({"name": product_name} if product_name else {}))
    chosen = list(product.variants.order_by("position"))[:variants]
    return place_order(distributor.user, {variant: 50 for variant in chosen})


def orders_cloned(template: Order, count: int) -> list[Order]:
    """`count` copies of `template` with its lines, made in bulk (for the streaming test)."""
    lines = list(template.lines.all())
    template = Order.objects.get(pk=template.pk)
    copies = []
    for number in range(count):
        copy = Order(
            **{f.attname: getattr(template, f.attname) for f in Order._meta.concrete_fields}
        )
        copy.pk = None
        copy.number = f"C{number:07d}"
        copy.checkout_key = uuid.uuid4()
        copies.append(copy)
    made = Order.objects.bulk_create(copies, batch_size=1000)
    copied_lines = []
    for order in made:
        for line in lines:
            line_copy = OrderLine(
                **{f.attname: getattr(line, f.attname) for f in OrderLine._meta.concrete_fields}
            )
            line_copy.pk = None
            line_copy.order = order
            copied_lines.append(line_copy)
    OrderLine.objects.bulk_create(copied_lines, batch_size=1000)
    return made


def a_profile(**fields) -> ExportProfile:
    values = {
        "name": f"ERP {uuid.uuid4().hex[:6]}",
        "fields": ORDER_COLUMNS,
        "format": "csv",
        "folder": "erp",
    }
    values.update(fields)
    return ExportProfile.objects.create(**values)


def a_salesperson():
    return StaffFactory(email=f"sales-{uuid.uuid4().hex[:6]}@shop.test")
