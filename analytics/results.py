"""What a report hands its page: headline cards, one chart, one table (also the CSV).

Values stay raw (Decimal, int, date) in the table; the page formats them by column kind and the
CSV writes them as they are, so a spreadsheet gets numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from django.conf import settings

from wholesale.money import Money, format_money


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"
    MONEY = "money"  # base currency
    PERCENT = "percent"  # a share or rate, 0–100
    DECIMAL = "decimal"
    DAYS = "days"
    DATE = "date"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind = Kind.TEXT


@dataclass(frozen=True)
class Card:
    label: str
    value: object
    kind: Kind = Kind.INT
    previous: object = None  # the same figure over the comparison period

    @property
    def change(self) -> Decimal | None:
        """The change against the comparison period, in percent (None without one or from 0)."""
        if self.previous is None or not isinstance(self.value, int | Decimal):
            return None
        previous = Decimal(self.previous)
        if previous == 0:
            return None
        return (Decimal(self.value) - previous) / abs(previous) * 100


@dataclass(frozen=True)
class Series:
    label: str
    values: list
    compare: bool = False  # drawn dashed: the comparison period


@dataclass(frozen=True)
class Chart:
    kind: str  # "line", "bar", "stacked", "doughnut", "hbar"
    labels: list[str]
    series: list[Series]
    money: bool = False

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "labels": self.labels,
            "money": self.money,
            "currency": settings.WHOLESALE_BASE_CURRENCY,
            "series": [
                {"label": s.label, "values": [_plain(v) for v in s.values], "compare": s.compare}
                for s in self.series
            ],
        }


@dataclass
class ReportResult:
    columns: list[Column]
    rows: list[dict]
    cards: list[Card] = field(default_factory=list)
    chart: Chart | None = None
    notes: list[str] = field(default_factory=list)

    def csv_rows(self):
        for row in self.rows:
            yield [_csv_value(row.get(column.key)) for column in self.columns]


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def _csv_value(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    return value


def formatted(value, kind: str) -> str:
    """A value as the page shows it."""
    if value is None or value == "":
        return "–"
    if kind == Kind.MONEY:
        return format_money(Money(Decimal(value), settings.WHOLESALE_BASE_CURRENCY))
    if kind == Kind.PERCENT:
        return f"{Decimal(value):.1f} %"
    if kind == Kind.DECIMAL:
        return f"{Decimal(value):.2f}"
    if kind == Kind.DAYS:
        return f"{Decimal(value):.0f} d"
    if kind == Kind.INT:
        return f"{int(value):,}"
    if kind == Kind.DATE and isinstance(value, date):
        return value.isoformat()
    return str(value)
