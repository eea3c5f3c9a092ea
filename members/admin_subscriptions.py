"""Subscriptions in the admin: a read-only list for the manager (members.view_subscription)
and the super admin, with a CSV export of the live subscribers. Subscribing, confirming and
unsubscribing belong to the address's owner (double opt-in, the one-click link), never staff.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from wholesale.admin import ReadOnlyAdminMixin
from wholesale.csv_export import csv_response

from .models import Subscription

CSV_COLUMNS = (
    _("email"),
    _("kind"),
    _("category"),
    _("member"),
    _("asked"),
    _("confirmed"),
    _("last alert sent"),
)


class _DateSetFilter(admin.SimpleListFilter):
    field_name = ""

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(**{f"{self.field_name}__isnull": self.value() == "no"})
        return queryset


class ConfirmedFilter(_DateSetFilter):
    title = _("confirmed")
    parameter_name = "confirmed"
    field_name = "confirmed_at"


class UnsubscribedFilter(_DateSetFilter):
    title = _("unsubscribed")
    parameter_name = "unsubscribed"
    field_name = "unsubscribed_at"


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "email",
        "kind",
        "category",
        "member",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "last_sent_at",
    )
    list_filter = ("kind", ConfirmedFilter, UnsubscribedFilter, "category")
    search_fields = ("email",)
    list_select_related = ("category", "member")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    fields = list_display
    readonly_fields = fields
    actions = ["export_live_csv"]

    @admin.action(description=_("Export live subscribers as CSV"), permissions=["view"])
    def export_live_csv(self, request, queryset):
        live = (
            queryset.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)
            .select_related("category", "member")
            .order_by("email", "kind", "pk")
        )
        rows = (
            (
                s.email,
                s.get_kind_display(),
                s.category.name if s.category_id else "",
                s.member.email if s.member_id else "",
                s.created_at.isoformat(),
                s.confirmed_at.isoformat(),
                s.last_sent_at.isoformat() if s.last_sent_at else "",
            )
            for s in live.iterator(chunk_size=2000)
        )
        return csv_response("subscribers.csv", [str(c) for c in CSV_COLUMNS], rows)
