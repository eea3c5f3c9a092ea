"""Payment methods per country in the admin: the super admin's alone (DESIGN.md roles table,
"payment settings: only they"), like the PaymentSettings row. One row per country, and one
without a country for every other country."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from wholesale.singleton import forget
from wholesale.singleton_admin import SuperuserOnlyAdmin

from .models import PAYMENT_COUNTRIES_CACHE_KEY, CountryPaymentMethods
from .payment_options import CHOICES, OPTIONS


class CountryPaymentMethodsForm(forms.ModelForm):
    methods = forms.MultipleChoiceField(
        label=_("Payment methods"),
        choices=CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Each is offered only in the currencies it can take: iDEAL, Bancontact and EPS in "
            "euros, Przelewy24 in euros or złoty, BLIK in złoty. Online methods need the Stripe "
            "keys and card payments switched on in the payment settings."
        ),
    )

    class Meta:
        model = CountryPaymentMethods
        fields = ["country", "methods", "currencies"]

    def clean_currencies(self):
        return self.cleaned_data["currencies"] or {}

    def clean_methods(self):
        chosen = set(self.cleaned_data["methods"])
        # Kept in the catalogue's order, which is the order buyers see them in.
        return [code for code in OPTIONS if code in chosen]


@admin.register(CountryPaymentMethods)
class CountryPaymentMethodsAdmin(SuperuserOnlyAdmin):
    form = CountryPaymentMethodsForm
    list_display = ["country_shown", "methods_shown", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]
    fields = ["country", "methods", "currencies", "updated_at", "updated_by"]
    list_select_related = ["updated_by"]

    @admin.display(description=_("country"), ordering="country")
    def country_shown(self, obj):
        return str(obj)

    @admin.display(description=_("payment methods"))
    def methods_shown(self, obj):
        return ", ".join(str(OPTIONS[code].label) for code in obj.methods if code in OPTIONS)

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        forget(PAYMENT_COUNTRIES_CACHE_KEY)
