"""Forms of the inquiry and message pages: they check lengths and shapes; the spam checks are
staff.inquiry_guard's and the writes staff.inquiries'."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from catalog.models import Product

from . import inquiry_guard
from .inquiries import MESSAGE_MAX_LENGTH

HONEYPOT_FIELD = "homepage"
STAMP_FIELD = "rendered"


def _message_field():
    return forms.CharField(
        label=_("Message"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Quantities, sizes and colours, target price, destination country ..."),
    )


class ProductField(forms.CharField):
    """A published product, posted by its slug (hidden on the form)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=200, **kwargs)

    def clean(self, value):
        slug = super().clean(value)
        if not slug:
            return None
        product = Product.objects.published().filter(slug=slug).first()
        if product is None:
            raise forms.ValidationError(
                _("This product is no longer in the catalog; write without it."),
                code="product",
            )
        return product


class InquiryForm(forms.Form):
    """The public "contact us / request a quote" form, for guests and members."""

    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Email"), max_length=254)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    country = forms.ChoiceField(
        label=_("Country"), choices=lambda: [("", "—"), *countries], required=False
    )
    phone = forms.CharField(label=_("Phone or WhatsApp"), max_length=40, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = _message_field()
    product = ProductField()
    # Hidden from people (off-screen, out of the tab order); robots fill it in.
    homepage = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    rendered = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["company"].widget.attrs["autocomplete"] = "organization"
        self.fields["phone"].widget.attrs["autocomplete"] = "tel"

    def spam_verdict(self) -> str | None:
        return inquiry_guard.submission_verdict(
            self.data, honeypot_field=HONEYPOT_FIELD, stamp_field=STAMP_FIELD
        )

    def visible_fields(self):
        return [field for field in super().visible_fields() if field.name != HONEYPOT_FIELD]


class MessageForm(forms.Form):
    """A signed-in buyer's new conversation."""

    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = _message_field()
    product = ProductField()


class ReplyForm(forms.Form):
    """A message in an existing conversation (the buyer's, or a staff reply in the admin)."""

    message = forms.CharField(
        label=_("Your message"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
