from django.contrib import admin
from django.utils import timezone
from django_countries.filters import CountryFilter

from .models import Currency


class ReadOnlyAdminMixin:
    """For ledgers and snapshots: staff may look, nobody adds, edits or deletes in the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedCountryFilter(CountryFilter):
    """django-countries' filter lists the countries of every row of the model, which would
    show a salesperson where other people's customers are (RELIABILITY A2); this one lists
    the countries of the rows the user may see (the admin's queryset)."""

    def lookup_choices(self, changelist):
        codes = set(
            changelist.root_queryset.order_by().values_list(self.field_path, flat=True).distinct()
        )
        for code, name in self.field.get_choices(include_blank=False):
            if code in codes:
                yield code, name


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    """Currencies buyers may see prices in and pay in, and their rates (wholesale.currencies).
    Finance runs them; the base currency needs no row (it is always there at rate 1)."""

    list_display = ("code", "is_active", "rate", "auto_update", "updated_at", "position")
    list_editable = ("is_active", "position")
    list_filter = ("is_active", "auto_update")
    search_fields = ("code",)
    ordering = ("position", "code")
    readonly_fields = ("updated_at",)

    def save_model(self, request, obj, form, change):
        if "rate" in form.changed_data or not change:
            obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
