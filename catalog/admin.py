"""The catalog in the admin: the category tree, and products with variants, tiers and images.

Editors and managers hold every catalog model permission; finance, sales and customer service
only view. Uploaded images go through ``catalog.images`` (checked, stripped of metadata,
rendered); every product save ends with ``product_refresh`` so prices and search stay in step.
"""

from itertools import pairwise

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import Count, Prefetch, Sum
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from wholesale.admin import ReadOnlyAdminMixin

from .images import (
    ACCEPT_ATTRIBUTE,
    product_image_add,
    product_image_delete,
    validate_image_upload,
)
from .locks import lock_variants
from .models import (
    Category,
    CategoryTranslation,
    PriceTier,
    Product,
    ProductImage,
    ProductTranslation,
    Review,
    ReviewPhoto,
    StockMovement,
    Variant,
)
from .reviews import review_moderate
from .services import product_publish, product_refresh, product_unpublish, stock_adjust
from .translations import translation_languages

TREE_SEPARATOR = " › "


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "slug", "parent", "description", "position", "is_active"]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent is None or self.instance.pk is None:
            return parent
        node, seen = parent, set()
        while node is not None and node.pk not in seen:
            if node.pk == self.instance.pk:
                raise ValidationError(
                    _("A category cannot sit under itself or under one of its subcategories."),
                    code="cycle",
                )
            seen.add(node.pk)
            node = node.parent
        return parent


class TranslationInline(admin.StackedInline):
    """The texts in the other languages, one form per language; a field left empty shows the
    base language's text on the storefront. Saving one retires the catalog's cached pages
    and, for products, refreshes the search document (catalog.signals)."""

    fields = ["language", "name", "description"]
    extra = 0
    classes = ["collapse"]

    def get_max_num(self, request, obj=None, **kwargs):
        return len(translation_languages())


class CategoryTranslationInline(TranslationInline):
    model = CategoryTranslation


class ProductTranslationInline(TranslationInline):
    model = ProductTranslation


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    inlines = [CategoryTranslationInline]
    list_display = ["tree_path", "slug", "position", "is_active", "product_count"]
    list_display_links = ["tree_path"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "parent"]
    list_select_related = ["parent__parent"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["parent__position", "parent__name", "position", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(description=_("category"), ordering="name")
    def tree_path(self, obj):
        # Two levels above come from list_select_related; deeper trees show an ellipsis.
        names = [obj.name]
        parent = obj.parent
        if parent is not None:
            names.insert(0, parent.name)
            grandparent = parent.parent
            if grandparent is not None:
                names.insert(0, grandparent.name)
                if grandparent.parent_id is not None:
                    names.insert(0, "…")
        return TREE_SEPARATOR.join(names)

    @admin.display(description=_("products"), ordering="product_count")
    def product_count(self, obj):
        return obj.product_count


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = [
            "name",
            "slug",
            "category",
            "description",
            "status",
            "published_at",
            "option1_name",
            "option2_name",
            "option3_name",
            "moq",
            "order_increment",
            "made_to_order",
            "lead_time_days",
        ]

    def clean(self):
        cleaned = super().clean()
        # Publishing without a date means "now", as the publish action does.
        if cleaned.get("status") == Product.Status.PUBLISHED and not cleaned.get("published_at"):
            cleaned["published_at"] = timezone.now()
        if cleaned.get("made_to_order") and cleaned.get("lead_time_days") is None:
            self.add_error(
                "lead_time_days", _("A made-to-order product needs a lead time in days.")
            )
        return cleaned


class LoadedValueField(forms.IntegerField):
    """A hidden copy of a value as the page showed it; never counts as a change by itself."""

    widget = forms.HiddenInput

    def has_changed(self, initial, data):
        return False


class VariantForm(forms.ModelForm):
    stock_loaded = LoadedValueField(required=False, min_value=0)

    class Meta:
        model = Variant
        fields = [
            "sku",
            "barcode",
            "option1",
            "option2",
            "option3",
            "weight_grams",
            "stock",
            "price",
            "position",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            return
        self.fields["stock_loaded"].initial = self.instance.stock
        if self.is_bound:
            # Judge the stock field against what the page showed, not against the stock now:
            # if sales since then happen to bring the stock to the typed figure, the edit
            # is still a change. Without the hidden value, the stock now is the reference.
            try:
                loaded = self.fields["stock_loaded"].clean(self["stock_loaded"].data)
            except ValidationError:
                loaded = None
            if loaded is not None:
                self.initial["stock"] = loaded

    def stock_change(self) -> int:
        """How far the editor moved the stock from what the page showed them."""
        if self.instance.pk is None or "stock" not in self.cleaned_data:
            return 0
        return self.cleaned_data["stock"] - self.initial["stock"]


class VariantFormSet(BaseInlineFormSet):
    """Stock edits become movements, applied as the difference from what the page showed.

    Why the difference and not "lock and set": between opening the page and saving it,
    checkouts keep taking stock. If the page showed 40, the editor typed 35 (five damaged)
    and three sold meanwhile, setting 35 would silently give the three back (the lost update
    of Oscar #1811); applying -5 leaves 32, keeping both. So the stored stock is never
    written from the form: each change goes through stock_adjust under the row lock.
    """

    stock_user = None  # the staff member saving; set per request by VariantInline

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        changes = {
            form.instance.pk: (form, form.stock_change())
            for form in self.initial_forms
            if not self._should_delete_form(form) and form.stock_change()
        }
        if not changes:
            return
        # The admin's change view runs in one transaction (ModelAdmin.changeform_view), so
        # these locks, taken in pk order like a checkout's, hold until the save applies the
        # changes: what is checked here is what stock_adjust then finds.
        locked = lock_variants(changes)
        for pk, (form, change) in changes.items():
            variant = locked.get(pk)
            if variant is not None and variant.stock + change < 0:
                form.add_error(
                    "stock",
                    _(
                        "Only %(available)d left now, so the stock cannot go down by "
                        "%(change)d. Orders came in since the page was opened; reload it."
                    )
                    % {"available": variant.stock, "change": -change},
                )

    def save_new(self, form, commit=True):
        variant = super().save_new(form, commit=False)
        if not commit:
            return variant
        opening, variant.stock = variant.stock, 0
        variant.save()
        if opening:
            movement = stock_adjust(
                variant_id=variant.pk,
                delta=opening,
                reason=StockMovement.Reason.INITIAL,
                by=self.stock_user,
            )
            variant.stock = movement.balance_after
        return variant

    def save_existing(self, form, obj, commit=True):
        variant = form.save(commit=False)
        if not commit:
            return variant
        model_fields = {f.name for f in Variant._meta.concrete_fields}
        changed = [n for n in form.changed_data if n in model_fields and n != "stock"]
        if changed:
            variant.save(update_fields=changed)
        change = form.stock_change()
        if change:
            movement = stock_adjust(
                variant_id=variant.pk,
                delta=change,
                reason=StockMovement.Reason.ADJUSTMENT,
                by=self.stock_user,
            )
            variant.stock = movement.balance_after
        return variant


class VariantInline(admin.TabularInline):
    model = Variant
    form = VariantForm
    formset = VariantFormSet
    extra = 1

    def get_fields(self, request, obj=None):
        fields = list(VariantForm.Meta.fields)
        if self.has_add_permission(request, obj) or self.has_change_permission(request, obj):
            fields.append("stock_loaded")
        return fields

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.stock_user = request.user
        return formset


class PriceTierFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        tiers = sorted(
            (form.cleaned_data["min_quantity"], form.cleaned_data["unit_price"])
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("min_quantity") is not None
            and form.cleaned_data.get("unit_price") is not None
        )
        if not tiers and self.instance.status == Product.Status.PUBLISHED:
            raise ValidationError(
                _("A published product needs at least one price tier."), code="no_tiers"
            )
        for (_lower, price), (higher, next_price) in pairwise(tiers):
            if next_price > price:
                raise ValidationError(
                    _("The price from %(quantity)s units is higher than the tier before it."),
                    code="rising_price",
                    params={"quantity": higher},
                )


class PriceTierInline(admin.TabularInline):
    model = PriceTier
    formset = PriceTierFormSet
    fields = ["min_quantity", "unit_price"]
    extra = 1


class ProductImageForm(forms.ModelForm):
    """Upload a new picture or replace one; the file is checked here and rendered on save."""

    upload = forms.FileField(
        label=_("image file"),
        required=False,
        widget=forms.FileInput(attrs={"accept": ACCEPT_ATTRIBUTE}),
        help_text=_("JPEG, PNG, WebP or GIF. On an existing row, a new file replaces the image."),
    )

    class Meta:
        model = ProductImage
        fields = ["alt_text", "position"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "position" in self.fields:
            self.fields["position"].required = False
            self.fields["position"].help_text = _("Empty: after the last image.")
            if self.instance.pk is None:
                self.initial["position"] = None

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload is None:
            if self.instance.pk is None:
                raise ValidationError(_("Choose an image file to upload."), code="required")
            return None
        validate_image_upload(upload)
        return upload

    def clean_position(self):
        position = self.cleaned_data.get("position")
        if position is None and self.instance.pk is not None:
            return self.instance.position
        return position

    def save(self, commit=True):
        upload = self.cleaned_data.get("upload")
        if upload is None:
            return super().save(commit=commit)
        if not commit:
            raise ValueError("A new product image is stored at once; save it with commit=True.")
        replaced = self.instance if self.instance.pk is not None else None
        image = product_image_add(
            product=self.instance.product,
            upload=upload,
            alt_text=self.cleaned_data.get("alt_text", ""),
            position=self.cleaned_data.get("position"),
        )
        if replaced is not None:
            product_image_delete(image=replaced)
        self.instance = image
        return image


class ProductImageFormSet(BaseInlineFormSet):
    def delete_existing(self, obj, commit=True):
        if commit:
            product_image_delete(image=obj)


def thumbnail_html(image: ProductImage | None, *, max_side: int = 120):
    thumb = (image.renditions or {}).get("thumb") if image is not None else None
    if not thumb:
        return "–"
    scale = min(1.0, max_side / max(thumb["width"], thumb["height"], 1))
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="{}" loading="lazy">',
        default_storage.url(thumb["jpeg"]),
        round(thumb["width"] * scale),
        round(thumb["height"] * scale),
        image.alt_text,
    )


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageForm
    formset = ProductImageFormSet
    readonly_fields = ["preview"]
    extra = 1

    def get_fields(self, request, obj=None):
        # Viewers see the pictures; only those who may add or change them get a file input.
        if self.has_add_permission(request, obj) or self.has_change_permission(request, obj):
            return ["preview", "upload", "alt_text", "position"]
        return ["preview", "alt_text", "position"]

    @admin.display(description=_("preview"))
    def preview(self, obj):
        return thumbnail_html(obj if obj is not None and obj.pk else None)


class ProductChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        # The first image of each row, in one query for the whole page.
        return (
            super()
            .get_queryset(request, exclude_parameters)
            .prefetch_related(
                Prefetch(
                    "images",
                    queryset=ProductImage.objects.only(
                        "id", "product_id", "position", "renditions", "alt_text"
                    ),
                )
            )
        )


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    list_display = [
        "name",
        "thumbnail",
        "category",
        "status",
        "published_at",
        "price_from",
        "variant_count",
        "stock_total",
        "units_sold",
    ]
    list_filter = ["status", "made_to_order", "category", "published_at"]
    list_select_related = ["category"]
    search_fields = ["name", "slug", "variants__sku", "variants__barcode"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["price_from", "units_sold", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "category", "description"]}),
        (_("Publishing"), {"fields": ["status", "published_at"]}),
        (_("Options"), {"fields": ["option1_name", "option2_name", "option3_name"]}),
        (
            _("Ordering rules"),
            {"fields": ["moq", "order_increment", "made_to_order", "lead_time_days"]},
        ),
        (_("Figures"), {"fields": ["price_from", "units_sold", "created_at", "updated_at"]}),
    ]
    inlines = [VariantInline, PriceTierInline, ProductImageInline, ProductTranslationInline]
    actions = ["publish", "unpublish"]
    ordering = ["-published_at", "-pk"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(variant_count=Count("variants"), stock_total=Sum("variants__stock"))
        )

    def get_changelist(self, request, **kwargs):
        return ProductChangeList

    @admin.display(description=_("image"))
    def thumbnail(self, obj):
        images = list(obj.images.all())
        return thumbnail_html(images[0] if images else None, max_side=60)

    @admin.display(description=_("variants"), ordering="variant_count")
    def variant_count(self, obj):
        return obj.variant_count

    @admin.display(description=_("stock"), ordering="stock_total")
    def stock_total(self, obj):
        return obj.stock_total or 0

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        product_refresh(product_ids=[form.instance.pk])

    @admin.action(description=_("Publish selected products"), permissions=["change"])
    def publish(self, request, queryset):
        count = product_publish(product_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%(count)d product published.", "%(count)d products published.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Unpublish selected products"), permissions=["change"])
    def unpublish(self, request, queryset):
        count = product_unpublish(product_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%(count)d product unpublished.", "%(count)d products unpublished.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The stock ledger, read-only: movements are written by catalog.services, never here."""

    list_display = [
        "created_at",
        "variant_sku",
        "delta",
        "balance_after",
        "reason",
        "reference",
        "created_by",
    ]
    list_filter = ["reason", "created_at"]
    list_select_related = ["variant", "created_by"]
    search_fields = ["variant__sku", "reference"]
    fields = [
        "variant",
        "delta",
        "balance_after",
        "reason",
        "reference",
        "note",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]
    # The ledger only grows: skip counting all of it on every page.
    show_full_result_count = False

    @admin.display(description=_("SKU"), ordering="variant__sku")
    def variant_sku(self, obj):
        return obj.variant.sku


# --- Reviews ----------------------------------------------------------------------------------

REVIEW_THUMB_SIDE = 120


class ReviewPhotoInline(admin.TabularInline):
    """A review's photos, to look at: buyers upload them, staff approve or reject the review."""

    model = ReviewPhoto
    fields = ["thumbnail", "width", "height", "position"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("photo"))
    def thumbnail(self, obj):
        if not obj.image:
            return ""
        scale = min(1, REVIEW_THUMB_SIDE / max(obj.width or 1, obj.height or 1))
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" width="{}" height="{}"'
            ' loading="lazy" alt=""></a>',
            obj.image.url,
            obj.image.url,
            round((obj.width or REVIEW_THUMB_SIDE) * scale),
            round((obj.height or REVIEW_THUMB_SIDE) * scale),
        )


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Moderation: buyers write reviews (orders.reviews), staff approve or reject them here.
    Approving, rejecting or deleting retires the catalog's cached pages (catalog.reviews)."""

    list_display = [
        "created_at",
        "product",
        "member",
        "rating",
        "title",
        "photo_count",
        "status",
        "moderated_by",
    ]
    list_filter = ["status", "rating", "created_at"]
    list_select_related = ["product", "member", "moderated_by"]
    search_fields = ["title", "text", "product__name", "member__email"]
    fields = [
        "product",
        "member",
        "rating",
        "title",
        "text",
        "status",
        "created_at",
        "moderated_at",
        "moderated_by",
    ]
    readonly_fields = [
        "product",
        "member",
        "rating",
        "title",
        "text",
        "created_at",
        "moderated_at",
        "moderated_by",
    ]
    inlines = [ReviewPhotoInline]
    actions = ["approve", "reject"]
    ordering = ["-created_at", "-pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(photo_total=Count("photos"))

    def has_add_permission(self, request):
        return False  # reviews come from buyers who received the product

    @admin.display(description=_("photos"), ordering="photo_total")
    def photo_count(self, obj):
        return obj.photo_total

    def save_model(self, request, obj, form, change):
        if "status" not in form.changed_data:
            return
        review_moderate(
            reviews=Review.objects.filter(pk=obj.pk), status=obj.status, by=request.user
        )
        obj.refresh_from_db()

    def _moderate(self, request, queryset, status, message):
        count = review_moderate(reviews=queryset, status=status, by=request.user)
        self.message_user(request, message(count) % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Approve selected reviews"), permissions=["change"])
    def approve(self, request, queryset):
        self._moderate(
            request,
            queryset,
            Review.Status.APPROVED,
            lambda n: ngettext("%(count)d review approved.", "%(count)d reviews approved.", n),
        )

    @admin.action(description=_("Reject selected reviews"), permissions=["change"])
    def reject(self, request, queryset):
        self._moderate(
            request,
            queryset,
            Review.Status.REJECTED,
            lambda n: ngettext("%(count)d review rejected.", "%(count)d reviews rejected.", n),
        )
