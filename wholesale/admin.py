from django_countries.filters import CountryFilter


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
