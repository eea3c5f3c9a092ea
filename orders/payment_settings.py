"""How buyers may pay: the super admin's PaymentSettings row, else the settings file; and,
per country and currency, the super admin's CountryPaymentMethods rules.

Checkout reads the offered methods on every page and the order pages and emails read the bank
details, so the row is cached (one cache read, no query) and dropped from the cache when it is
saved. Without the row, ``WHOLESALE_PAYMENT_METHODS`` and ``WHOLESALE_BANK_DETAILS`` apply; a
card is offered only while Stripe keys are configured, whatever the row says.

The country rules are few (one per market) and read together, cached the same way.
``payment_methods_for(country=, currency=)`` says which methods (orders.payment_options codes:
"card", "ideal", "bank_transfer" ...) a buyer is offered; checkout offers and accepts the shop
methods they come under, and Stripe Checkout is opened with the Stripe ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from wholesale.singleton import SINGLETON_PK, cached

from .models import (
    PAYMENT_COUNTRIES_CACHE_KEY,
    PAYMENT_SETTINGS_CACHE_KEY,
    CountryPaymentMethods,
    PaymentMethod,
    PaymentSettings,
)
from .payment_options import OPTIONS


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


# The country rules' key for "every other country".
DEFAULT_RULE = ""


@dataclass(frozen=True)
class CountryRule:
    methods: tuple[str, ...]
    currencies: dict[str, list[str]]  # {method: the only currencies it is offered in}


def country_rules() -> dict[str, CountryRule]:
    """{country code, or "" for every other country: its rule}, cached; {} without rules."""

    def build():
        rows = CountryPaymentMethods.objects.values_list("country", "methods", "currencies")
        return {
            str(country or DEFAULT_RULE): CountryRule(tuple(methods), dict(currencies or {}))
            for country, methods, currencies in rows
        }

    return cached(PAYMENT_COUNTRIES_CACHE_KEY, build)


def payment_methods_for(*, country: str | None, currency: str | None = None) -> list[str]:
    """The payment methods (orders.payment_options codes) a buyer in `country` paying in
    `currency` is offered, in the rule's order.

    The country's rule, else the rule for every other country, else (no rule, or no country
    known) the shop-wide methods. Then only what can work: the shop-wide switches of
    PaymentSettings still apply (card off means no Stripe method at all), a Stripe method needs
    the Stripe keys, each method must take the currency (iDEAL: euros only), and the rule may
    keep a method to some currencies (bank transfer only in dollars or euros).
    """
    currency = (currency or settings.WHOLESALE_BASE_CURRENCY).upper()
    enabled = payment_methods_enabled()  # "card" and/or "bank_transfer", the codes' own names
    rule = None
    if country:
        rules = country_rules()
        rule = rules.get(str(country).upper(), rules.get(DEFAULT_RULE))
    methods = rule.methods if rule is not None else enabled
    limits = rule.currencies if rule is not None else {}
    offered = []
    for code in methods:
        option = OPTIONS.get(code)
        if option is None or option.shop_method not in enabled or not option.takes(currency):
            continue
        if code in limits and currency not in limits[code]:
            continue
        if option.stripe and not settings.STRIPE_SECRET_KEY:
            continue
        offered.append(code)
    return list(dict.fromkeys(offered))


def shop_methods(codes: list[str]) -> list[str]:
    """The PaymentMethod values `codes` come under, in order: "card" for every Stripe method."""
    return list(dict.fromkeys(OPTIONS[code].shop_method for code in codes))


def stripe_types(codes: list[str]) -> list[str]:
    """The Stripe Checkout `payment_method_types` among `codes`."""
    return [code for code in codes if OPTIONS[code].stripe]


def payment_choices(codes: list[str]) -> list[tuple[str, str]]:
    """(PaymentMethod value, label) for the checkout page: the Stripe methods offered are
    named on the one online choice, e.g. "Card, iDEAL (Stripe)"."""
    online = stripe_types(codes)
    choices = []
    for method in shop_methods(codes):
        label = str(PaymentMethod(method).label)
        if method == PaymentMethod.CARD and online != ["card"]:
            label = _("%(methods)s (Stripe)") % {
                "methods": ", ".join(str(OPTIONS[code].label) for code in online)
            }
        choices.append((method, label))
    return choices
