"""Open the stock ledger: one "initial" movement for every variant already holding stock.

From here on every change of Variant.stock is a movement (catalog.services.stock_*), and a
variant created with stock gets its "initial" movement on creation (catalog.signals), so
stock always equals the sum of the variant's movements (catalog.selectors.stock_mismatches).
"""

from django.db import migrations
from django.db.models import Exists, OuterRef

BATCH = 2000


def open_ledger(apps, schema_editor):
    Variant = apps.get_model("catalog", "Variant")
    StockMovement = apps.get_model("catalog", "StockMovement")
    unrecorded = (
        Variant.objects.exclude(stock=0)
        .exclude(Exists(StockMovement.objects.filter(variant=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", "stock")
    )
    batch = []
    for variant_id, stock in unrecorded.iterator(chunk_size=BATCH):
        batch.append(
            StockMovement(
                variant_id=variant_id, delta=stock, balance_after=stock, reason="initial"
            )
        )
        if len(batch) >= BATCH:
            StockMovement.objects.bulk_create(batch)
            batch = []
    if batch:
        StockMovement.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_stockmovement"),
    ]

    # Going back drops the table in 0004, movements included; nothing to undo here.
    operations = [migrations.RunPython(open_ledger, migrations.RunPython.noop)]
