"""The reports: each is a function from a ReportQuery to a ReportResult, registered with its
number, title, audiences and the filters it understands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .access import Audience
from .query import ReportQuery
from .results import ReportResult


class Filter:
    COUNTRY = "country"
    CATEGORY = "category"
    SALESPERSON = "salesperson"
    LEVEL = "level"
    GRAIN = "grain"  # the report draws a time axis: day, week or month buckets


@dataclass(frozen=True)
class Report:
    number: int
    slug: str
    title: str
    summary: str
    build: Callable[[ReportQuery], ReportResult]
    audiences: frozenset[Audience]
    filters: frozenset[str]


REPORTS: dict[str, Report] = {}


def report(*, number: int, slug: str, title, summary, audiences, filters=()):
    """Register the decorated builder as report `number`."""

    def register(build):
        if slug in REPORTS:
            raise ValueError(f"report {slug} registered twice")
        REPORTS[slug] = Report(
            number, slug, title, summary, build, frozenset(audiences), frozenset(filters)
        )
        return build

    return register


def reports_in_order() -> list[Report]:
    from . import reports  # noqa: F401  (registers them)

    return sorted(REPORTS.values(), key=lambda r: r.number)


def report_for(slug: str) -> Report | None:
    reports_in_order()
    return REPORTS.get(slug)
