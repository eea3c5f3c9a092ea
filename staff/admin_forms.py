from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import roles
from .disputes import customer_service_staff
from .services import salespeople

User = get_user_model()


def _reason(label=None):
    label = label or _("Reason")
    return forms.CharField(label=label, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class ColleagueChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        name = user.get_full_name()
        return f"{name} ({user.email})" if name else user.email


class DisputeOpenForm(forms.Form):
    handed_to = ColleagueChoiceField(
        label=_("Hand to"), queryset=User.objects.none(), empty_label=None
    )
    reason = _reason(_("What the buyer contests"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handed_to"].queryset = customer_service_staff()


class DisputeCloseForm(forms.Form):
    resolution = _reason(_("How it was settled"))


class ShareForm(forms.Form):
    """Share one object with a colleague (a salesperson or customer service) for a while."""

    MAX_DAYS = 90

    colleague = ColleagueChoiceField(label=_("Colleague"), queryset=User.objects.none())
    days = forms.IntegerField(
        label=_("For how many days"), min_value=1, max_value=MAX_DAYS, initial=14
    )
    reason = _reason()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["colleague"].queryset = (
            User.objects.filter(
                is_active=True,
                is_staff=True,
                groups__name__in=[roles.SALES, roles.CUSTOMER_SERVICE],
            )
            .exclude(pk=user.pk)
            .distinct()
            .order_by("first_name", "email")
        )

    def until(self):
        return timezone.now() + timedelta(days=self.cleaned_data["days"])


class TransferForm(forms.Form):
    to_owner = ColleagueChoiceField(
        label=_("New salesperson"), queryset=User.objects.none(), empty_label=None
    )
    reason = _reason()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_owner"].queryset = salespeople().order_by("first_name", "email")


class TransferAllForm(TransferForm):
    """Every customer of one salesperson to another, e.g. when someone leaves."""

    from_owner = ColleagueChoiceField(
        label=_("From salesperson"), queryset=User.objects.none(), empty_label=None
    )
    field_order = ["from_owner", "to_owner", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Whoever owns customers, active or not: someone who left is the usual case.
        self.fields["from_owner"].queryset = (
            User.objects.filter(owned_distributors__isnull=False)
            .distinct()
            .order_by("first_name", "email")
        )

    def clean(self):
        data = super().clean()
        if data.get("from_owner") and data.get("from_owner") == data.get("to_owner"):
            raise forms.ValidationError(_("Choose two different salespeople."))
        return data
