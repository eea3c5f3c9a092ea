from decimal import Decimal

from django.db import migrations

# name, rank, 12-month spend from, paid orders from, rule, discount %, points multiplier
LEVELS = [
    ("Member", 0, None, None, "any", "0", "1"),
    ("Silver", 1, "2000", 5, "any", "3", "1.25"),
    ("Gold", 2, "10000", 15, "any", "5", "1.5"),
    ("Platinum", 3, "30000", 40, "any", "8", "2"),
]


def create(apps, schema_editor):
    """A shop starts with four levels and points rules, which staff then edit."""
    Level = apps.get_model("members", "Level")
    PointsRules = apps.get_model("members", "PointsRules")
    if not Level.objects.exists():
        for name, position, spend, orders, rule, discount, multiplier in LEVELS:
            Level.objects.create(
                name=name,
                position=position,
                min_spend=Decimal(spend) if spend else None,
                min_orders=orders,
                rule=rule,
                discount_percent=Decimal(discount),
                points_multiplier=Decimal(multiplier),
            )
    PointsRules.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("members", "0005_levels_points_favorites_subscriptions")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
