"""How buyers may pay: the super admin's PaymentSettings row, else the settings file.

Checkout reads the offered methods on every page and the order pages and emails read the bank
details, so the row is cached (one cache read, no query) and dropped from the cache when it is
saved. Without the row, ``WHOLESALE_PAYMENT_METHODS`` and ``WHOLESALE_BANK_DETAILS`` apply; a
card is offered only while Stripe keys are configured, whatever the row says.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from wholesale.singleton import SINGLETON_PK, cached

from .models import PAYMENT_SETTINGS_CACHE_KEY, PaymentMethod, PaymentSettings


@dataclass(frozen=True)
class StoredPaymentSettings:
    card_enabled: bool
    bank_transfer_enabled: bool
    bank_details: str


# Cached when there is no row, so that "no row" costs no query either.
_NO_ROW = "none"


def _stored() -> StoredPaymentSettings | None:
    def build():
        row = (
            PaymentSettings.objects.filter(pk=SINGLETON_PK)
            .values("card_enabled", "bank_transfer_enabled", "bank_details")
            .first()
        )
        return StoredPaymentSettings(**row) if row else _NO_ROW

    value = cached(PAYMENT_SETTINGS_CACHE_KEY, build)
    return None if value == _NO_ROW else value


def payment_methods_enabled() -> list[str]:
    """The methods switched on, in the configured order, before asking whether Stripe is set."""
    stored = _stored()
    if stored is None:
        return list(settings.WHOLESALE_PAYMENT_METHODS)
    enabled = {
        PaymentMethod.CARD: stored.card_enabled,
        PaymentMethod.BANK_TRANSFER: stored.bank_transfer_enabled,
    }
    ordered = [*settings.WHOLESALE_PAYMENT_METHODS, *PaymentMethod.values]
    return [method for method in dict.fromkeys(ordered) if enabled[method]]


def bank_details() -> str:
    """The account buyers pay a bank transfer into."""
    stored = _stored()
    if stored is None or not stored.bank_details:
        return settings.WHOLESALE_BANK_DETAILS
    return stored.bank_details
