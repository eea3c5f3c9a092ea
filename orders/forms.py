import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.forms import AddressForm

from . import quick_order
from .models import PaymentMethod
from .rules import QuantityError, parse_quantity

_QTY_FIELD = re.compile(r"qty_([0-9]{1,18})")
# A product page lists its variants; far more quantity fields than this is not a person.
MAX_GRID_FIELDS = 300


class CartAddForm(forms.Form):
    """The product page's order grid: `qty_<variant id>` per variant, empty or 0 for none.

    Any other posted field (a price, a total, a tier) is ignored: the server prices the cart.
    """

    def clean(self):
        quantities: dict[int, int] = {}
        errors = []
        fields = [(key, _QTY_FIELD.fullmatch(key)) for key in self.data]
        fields = [(key, match) for key, match in fields if match]
        if len(fields) > MAX_GRID_FIELDS:
            raise forms.ValidationError(_("Too many quantities in one form."))
        for key, match in fields:
            value = self.data.get(key, "")
            if str(value).strip() == "":
                continue
            try:
                quantity = parse_quantity(value, allow_zero=True)
            except QuantityError as exc:
                errors.append(
                    _("“%(value)s” cannot be added: %(reason)s")
                    % {"value": str(value)[:20], "reason": exc}
                )
                continue
            if quantity:
                quantities[int(match.group(1))] = quantity
        if errors:
            raise forms.ValidationError(errors)
        if not quantities:
            raise forms.ValidationError(_("Enter a quantity for at least one variant."))
        self.cleaned_data["quantities"] = quantities
        return self.cleaned_data


class CartLineForm(forms.Form):
    """Change or remove one line of the cart page."""

    action = forms.ChoiceField(choices=[("update", "update"), ("remove", "remove")])
    quantity = forms.CharField(required=False, max_length=40)

    def clean(self):
        data = super().clean()
        if data.get("action") == "update":
            try:
                data["quantity"] = parse_quantity(data.get("quantity"))
            except QuantityError as exc:
                self.add_error("quantity", str(exc))
        return data


class QuickOrderForm(forms.Form):
    lines = forms.CharField(
        label=gettext_lazy("SKU and quantity, one per line"),
        required=False,
        max_length=quick_order.MAX_BYTES,
        widget=forms.Textarea(
            attrs={"rows": 8, "placeholder": "TS-100-M, 24\nTS-100-L, 12", "spellcheck": "false"}
        ),
    )
    file = forms.FileField(
        label=gettext_lazy("…or upload a CSV file"),
        required=False,
        help_text=gettext_lazy("Two columns, SKU and quantity; UTF-8; at most 256 KB."),
    )

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        text = data.get("lines") or ""
        if upload:
            if upload.size > quick_order.MAX_BYTES:
                raise forms.ValidationError(
                    _("The file is too large: at most %(kb)s KB.")
                    % {"kb": quick_order.MAX_BYTES // 1024}
                )
            try:
                uploaded = quick_order.decode_upload(upload.read(quick_order.MAX_BYTES + 1))
            except quick_order.QuickOrderFileError as exc:
                raise forms.ValidationError(str(exc)) from None
            text = f"{text}\n{uploaded}"
        if not text.strip():
            raise forms.ValidationError(_("Paste some lines or choose a file."))
        try:
            data["entries"] = quick_order.parse_lines(text)
        except quick_order.QuickOrderFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        if not data["entries"]:
            raise forms.ValidationError(_("Paste some lines or choose a file."))
        return data


# --- Checkout ---------------------------------------------------------------------------------

NEW_ADDRESS = "new"


class CheckoutAddressForm(AddressForm):
    """A new address typed at checkout; whether it is an end customer's follows the dropship
    tick, so the form does not ask."""

    class Meta(AddressForm.Meta):
        fields = [name for name in AddressForm.Meta.fields if name != "is_end_customer"]


class DeliveryForm(forms.Form):
    """Step 1: where the parcel goes. `address` is a saved address id or "new"; whose address
    it is, the view checks (another member's id is a 404, not a form error)."""

    address = forms.CharField()
    dropship = forms.BooleanField(required=False)

    def clean_address(self):
        value = self.cleaned_data["address"].strip()
        if value == NEW_ADDRESS:
            return value
        if not value.isdigit() or len(value) > 18:
            raise forms.ValidationError(_("Choose one of your addresses, or a new one."))
        return int(value)


class ReviewForm(forms.Form):
    """Step 2: how the parcel travels and how the buyer pays. Prices are not fields: whatever
    money a browser posts is ignored, the server prices the order."""

    checkout_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": gettext_lazy("This page is out of date: check it and place the order."),
            "invalid": gettext_lazy("This page is out of date: check it and place the order."),
        },
    )
    shipping_method = forms.ChoiceField(
        label=gettext_lazy("Shipping method"), widget=forms.RadioSelect
    )
    insured = forms.BooleanField(label=gettext_lazy("Shipping insurance"), required=False)
    payment_method = forms.ChoiceField(
        label=gettext_lazy("Payment method"), widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=gettext_lazy("Note for us (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # What the totals on the page were computed for: a choice changed without updating the
    # totals is shown again with its own totals before anything is placed.
    quoted_method = forms.CharField(required=False, max_length=50, widget=forms.HiddenInput)
    quoted_insured = forms.CharField(required=False, max_length=1, widget=forms.HiddenInput)
    points = forms.IntegerField(
        label=gettext_lazy("Points to use"),
        required=False,
        min_value=0,
        max_value=10_000_000,
        error_messages={
            "invalid": gettext_lazy("Enter a whole number of points."),
            "min_value": gettext_lazy("Points to use cannot be negative."),
            "max_value": gettext_lazy("You do not hold that many points."),
        },
    )
    quoted_points = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, method_codes=(), payment_methods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shipping_method"].choices = [(code, code) for code in method_codes]
        self.fields["shipping_method"].error_messages["invalid_choice"] = _(
            "Choose one of the shipping methods offered."
        )
        self.fields["payment_method"].choices = [
            (method, PaymentMethod(method).label) for method in payment_methods
        ]
        self.fields["payment_method"].error_messages["invalid_choice"] = _(
            "Choose one of the payment methods offered."
        )

    @property
    def shown_choice_changed(self) -> bool:
        """Whether the buyer changed the method, the insurance or the points to use since the
        totals were shown."""
        data = self.cleaned_data
        return (
            data["quoted_method"] != data["shipping_method"]
            or data["quoted_insured"] != ("1" if data["insured"] else "0")
            or (data["points"] or 0) != (data["quoted_points"] or 0)
        )
