"""The form on the buyer's kit page: their suggested retail markup (0–1000 %, or empty)."""

from django import forms

from members.models import Distributor


class RetailMarkupForm(forms.ModelForm):
    class Meta:
        model = Distributor
        fields = ["retail_markup_percent"]
