"""Carts in the admin: read-only, so staff can see what a buyer is about to order when they
call. Carts change only through the buyer's own requests (orders.services).

Shipping templates (zones with their rates, methods) are edited here by staff holding the
model permissions; prices are in the base currency."""

from django.contrib import admin
from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from wholesale.admin import ReadOnlyAdminMixin

from .models import Cart, CartLine, ShippingMethod, ShippingRate, ShippingZone


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


class ShippingRateInline(admin.TabularInline):
    model = ShippingRate
    fields = [
        "method",
        "first_weight_grams",
        "first_price",
        "additional_weight_grams",
        "additional_price",
        "free_above",
        "min_days",
        "max_days",
        "is_active",
    ]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("method")


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin):
    list_display = ["name", "country_list", "rate_count", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", ("rates__method", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "countries"]
    ordering = ["position", "pk"]
    fields = ["name", "countries", "position", "is_active"]
    inlines = [ShippingRateInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rate_total=Count("rates"))

    @admin.display(description=_("countries"))
    def country_list(self, obj):
        return ", ".join(country.code for country in obj.countries)

    @admin.display(description=_("rates"), ordering="rate_total")
    def rate_count(self, obj):
        return obj.rate_total


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "zone_count", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", ("rates__zone", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}
    ordering = ["position", "pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(zone_total=Count("rates"))

    @admin.display(description=_("zones"), ordering="zone_total")
    def zone_count(self, obj):
        return obj.zone_total
