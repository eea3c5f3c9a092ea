from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from .models import BusinessType, Distributor


class DistributorSignupForm(forms.Form):
    """The business questions allauth's signup asks after email and password."""

    company_name = forms.CharField(label=_("Company name"), max_length=200)
    contact_name = forms.CharField(label=_("Your name"), max_length=200)
    country = LazyTypedChoiceField(label=_("Country"), choices=countries)
    business_type = forms.ChoiceField(label=_("Business type"), choices=BusinessType.choices)
    phone = forms.CharField(label=_("Phone or WhatsApp"), max_length=40)
    website = forms.URLField(label=_("Website or shop link"), required=False, assume_scheme="https")
    tax_number = forms.CharField(label=_("Tax / VAT number"), max_length=50, required=False)

    def signup(self, request, user):
        from .services import distributor_register

        distributor_register(user=user, **{f: self.cleaned_data[f] for f in PROFILE_FIELDS})


PROFILE_FIELDS = [
    "company_name",
    "contact_name",
    "country",
    "business_type",
    "phone",
    "website",
    "tax_number",
]


class DistributorProfileForm(forms.ModelForm):
    website = forms.URLField(label=_("Website or shop link"), required=False, assume_scheme="https")

    class Meta:
        model = Distributor
        fields = PROFILE_FIELDS
