"""Who reads which report, and whose figures (DESIGN.md's role table, "analytics" row).

A report names the audiences it is written for. The manager (and the super admin) read every
report and may pick any salesperson; finance reads the sales and payment reports shop-wide; a
salesperson reads the reports about their own customers, always narrowed to them; customer
service reads its own service figures. The narrowing is decided here, from the viewer, never
from the request: a salesperson who puts another's id in the URL still sees only their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Audience(StrEnum):
    FINANCE = "finance"  # shop-wide sales and payment figures
    SALES = "sales"  # a salesperson's own customers
    SERVICE = "service"  # a customer service member's own work


ALL = "analytics.view_all_reports"
PERMISSION = {
    Audience.FINANCE: "analytics.view_sales_reports",
    Audience.SALES: "analytics.view_own_performance",
    Audience.SERVICE: "analytics.view_own_service",
}


@dataclass(frozen=True)
class Viewer:
    """What a staff user may see in one report."""

    user_id: int
    # Set when the figures are narrowed to one salesperson's customers (or one agent's work).
    salesperson_id: int | None = None
    service_user_id: int | None = None

    @property
    def narrowed(self) -> bool:
        return self.salesperson_id is not None or self.service_user_id is not None


def viewer_for(user, audiences) -> Viewer | None:
    """How `user` reads a report written for `audiences`; None when they may not."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    if user.has_perm(ALL):
        return Viewer(user.pk)
    if Audience.FINANCE in audiences and user.has_perm(PERMISSION[Audience.FINANCE]):
        return Viewer(user.pk)
    if Audience.SALES in audiences and user.has_perm(PERMISSION[Audience.SALES]):
        return Viewer(user.pk, salesperson_id=user.pk)
    if Audience.SERVICE in audiences and user.has_perm(PERMISSION[Audience.SERVICE]):
        return Viewer(user.pk, service_user_id=user.pk)
    return None


def may_read_analytics(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_staff
        and (user.has_perm(ALL) or any(user.has_perm(p) for p in PERMISSION.values()))
    )
