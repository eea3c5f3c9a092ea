"""The forms on the buyer's kit page: their suggested retail markup."""

from django import forms

from members.models import Distributor


class RetailMarkupForm(forms.ModelForm):
    class Meta:
        model = Distributor
        fields = ["retail_markup_percent"]
        help_texts = {
            "retail_markup_percent": "",
        }
