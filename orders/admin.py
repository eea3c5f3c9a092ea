"""Carts in the admin: read-only, so staff can see what a buyer is about to order when they
call. Carts change only through the buyer's own requests (orders.services)."""

from django.contrib import admin
from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from wholesale.admin import ReadOnlyAdminMixin

from .models import Cart, CartLine


class CartLineInline(admin.TabularInline):
    model = CartLine
    fields = ["variant", "quantity", "added_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("variant__product")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Cart)
class CartAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["member", "line_count", "unit_count", "updated_at"]
    list_select_related = ["member"]
    search_fields = ["member__email", "lines__variant__sku"]
    date_hierarchy = "updated_at"
    ordering = ["-updated_at"]
    fields = ["member", "created_at", "updated_at"]
    readonly_fields = fields
    inlines = [CartLineInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(line_total=Count("lines"), unit_total=Sum("lines__quantity"))
        )

    @admin.display(description=_("lines"), ordering="line_total")
    def line_count(self, obj):
        return obj.line_total

    @admin.display(description=_("units"), ordering="unit_total")
    def unit_count(self, obj):
        return obj.unit_total or 0
