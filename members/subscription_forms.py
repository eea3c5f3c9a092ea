"""Forms of the subscription pages: thin, they check input; members.subscriptions decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import Category
from catalog.selectors import category_tree

NO_CATEGORY = _("There is no such category.")


def active_category(slug: str) -> Category | None:
    """The active category `slug`, or None."""
    if not slug:
        return None
    return Category.objects.filter(slug=slug[:200], is_active=True).first()


class SubscribeForm(forms.Form):
    """The newsletter, or with a category the new-arrival alerts of that category."""

    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    category = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def clean_category(self) -> Category | None:
        slug = self.cleaned_data.get("category", "")
        if not slug:
            return None
        category = active_category(slug)
        if category is None:
            raise forms.ValidationError(NO_CATEGORY, code="unknown_category")
        return category


class AlertForm(forms.Form):
    """A member picks a category for new-arrival alerts (account page)."""

    category = forms.ChoiceField(label=_("Category"), choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            (node.slug, "\u2014 " * node.depth + node.name) for node in category_tree()
        ]
        self.fields["category"].error_messages["invalid_choice"] = NO_CATEGORY

    def clean_category(self) -> Category:
        category = active_category(self.cleaned_data["category"])
        if category is None:
            raise forms.ValidationError(NO_CATEGORY, code="unknown_category")
        return category
