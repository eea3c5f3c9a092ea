"""The payment methods a country rule may offer, and what Stripe needs to know about them.

Pure data and arithmetic, no queries: orders.models validates a rule's methods against it,
orders.payment_settings filters a rule by it, orders.stripe_gateway reads the Stripe type.

An order is paid either by bank transfer or online through Stripe Checkout (`Order.
payment_method` is "bank_transfer" or "card"). Stripe's page offers the buyer the Stripe types
allowed for the order's country and currency: a card, or a local method such as iDEAL.

The currencies below are Stripe's (docs.stripe.com/payments/payment-methods, per method): iDEAL,
Bancontact and EPS take euros only; Przelewy24 euros or złoty; BLIK złoty only. A card takes any
currency Stripe presents, except the three-decimal ones (BHD, JOD, KWD, OMR, TND), where Stripe
wants the last of the three digits to be 0 (docs.stripe.com/currencies#three-decimal): the
shop's totals are exact to the fils, so such an order could not be charged its total.

SEPA Direct Debit is left out on purpose: it confirms days after the buyer leaves Stripe's page,
while an unpaid card order is cancelled after WHOLESALE_UNPAID_CARD_HOURS.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

BANK_TRANSFER = "bank_transfer"
CARD = "card"
# What Order.payment_method records for a method paid through Stripe Checkout.
STRIPE = "card"


@dataclass(frozen=True)
class PaymentOption:
    code: str  # what a rule stores; for Stripe, the Checkout `payment_method_types` value
    label: str | Promise
    currencies: frozenset[str] | None = None  # None: any the shop charges in
    stripe: bool = True

    @property
    def shop_method(self) -> str:
        """The orders.models.PaymentMethod an order paid this way records."""
        return STRIPE if self.stripe else BANK_TRANSFER

    def takes(self, currency: str) -> bool:
        currency = currency.upper()
        if self.stripe and currency in STRIPE_THREE_DECIMAL:
            return False
        return self.currencies is None or currency in self.currencies


OPTIONS: dict[str, PaymentOption] = {
    option.code: option
    for option in (
        PaymentOption(CARD, _("Card")),
        PaymentOption("ideal", _("iDEAL"), frozenset({"EUR"})),
        PaymentOption("bancontact", _("Bancontact"), frozenset({"EUR"})),
        PaymentOption("eps", _("EPS"), frozenset({"EUR"})),
        PaymentOption("p24", _("Przelewy24"), frozenset({"EUR", "PLN"})),
        PaymentOption("blik", _("BLIK"), frozenset({"PLN"})),
        PaymentOption(BANK_TRANSFER, _("Bank transfer (T/T)"), stripe=False),
    )
}
CHOICES = [(option.code, option.label) for option in OPTIONS.values()]

# docs.stripe.com/currencies: amounts are integers in the currency's minor unit as Stripe
# counts it, which is not always ISO's or CLDR's.
STRIPE_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA"}
    | {"PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
STRIPE_THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def stripe_exponent(currency: str) -> int:
    """How many decimals Stripe counts in `currency`: 0 for JPY, 3 for KWD, else 2.

    Stripe's own table, not Babel's: Babel gives ISK, RSD or LAK no minor unit, but Stripe
    counts them in hundredths (ISK 500 is `50000`, a multiple of 100).
    """
    currency = currency.upper()
    if currency in STRIPE_ZERO_DECIMAL:
        return 0
    if currency in STRIPE_THREE_DECIMAL:
        return 3
    return 2


def stripe_unit(currency: str) -> Decimal:
    """The amount one Stripe unit of `currency` is worth: Decimal("0.01") for EUR, 1 for JPY."""
    return Decimal(1).scaleb(-stripe_exponent(currency))
