from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .models import (
    ADDRESS_FIELDS,
    PROFILE_FIELDS,
    Address,
    BusinessType,
    Distributor,
    User,
)
from .services import distributor_register

# Signup and the profile page ask the same questions, so they explain them the same way.
HELP_TEXTS = {
    "company_name": _("The business name that goes on invoices and shipping documents."),
    "contact_name": _("The person we talk to about orders."),
    "country": _("Where your business is based; it decides shipping options and taxes."),
    "business_type": _("How you sell: it helps us suggest products and terms that fit."),
    "phone": _("With the country code, e.g. +34 600 000 000. We may contact you on WhatsApp."),
    "website": _("Your web shop, marketplace store or social media page, if you have one."),
    "tax_number": _("Needed on invoices for EU buyers and in some other countries."),
}

AUTOCOMPLETE = {
    "company_name": "organization",
    "contact_name": "name",
    "country": "country",
    "phone": "tel",
    "website": "url",
}


def _widget_attrs(name: str) -> dict:
    return {"autocomplete": AUTOCOMPLETE[name]} if name in AUTOCOMPLETE else {}


def _website_field() -> forms.URLField:
    """Signup and profile ask the same way: a bare "shop.com" is read as https."""
    return forms.URLField(
        label=_("Website or shop link"),
        required=False,
        assume_scheme="https",
        help_text=HELP_TEXTS["website"],
        widget=forms.URLInput(attrs=_widget_attrs("website")),
    )


def _salesperson_label(user: User) -> str:
    # Staff email addresses are not shown to the public: the first name says who it is.
    return (
        user.get_full_name() or user.first_name or _("Salesperson %(number)s") % {"number": user.pk}
    )


class DistributorSignupForm(forms.Form):
    """The business questions allauth's signup asks after email and password.

    allauth builds its signup form on top of this class, so `field_order` and `fieldsets` below
    apply to the whole form, email and passwords included.
    """

    LOGIN_FIELDS = ("email", "password1", "password2")
    field_order = [*LOGIN_FIELDS, *PROFILE_FIELDS]

    company_name = forms.CharField(
        label=_("Company name"),
        max_length=200,
        help_text=HELP_TEXTS["company_name"],
        widget=forms.TextInput(attrs=_widget_attrs("company_name")),
    )
    contact_name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        help_text=HELP_TEXTS["contact_name"],
        widget=forms.TextInput(attrs=_widget_attrs("contact_name")),
    )
    country = forms.ChoiceField(
        label=_("Country"),
        choices=lambda: [("", _("Choose your country")), *countries],
        help_text=HELP_TEXTS["country"],
        widget=forms.Select(attrs=_widget_attrs("country")),
    )
    business_type = forms.ChoiceField(
        label=_("Business type"),
        choices=[("", _("Choose one")), *BusinessType.choices],
        help_text=HELP_TEXTS["business_type"],
    )
    phone = forms.CharField(
        label=_("Phone or WhatsApp"),
        max_length=40,
        help_text=HELP_TEXTS["phone"],
        widget=forms.TextInput(attrs={**_widget_attrs("phone"), "type": "tel"}),
    )
    website = _website_field()
    tax_number = forms.CharField(
        label=_("Tax / VAT number"),
        max_length=50,
        required=False,
        help_text=HELP_TEXTS["tax_number"],
    )

    # Optional: who the buyer already talks to. A referral link the buyer came through wins
    # over this choice; with neither, the owner is assigned in turn (staff.receivers).
    salesperson = forms.ModelChoiceField(
        label=_("Your contact at our company"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("No preference"),
        help_text=_("If you already talk to one of our salespeople, choose them."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Salespeople are staff with a sales profile (the staff app's model, reached through its
        # reverse relation so that members does not import staff).
        offered = (
            User.objects.filter(
                is_active=True, is_staff=True, sales_profile__is_accepting_customers=True
            )
            .only("first_name", "last_name", "email")
            .order_by("first_name", "last_name", "pk")
        )
        field = self.fields["salesperson"]
        field.queryset = offered
        field.label_from_instance = _salesperson_label
        if not self.is_bound and not offered.exists():
            # Nobody to choose from: no empty question on the page.
            del self.fields["salesperson"]

    def fieldsets(self) -> list[tuple[str, list]]:
        """The visible fields in two groups, for templates: how you log in, and your business."""
        login, business = [], []
        for field in self.visible_fields():
            (login if field.name in self.LOGIN_FIELDS else business).append(field)
        return [(_("Your login"), login), (_("Your business"), business)]

    def signup(self, request, user):
        distributor_register(
            user=user,
            request=request,
            chosen_owner=self.cleaned_data.get("salesperson"),
            **{f: self.cleaned_data[f] for f in PROFILE_FIELDS},
        )


class DistributorProfileForm(forms.ModelForm):
    website = _website_field()

    class Meta:
        model = Distributor
        fields = list(PROFILE_FIELDS)
        help_texts = HELP_TEXTS
        widgets = {
            "company_name": forms.TextInput(attrs=_widget_attrs("company_name")),
            "contact_name": forms.TextInput(attrs=_widget_attrs("contact_name")),
            "phone": forms.TextInput(attrs={**_widget_attrs("phone"), "type": "tel"}),
        }


# Browsers and password managers fill an address from these tokens (WHATWG autofill).
ADDRESS_AUTOCOMPLETE = {
    "name": "name",
    "company": "organization",
    "line1": "address-line1",
    "line2": "address-line2",
    "city": "address-level2",
    "region": "address-level1",
    "postal_code": "postal-code",
    "country": "country",
    "phone": "tel",
}


class AddressForm(forms.ModelForm):
    """An address of the book, as the buyer types it; the owner and the default flag are set by
    the services, never by the form."""

    country = forms.ChoiceField(
        label=_("Country"),
        choices=lambda: [("", _("Choose a country")), *countries],
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )

    class Meta:
        model = Address
        fields = list(ADDRESS_FIELDS)
        help_texts = {
            "phone": _("With the country code: carriers call or text before delivering."),
            "is_end_customer": _(
                "One of your own customers: dropship orders go to them in a blind parcel, "
                "with no prices and no shop name inside."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, token in ADDRESS_AUTOCOMPLETE.items():
            if name in self.fields:
                self.fields[name].widget.attrs.setdefault("autocomplete", token)
        if "phone" in self.fields:
            self.fields["phone"].widget.attrs["type"] = "tel"

    def address_data(self) -> dict:
        """The cleaned fields, in the shape the address services take."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.fields}
