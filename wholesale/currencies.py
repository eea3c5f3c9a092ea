"""Currencies: which ones buyers may see and pay in, their rates, and the visitor's choice.

Prices are kept in the base currency (settings.WHOLESALE_BASE_CURRENCY). Staff keep the other
currencies and their rates in the admin (wholesale.models.Currency); the base currency is always
available at rate 1, with or without a row. The table of active currencies is read from the
cache (one key, dropped whenever a row changes) and from the database when the cache is cold.

A request has a *display currency*, like it has an active language: `CurrencyMiddleware` picks
it (the visitor's explicit choice, else a member's profile, else their country's currency when
it is active, else the base currency) and `activate()`s it for the request. The `money` template
filter shows base amounts converted into it; amounts already in another currency (an order's
own) are shown as they are. Outside a request (emails, tasks) nothing is active: base.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import Currency
from .money import Money, format_money, quantize, to_decimal

logger = logging.getLogger(__name__)

SESSION_KEY = "currency"
CACHE_KEY = "wholesale:currencies:v1"
CACHE_SECONDS = 3600

# The currency a country pays in, for the visitor's default (used only when that currency is
# active). Countries not listed get the base currency.
EUROZONE = [
    "AD",
    "AT",
    "BE",
    "BG",
    "CY",
    "DE",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MC",
    "ME",
    "MT",
    "NL",
    "PT",
    "SI",
    "SK",
    "SM",
    "VA",
    "XK",
]
COUNTRY_CURRENCIES: dict[str, str] = {
    **dict.fromkeys(EUROZONE, "EUR"),
    "US": "USD",
    "GB": "GBP",
    "RU": "RUB",
    "PL": "PLN",
    "BR": "BRL",
    "AU": "AUD",
    "CA": "CAD",
    "CZ": "CZK",
    "IL": "ILS",
    "JP": "JPY",
    "CH": "CHF",
    "LI": "CHF",
    "SE": "SEK",
    "NO": "NOK",
    "DK": "DKK",
    "HU": "HUF",
    "RO": "RON",
    "NZ": "NZD",
    "MX": "MXN",
    "TR": "TRY",
    "AE": "AED",
    "SA": "SAR",
    "UA": "UAH",
    "KZ": "KZT",
    "IN": "INR",
    "KR": "KRW",
    "SG": "SGD",
    "ZA": "ZAR",
    "CN": "CNY",
    "HK": "HKD",
}


def base_currency() -> str:
    return settings.WHOLESALE_BASE_CURRENCY


# --- Selectors --------------------------------------------------------------------------------


# The table as read for the current request (CurrencyMiddleware holds a dict here to fill):
# one read of the cache a page, and one set of rates throughout it. Outside a request each
# call reads it afresh.
_request_table: ContextVar[dict | None] = ContextVar("currency_table", default=None)


def _rates() -> dict[str, Decimal]:
    """{code: rate} of the active currencies in the staff's order, the base one included."""
    memo = _request_table.get()
    if memo is not None and "table" in memo:
        return memo["table"]
    table = _read_rates()
    if memo is not None:
        memo["table"] = table
    return table


def _read_rates() -> dict[str, Decimal]:
    try:
        rows = cache.get(CACHE_KEY)
    except Exception:  # the cache is down: read the database rather than fail
        logger.warning("Cache unavailable: currencies read from the database.", exc_info=True)
        rows, cache_up = None, False
    else:
        cache_up = True
    if rows is None:
        rows = [
            (code, str(rate))
            for code, rate in Currency.objects.filter(is_active=True)
            .order_by("position", "code")
            .values_list("code", "rate")
        ]
        if cache_up:
            _cache_call(cache.set, CACHE_KEY, rows, CACHE_SECONDS)
    base = base_currency()
    table = {} if any(code == base for code, _rate in rows) else {base: Decimal(1)}
    for code, rate in rows:
        table[code] = Decimal(1) if code == base else Decimal(rate)
    return table


def active_currencies() -> list[str]:
    """The codes buyers may choose, in the staff's order (the base currency always among them)."""
    return list(_rates())


def is_active(code: str | None) -> bool:
    if not code:
        return False
    return code == base_currency() or code in _rates()


def rate_for(code: str) -> Decimal | None:
    """Units of `code` per 1 unit of the base currency; None for an unknown or inactive code."""
    if code == base_currency():
        return Decimal(1)
    return _rates().get(code)


def default_for_country(country: str | None) -> str:
    """The currency of `country` when it is active, else the base currency."""
    code = COUNTRY_CURRENCIES.get(str(country or "").upper())
    return code if code and is_active(code) else base_currency()


def invalidate() -> None:
    """Forget the cached table, now and once the current transaction commits (so a reader
    between the two cannot put the old rates back for an hour)."""
    memo = _request_table.get()
    if memo is not None:
        memo.clear()
    _cache_call(cache.delete, CACHE_KEY)
    transaction.on_commit(lambda: _cache_call(cache.delete, CACHE_KEY))


def _cache_call(method, *args) -> None:
    try:
        method(*args)
    except Exception:  # the cache is down: it holds nothing to go stale either
        logger.warning("Cache unavailable: %s skipped.", method.__name__, exc_info=True)


@receiver(post_save, sender=Currency, dispatch_uid="currencies_saved")
@receiver(post_delete, sender=Currency, dispatch_uid="currencies_deleted")
def _currency_changed(**kwargs) -> None:
    invalidate()


# --- The display currency ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Display:
    code: str
    rate: Decimal


_display: ContextVar[Display | None] = ContextVar("display_currency", default=None)


def activate(code: str) -> str:
    """Show base amounts in `code` from now on, in this thread or task (like
    translation.activate). An inactive code activates the base currency. Returns the code
    activated."""
    rate = rate_for(code) if code else None
    if rate is None or code == base_currency():
        _display.set(None)
        return base_currency()
    _display.set(Display(code, rate))
    return code


def deactivate() -> None:
    _display.set(None)


def get_display() -> str:
    """The currency base amounts are shown in now."""
    display = _display.get()
    return display.code if display else base_currency()


def display_key() -> str:
    """The display currency and its rate ("EUR:0.86"), for cache keys of rendered prices: a
    page cached before a rate changed is not shown after."""
    shown = _display.get()
    return terms_token(shown.code, shown.rate) if shown else base_currency()


def display(money: Money) -> Money:
    """A base amount in the display currency, rounded to its minor unit; any other amount (an
    order's own, already in the currency it was charged in) as it is."""
    shown = _display.get()
    if shown is None or money.currency != base_currency():
        return money
    return Money(quantize(money.amount * shown.rate, shown.code), shown.code)


def format_display(money: Money) -> str:
    """`money` formatted for people (Babel, active locale) in the display currency."""
    return format_money(display(money))


def display_line_total(unit_price: Money, quantity: int) -> Money:
    """A line's total as checkout will charge it: the converted unit price times the quantity
    (orders.totals), so the lines shown add up to the total charged."""
    unit = display(unit_price)
    return Money(quantize(unit.amount * quantity, unit.currency), unit.currency)


# --- The visitor's currency -------------------------------------------------------------------


def _member(request):
    """The logged-in user, or None. This middleware runs before AuthenticationMiddleware; the
    user is loaded through the same per-request cache it uses, so never twice."""
    from django.contrib.auth.middleware import get_user

    if not hasattr(request, "session"):
        return None
    user = getattr(request, "user", None) or get_user(request)
    return user if user.is_authenticated else None


def currency_for_request(request) -> str:
    """The visitor's currency: their explicit choice (session), else a member's profile, else
    their country's (request.country, set from the IP; else settings.WHOLESALE_DEFAULT_COUNTRY)
    when it is active, else the base currency. A choice no longer active is passed over."""
    session = getattr(request, "session", None)
    chosen = session.get(SESSION_KEY) if session is not None else None
    if is_active(chosen):
        return chosen
    member = _member(request) if session is not None else None
    preferred = getattr(member, "preferred_currency", "") if member else ""
    if is_active(preferred):
        return preferred
    country = getattr(request, "country", None) or settings.WHOLESALE_DEFAULT_COUNTRY
    return default_for_country(country)


class CurrencyMiddleware:
    """Sets request.currency and makes it the display currency for the request. The staff's
    admin works in the base currency."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix: str | None = None

    def _is_admin(self, request) -> bool:
        if self._admin_prefix is None:
            from django.urls import reverse

            self._admin_prefix = reverse("admin:index")
        return request.path_info.startswith(self._admin_prefix)

    def __call__(self, request):
        if self._is_admin(request):
            request.currency = base_currency()
            return self.get_response(request)
        table_token = _request_table.set({})
        token = _display.set(None)
        try:
            request.currency = activate(currency_for_request(request))
            return self.get_response(request)
        finally:
            _display.reset(token)
            _request_table.reset(table_token)


# --- Services ---------------------------------------------------------------------------------


def currency_choose(request, code: str) -> bool:
    """Remember the visitor's choice of `code` (session and, for a member, their profile).
    False, and nothing changed, when `code` is not an active currency."""
    if not is_active(code):
        return False
    request.session[SESSION_KEY] = code
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.preferred_currency != code:
        user.preferred_currency = code
        user.save(update_fields=["preferred_currency"])
    return True


def charge_terms(request) -> tuple[str, Decimal]:
    """(currency, rate) an order placed in this request is charged in: the visitor's currency
    at its current rate, or the base currency at 1."""
    code = getattr(request, "currency", None) or get_display()
    rate = rate_for(code)
    if rate is None:
        return base_currency(), Decimal(1)
    return code, rate


def terms_token(currency: str, rate: Decimal) -> str:
    """What a checkout page shows its totals in, as it posts it back ("EUR:0.86000000")."""
    return f"{currency}:{rate.normalize():f}"


# --- The rates feed ---------------------------------------------------------------------------

# A rate more than this factor away from the one held is refused as a feed error (a misplaced
# decimal point, a currency redenominated overnight), and so is anything not positive.
MAX_RATE_CHANGE = Decimal(10)
RATE_PLACES = Decimal("0.00000001")  # Currency.rate: 18 digits, 8 of them decimals
MAX_RATE = Decimal(10) ** 10


class RatesUnavailable(Exception):
    """The feed could not be read or made no sense: every rate stays as it was."""


def _parse_rates(payload) -> dict[str, Decimal]:
    """{code: units per 1 base unit} from a feed reply {"base": "USD", "rates": {"EUR": "0.92"}},
    converted when the feed's base is not ours (it must then quote ours)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("rates"), dict):
        raise RatesUnavailable("the reply has no 'rates' object")
    feed_base = str(payload.get("base") or "").upper()
    if not feed_base:
        raise RatesUnavailable("the reply names no 'base' currency")
    rates: dict[str, Decimal] = {feed_base: Decimal(1)}
    for code, value in payload["rates"].items():
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            continue
        try:
            rate = to_decimal(value)
        except ValueError:
            continue
        if rate > 0:
            rates[str(code).upper()] = rate
    base = base_currency()
    if base not in rates:
        raise RatesUnavailable(f"the reply does not quote {base}")
    per_base = rates[base]
    return {code: rate / per_base for code, rate in rates.items()}


def rates_fetch(url: str, *, timeout: float) -> dict[str, Decimal]:
    """The rates the feed at `url` gives, against our base currency. RatesUnavailable on any
    error: network, HTTP status, not JSON, wrong shape."""
    if not url.startswith(("https://", "http://")):
        raise RatesUnavailable("the rates address must be http(s)")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            payload = json.loads(response.read(1_000_000).decode("utf-8"), parse_float=Decimal)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        raise RatesUnavailable(str(error)) from error
    return _parse_rates(payload)


def rates_refresh(url: str | None = None) -> dict[str, Decimal]:
    """Update the currencies marked `auto_update` from the feed (settings.WHOLESALE_RATES_URL).
    Manual currencies are never touched; a rate missing from the feed, not positive, too large
    for the field or more than MAX_RATE_CHANGE times away from the current one is skipped and
    logged. On a feed error every rate stays. Returns {code: new rate} of those updated."""
    url = settings.WHOLESALE_RATES_URL if url is None else url
    if not url:
        return {}
    try:
        fetched = rates_fetch(url, timeout=settings.WHOLESALE_RATES_TIMEOUT)
    except RatesUnavailable as error:
        logger.warning("Exchange rates not refreshed, the old ones stay: %s", error)
        return {}
    updated: dict[str, Decimal] = {}
    now = timezone.now()
    with transaction.atomic():
        for currency in Currency.objects.select_for_update().filter(auto_update=True):
            if currency.code == base_currency():
                continue
            new = fetched.get(currency.code)
            if new is None:
                logger.warning("Rates feed: no rate for %s, the old one stays.", currency.code)
                continue
            accepted = _acceptable_rate(new, currency.rate)
            if accepted is None:
                logger.warning(
                    "Rates feed: %s at %s refused (held: %s), the old one stays.",
                    currency.code,
                    new,
                    currency.rate,
                )
                continue
            currency.rate, currency.updated_at = accepted, now
            currency.save(update_fields=["rate", "updated_at"])
            updated[currency.code] = accepted
    return updated


def _acceptable_rate(new: Decimal, old: Decimal) -> Decimal | None:
    """`new` rounded to the field's places, or None when it is refused (see rates_refresh)."""
    # The range first: rounding a rate such as 1e30 needs more digits than Decimal holds
    # (InvalidOperation), which would undo every other currency's update.
    if not 0 < new < MAX_RATE or new > old * MAX_RATE_CHANGE or new * MAX_RATE_CHANGE < old:
        return None
    rounded = new.quantize(RATE_PLACES)
    return rounded if rounded > 0 else None
