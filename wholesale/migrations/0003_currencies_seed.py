from decimal import Decimal

from django.conf import settings
from django.db import migrations

# Units per 1 US dollar, roughly late 2026: manual starting rates that staff correct in the
# admin (or let the rates feed keep up to date). In the markets' order of DESIGN.md's seeds.
PER_USD = {
    "USD": Decimal("1"),
    "EUR": Decimal("0.86"),
    "GBP": Decimal("0.76"),
    "RUB": Decimal("80.5"),
    "PLN": Decimal("3.65"),
    "BRL": Decimal("5.35"),
    "AUD": Decimal("1.53"),
    "CAD": Decimal("1.40"),
    "CZK": Decimal("20.8"),
    "ILS": Decimal("3.25"),
    "JPY": Decimal("155"),
    "CHF": Decimal("0.80"),
    "SEK": Decimal("9.45"),
    "NOK": Decimal("10.1"),
    "DKK": Decimal("6.42"),
}
EIGHT_PLACES = Decimal("0.00000001")


def seed(apps, schema_editor):
    """Rows for the markets' currencies, with rates against the configured base currency. The
    base currency itself needs no row (it is always there at rate 1). A base currency not in
    the table gets no rows: staff add theirs with the rates they use."""
    Currency = apps.get_model("wholesale", "Currency")
    base = settings.WHOLESALE_BASE_CURRENCY
    if base not in PER_USD:
        return
    for position, (code, per_usd) in enumerate(PER_USD.items()):
        if code == base:
            continue
        rate = (per_usd / PER_USD[base]).quantize(EIGHT_PLACES)
        Currency.objects.get_or_create(
            code=code, defaults={"rate": rate, "position": position, "is_active": True}
        )


def unseed(apps, schema_editor):
    apps.get_model("wholesale", "Currency").objects.filter(code__in=PER_USD).delete()


class Migration(migrations.Migration):
    """The currencies of the shop's main markets, active, with plausible manual rates."""

    dependencies = [("wholesale", "0002_currency")]

    operations = [migrations.RunPython(seed, unseed)]
