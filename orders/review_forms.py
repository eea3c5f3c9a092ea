"""The buyer's review form: it parses; catalog.reviews.review_save checks and stores."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.images import ACCEPT_ATTRIBUTE
from catalog.models import Review
from catalog.reviews import MAX_PHOTOS


class MultiplePhotoInput(forms.FileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several files under one name (Django's documented pattern); a list, maybe empty."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultiplePhotoInput(attrs={"accept": ACCEPT_ATTRIBUTE, "multiple": True})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        clean_one = super().clean
        if isinstance(data, list | tuple):
            return [clean_one(item, initial) for item in data if item]
        return [clean_one(data, initial)] if data else []


RATING_CHOICES = [(n, str(n)) for n in range(5, 0, -1)]


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a rating from 1 to 5 stars."),
            "invalid_choice": _("Choose a rating from 1 to 5 stars."),
        },
    )
    title = forms.CharField(
        label=_("Title"),
        required=False,
        max_length=Review._meta.get_field("title").max_length,
    )
    text = forms.CharField(
        label=_("Your review"),
        max_length=Review._meta.get_field("text").max_length,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Tell other buyers what you think of the product.")},
    )
    photos = MultiplePhotoField(label=_("Photos"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photos"].help_text = gettext(
            "Up to %(limit)s photos (JPEG, PNG, WebP or GIF). New photos replace the ones "
            "you added before; leave this empty to keep them."
        ) % {"limit": MAX_PHOTOS}

    def clean_photos(self):
        photos = self.cleaned_data["photos"]
        if len(photos) > MAX_PHOTOS:
            raise forms.ValidationError(
                _("Add at most %(limit)s photos; you chose %(count)s."),
                code="too_many_photos",
                params={"limit": MAX_PHOTOS, "count": len(photos)},
            )
        return photos
