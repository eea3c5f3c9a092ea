"""Money: a Decimal amount with its currency, never a float.

All arithmetic on prices goes through :class:`Money` so that an amount never loses its
currency and is rounded once, to the currency's minor unit, by :func:`quantize`.
Formatting for people goes through Babel, in the visitor's locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import NumberPattern, get_currency_precision, parse_pattern
from django.conf import settings
from django.utils.translation import get_language, to_locale


def minor_unit_exponent(currency: str) -> Decimal:
    """Decimal("0.01") for USD, Decimal("1") for JPY: the smallest amount the currency has."""
    digits = get_currency_precision(currency)
    return Decimal(1).scaleb(-digits)


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(minor_unit_exponent(currency), rounding=ROUND_HALF_UP)


def to_decimal(value) -> Decimal:
    """Parse a user- or file-supplied amount; refuse floats, NaN and infinities."""
    if isinstance(value, float):
        raise TypeError("Money is never a float.")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"Not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"Not an amount: {value!r}")
    return amount


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self):
        if isinstance(self.amount, float):
            raise TypeError("Money is never a float.")
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", Decimal(self.amount))

    @classmethod
    def base(cls, amount) -> Money:
        return cls(Decimal(amount), settings.WHOLESALE_BASE_CURRENCY)

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValueError(f"Cannot combine {self.currency} with {other!r}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float):
            raise TypeError("Multiply money by int or Decimal, never float.")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def quantized(self) -> Money:
        return Money(quantize(self.amount, self.currency), self.currency)

    def format(self, locale: str | None = None) -> str:
        return format_money(self, locale=locale)

    def __str__(self) -> str:
        return self.format()


def current_locale() -> str:
    return to_locale(get_language() or settings.LANGUAGE_CODE)


@lru_cache(maxsize=256)
def _currency_pattern(locale: str) -> tuple[Locale, NumberPattern]:
    """The locale's currency pattern, parsed once per process (parsing dominates a format)."""
    try:
        parsed = Locale.parse(locale)
    except (ValueError, UnknownLocaleError):
        parsed = Locale.parse("en")
    return parsed, parse_pattern(parsed.currency_formats["standard"])


def format_money(money: Money, *, locale: str | None = None) -> str:
    """Format for people, e.g. "$4.20" in en, "4,20 $" in fr; rounded to the minor unit."""
    amount = quantize(money.amount, money.currency)
    return _formatted(amount, money.currency, locale or current_locale())


@lru_cache(maxsize=8192)
def _formatted(amount: Decimal, currency: str, locale: str) -> str:
    # A page repeats the same few prices (tiers, unit prices) many times, and a shop has a
    # bounded set of them: each is formatted once per process (Babel costs ~0.1 ms a call).
    parsed, pattern = _currency_pattern(locale)
    return pattern.apply(amount, parsed, currency=currency, currency_digits=True)
