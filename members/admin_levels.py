"""Membership levels in the admin: the levels themselves (the manager's and the super admin's
to edit), and each distributor's level history, read-only on the distributor's page."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .models import Level, LevelChange


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "position",
        "min_spend",
        "min_orders",
        "rule",
        "discount_percent",
        "points_multiplier",
        "is_active",
        "member_count",
    )
    list_display_links = ("name",)
    list_filter = ("is_active",)
    ordering = ("position", "pk")
    fieldsets = (
        (None, {"fields": ("name", "position", "is_active")}),
        (
            _("Reached with the paid orders of the last 12 months"),
            {"fields": ("min_spend", "min_orders", "rule")},
        ),
        (_("What it gives"), {"fields": ("discount_percent", "points_multiplier")}),
    )

    def get_queryset(self, request):
        # The member count in the list's one query, whatever the number of levels.
        return super().get_queryset(request).annotate(members=Count("distributors"))

    @admin.display(description=_("members"), ordering="members")
    def member_count(self, obj):
        return obj.members


class LevelChangeInline(admin.TabularInline):
    """The distributor's level history: written only by members.levels, never by hand."""

    model = LevelChange
    fk_name = "distributor"
    extra = 0
    can_delete = False
    fields = ("created_at", "from_level", "to_level", "spend", "order_count", "reason")
    readonly_fields = fields
    ordering = ("-created_at", "-pk")
    verbose_name_plural = _("level history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_level", "to_level")

    def has_view_permission(self, request, obj=None):
        # Whoever may see the distributor sees how its level came about.
        return super().has_view_permission(request, obj) or request.user.has_perm(
            "members.view_distributor"
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
