"""The showcase in the admin: company pages with their pictures (the editor and the manager,
through their model permissions), and the shop settings with the live chat (the super admin
only). Pictures are checked and re-encoded by staff.showcase before anything is stored."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from catalog.images import ACCEPT_ATTRIBUTE
from wholesale.singleton_admin import SuperuserSingletonAdmin

from . import showcase
from .models import CompanyPage, CompanyPageImage, ShopSettings


class CompanyPageImageForm(forms.ModelForm):
    class Meta:
        model = CompanyPageImage
        fields = ["image", "caption", "position"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image"].widget.attrs["accept"] = ACCEPT_ATTRIBUTE
        self.fields["image"].help_text = _(
            "JPEG, PNG, WebP or GIF. Stored scaled to at most %(side)s pixels, without metadata."
        ) % {"side": showcase.COMPANY_IMAGE_MAX_SIDE}

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if isinstance(image, UploadedFile):  # a new upload, not the file already stored
            return showcase.company_image_prepare(image)
        return image


class CompanyPageImageInline(admin.TabularInline):
    model = CompanyPageImage
    form = CompanyPageImageForm
    fields = ["preview", "image", "caption", "position"]
    readonly_fields = ["preview"]
    extra = 1

    @admin.display(description=_("preview"))
    def preview(self, obj):
        if not obj.pk or not obj.image:
            return "–"
        return format_html(
            '<img src="{}" alt="" style="max-width:120px;max-height:90px" loading="lazy">',
            obj.image.url,
        )


@admin.register(CompanyPage)
class CompanyPageAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "is_published", "position", "image_count", "updated_at"]
    list_filter = ["is_published", "kind"]
    search_fields = ["title", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    fields = ["title", "slug", "kind", "summary", "body", "position", "is_published"]
    inlines = [CompanyPageImageInline]
    ordering = ["position", "pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(image_total=Count("images"))

    @admin.display(description=_("pictures"), ordering="image_total")
    def image_count(self, page):
        return page.image_total

    def view_on_site(self, page):
        return reverse("staff:company_page", args=[page.slug])


class ShopSettingsForm(forms.ModelForm):
    class Meta:
        model = ShopSettings
        fields = ["live_chat_whatsapp", "live_chat_embed"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Trusted configuration, output as is on every shop page (staff.showcase.LiveChat):
        # only the super admin reaches this form, and the help text says what it does.
        self.fields["live_chat_embed"].help_text = _(
            "The snippet your chat provider gives you. It is put on every shop page exactly as "
            "written, scripts included: paste only code from your chat provider. Only the "
            "super admin can change it."
        )

    def clean_live_chat_whatsapp(self):
        return showcase.whatsapp_number_check(self.cleaned_data.get("live_chat_whatsapp", ""))


@admin.register(ShopSettings)
class ShopSettingsAdmin(SuperuserSingletonAdmin):
    """The live chat on the shop's pages: the super admin's alone, one row."""

    form = ShopSettingsForm
    fields = ["live_chat_whatsapp", "live_chat_embed", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]
