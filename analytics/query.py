"""A report request: the period, its comparison, the chart's grain, the filters, and whose
figures the viewer may see. Built from the page's GET form; anything invalid falls back to the
default with the form saying why (never a 500)."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from catalog.models import Category
from catalog.selectors import category_tree
from members.models import Level

from .access import Viewer
from .periods import (
    EARLIEST,
    LATEST,
    Compare,
    Grain,
    Period,
    grain_default,
    period_clamped,
    period_default,
)


@dataclass(frozen=True)
class ReportQuery:
    period: Period
    compare: Period | None
    grain: Grain
    viewer: Viewer
    country: str = ""
    category_id: int | None = None
    category_ids: tuple[int, ...] = ()  # the category and every one below it
    salesperson_id: int | None = None  # forced to the viewer for a salesperson
    level_id: int | None = None

    @property
    def service_user_id(self) -> int | None:
        return self.viewer.service_user_id


def salespeople():
    return (
        get_user_model()
        .objects.filter(sales_profile__isnull=False, is_staff=True)
        .order_by("first_name", "last_name", "email")
    )


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.email


DATE_LIMITS = {"type": "date", "min": EARLIEST.isoformat(), "max": LATEST.isoformat()}
DATE_VALIDATORS = [MinValueValidator(EARLIEST), MaxValueValidator(LATEST)]


class ReportForm(forms.Form):
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs=DATE_LIMITS),
        validators=DATE_VALIDATORS,
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs=DATE_LIMITS),
        validators=DATE_VALIDATORS,
    )
    compare = forms.ChoiceField(
        label=_("Compare with"),
        required=False,
        choices=[
            (Compare.PREVIOUS, _("the previous period")),
            (Compare.YEAR, _("the same dates a year before")),
            (Compare.NONE, _("nothing")),
        ],
    )
    grain = forms.ChoiceField(
        label=_("Group by"),
        required=False,
        choices=[
            ("", _("automatic")),
            (Grain.DAY, _("day")),
            (Grain.WEEK, _("week")),
            (Grain.MONTH, _("month")),
        ],
    )
    country = forms.ChoiceField(label=_("Country"), required=False)
    category = forms.ModelChoiceField(
        label=_("Category"),
        required=False,
        queryset=Category.objects.filter(is_active=True).order_by("name"),
        empty_label=_("all"),
    )
    salesperson = _PersonChoice(
        label=_("Salesperson"), required=False, queryset=salespeople(), empty_label=_("all")
    )
    level = forms.ModelChoiceField(
        label=_("Level"),
        required=False,
        queryset=Level.objects.order_by("position", "pk"),
        empty_label=_("all"),
    )

    def __init__(self, data, *, filters, viewer: Viewer):
        super().__init__(data)
        self.fields["country"].choices = [("", _("all")), *countries]
        self.fields["salesperson"].queryset = salespeople()
        for name in ("grain", "country", "category", "salesperson", "level"):
            if name not in filters or (name == "salesperson" and viewer.narrowed):
                del self.fields[name]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date is before the start date."))
        return cleaned


def _show_dates(form: ReportForm, period: Period) -> None:
    """A date left blank shows the one the report uses (the default period's, or the one
    worked out from the other date), so the page says which dates it covers where they are
    changed."""
    shown = form.data.copy()
    for name, value in (("start", period.start), ("end", period.end)):
        if not form.data.get(name) and name not in form.errors:
            shown[name] = value.isoformat()
    form.data = shown


def query_from(data, *, filters, viewer: Viewer) -> tuple[ReportForm, ReportQuery]:
    """The form (with any errors) and the query it asks for; what is invalid is left at its
    default."""
    form = ReportForm(data, filters=filters, viewer=viewer)
    form.is_valid()
    value = getattr(form, "cleaned_data", {})
    default = period_default()
    start, end = value.get("start"), value.get("end")
    if "end" in form.errors or (start is None and end is None):
        start, end = default.start, default.end
    elif start is None:
        start = end - (default.end - default.start)  # the default length, ending there
    elif end is None:
        end = max(default.end, start)  # from there to today
    period = period_clamped(start, end)
    _show_dates(form, period)
    compare = Compare(value.get("compare") or Compare.PREVIOUS)
    grain = Grain(value["grain"]) if value.get("grain") else grain_default(period)
    category = value.get("category")
    category_ids: tuple[int, ...] = ()
    if category is not None:
        node = next((n for n in category_tree() if n.id == category.pk), None)
        category_ids = tuple(node.descendant_ids) if node else (category.pk,)
    salesperson = value.get("salesperson")
    level = value.get("level")
    query = ReportQuery(
        period=period,
        compare=period.compared(compare),
        grain=grain,
        viewer=viewer,
        country=value.get("country") or "",
        category_id=category.pk if category else None,
        category_ids=category_ids,
        salesperson_id=viewer.salesperson_id or (salesperson.pk if salesperson else None),
        level_id=level.pk if level else None,
    )
    return form, query
