"""Forms behind the order admin's own pages: confirm a bank transfer, add a shipment, refund,
change the state. They only parse what staff typed; orders.lifecycle decides and records."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import states
from .models import Order, OrderState, Payment, Shipment

# States staff may set by hand. Paid, shipped, cancelled and refunded follow from a payment, a
# shipment, the expiry job or a refund, whose services write the rows that go with them.
STAFF_TARGETS = frozenset(
    {OrderState.PROCESSING, OrderState.DELIVERED, OrderState.COMPLETED, OrderState.DISPUTED}
)


def staff_moves(state: str) -> list[str]:
    """The states staff may move an order in `state` to, in the order of the lifecycle.

    Shipped is offered only to bring a disputed order back: its parcels are already recorded.
    """
    targets = set(STAFF_TARGETS)
    if state == OrderState.DISPUTED:
        targets.add(OrderState.SHIPPED)
    return [
        to_state
        for to_state in OrderState.values
        if to_state in targets and states.can_move(state, to_state)
    ]


def _reason_field(label):
    return forms.CharField(
        label=label,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class BankTransferConfirmForm(forms.Form):
    reference = forms.CharField(
        label=_("Bank reference"),
        max_length=Payment._meta.get_field("reference").max_length,
        help_text=_("As it reads on the bank statement."),
    )


class ShipmentForm(forms.Form):
    carrier = forms.CharField(
        label=_("Carrier"), max_length=Shipment._meta.get_field("carrier").max_length
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=Shipment._meta.get_field("tracking_number").max_length,
    )
    tracking_url = forms.URLField(
        label=_("Tracking link"),
        required=False,
        max_length=Shipment._meta.get_field("tracking_url").max_length,
        assume_scheme="https",
    )


class RefundForm(forms.Form):
    """Everything still unrefunded, or some units of some lines (`line_<id>` fields)."""

    FULL = "full"
    LINES = "lines"

    scope = forms.ChoiceField(
        label=_("Refund"),
        choices=[(FULL, _("Everything not yet refunded")), (LINES, _("Some units of some lines"))],
        initial=FULL,
        widget=forms.RadioSelect,
    )
    reason = _reason_field(_("Reason"))

    def __init__(self, *args, order: Order, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.line_fields: list[tuple[str, object]] = []
        for line in lines:
            name = f"line_{line.pk}"
            left = line.quantity - line.refunded_quantity
            label = " ".join(
                part for part in (line.sku, line.product_name, line.variant_label) if part
            )
            self.fields[name] = forms.IntegerField(
                label=label,
                required=False,
                min_value=0,
                # The service checks what is left; this only bounds the number typed.
                max_value=line.quantity,
                help_text=_("%(left)s of %(quantity)s units left to refund.")
                % {"left": left, "quantity": line.quantity},
            )
            self.line_fields.append((name, line))

    def clean(self):
        data = super().clean()
        if data.get("scope") != self.LINES:
            data["lines"] = None
            return data
        lines = {
            line.pk: data[name]
            for name, line in self.line_fields
            if data.get(name) not in (None, 0)
        }
        if not lines and not any(self.has_error(name) for name, _line in self.line_fields):
            raise forms.ValidationError(_("Enter the units to refund on at least one line."))
        data["lines"] = lines
        return data


class StateChangeForm(forms.Form):
    to_state = forms.ChoiceField(label=_("New state"))
    reason = _reason_field(_("Reason"))

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_state"].choices = [
            (to_state, OrderState(to_state).label) for to_state in staff_moves(order.state)
        ]
