from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wholesale.ledger import AppendOnly, AppendOnlyQuerySet

from .translations import translation_languages


class Category(models.Model):
    """A node of the category tree; products hang on any node."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=140, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return f"{reverse('catalog:list')}?category={self.slug}"


class ProductQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Product.Status.PUBLISHED, published_at__lte=timezone.now())


class Product(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=220, unique=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(
        _("published"),
        null=True,
        blank=True,
        help_text=_("Drives “new arrivals”; a date in the future publishes the product then."),
    )
    option1_name = models.CharField(_("option 1 name"), max_length=40, blank=True)
    option2_name = models.CharField(_("option 2 name"), max_length=40, blank=True)
    option3_name = models.CharField(_("option 3 name"), max_length=40, blank=True)
    moq = models.PositiveIntegerField(
        _("minimum order quantity"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Counted over all variants of the product in one order."),
    )
    order_increment = models.PositiveIntegerField(
        _("order increment (pack size)"), default=1, validators=[MinValueValidator(1)]
    )
    made_to_order = models.BooleanField(_("made to order"), default=False)
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), null=True, blank=True)
    # Denormalised for sorting and cards; kept in step by catalog.services.
    price_from = models.DecimalField(
        _("price from"), max_digits=12, decimal_places=2, null=True, blank=True, editable=False
    )
    units_sold = models.PositiveIntegerField(_("units sold"), default=0, editable=False)
    search_document = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            # Each matches a sort of the catalog list exactly (selectors.SORTS), tie-breaker
            # included, so a page deep in the list is read from the index in order.
            models.Index(fields=["status", "-published_at", "-id"], name="product_newest"),
            models.Index(
                fields=["status", "-units_sold", "-published_at", "-id"],
                name="product_best_selling",
            ),
            models.Index(fields=["status", "price_from", "id"], name="product_price"),
            models.Index(fields=["category", "status", "-published_at"], name="product_category"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(published_at__isnull=False),
                name="product_published_has_date",
                violation_error_message=_("A published product needs a publish date."),
            ),
            models.CheckConstraint(
                condition=models.Q(made_to_order=False) | models.Q(lead_time_days__isnull=False),
                name="product_made_to_order_has_lead_time",
                violation_error_message=_("A made-to-order product needs a lead time."),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:product", kwargs={"slug": self.slug})

    @property
    def option_names(self) -> list[str]:
        return [n for n in (self.option1_name, self.option2_name, self.option3_name) if n]

    @property
    def is_published(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    # catalog.selectors fetch storefront products with the active language's translation
    # (translated_name, translated_description); a blank or missing one shows the base text.
    @property
    def localized_name(self) -> str:
        return getattr(self, "translated_name", None) or self.name

    @property
    def localized_description(self) -> str:
        return getattr(self, "translated_description", None) or self.description


class ContentTranslation(models.Model):
    """An editor's translation of a catalog text into one language; an empty field shows the
    base language's text instead, field by field."""

    language = models.CharField(_("language"), max_length=10, choices=translation_languages)
    description = models.TextField(
        _("description"), blank=True, help_text=_("Empty: the description in the base language.")
    )

    class Meta:
        abstract = True
        ordering = ["language"]

    def __str__(self):
        return f"{self.get_language_display()}: {self.name}"


class CategoryTranslation(ContentTranslation):
    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        related_name="translations",
        verbose_name=_("category"),
    )
    name = models.CharField(
        _("name"), max_length=120, blank=True, help_text=_("Empty: the name in the base language.")
    )

    class Meta(ContentTranslation.Meta):
        verbose_name = _("category translation")
        verbose_name_plural = _("category translations")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "language"], name="categorytranslation_one_per_language"
            ),
        ]


class ProductTranslation(ContentTranslation):
    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="translations",
        verbose_name=_("product"),
    )
    name = models.CharField(
        _("name"), max_length=200, blank=True, help_text=_("Empty: the name in the base language.")
    )

    class Meta(ContentTranslation.Meta):
        verbose_name = _("product translation")
        verbose_name_plural = _("product translations")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "language"], name="producttranslation_one_per_language"
            ),
        ]


class Variant(models.Model):
    """A SKU: one combination of the product's options, with its own stock."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="variants", verbose_name=_("product")
    )
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    barcode = models.CharField(_("barcode"), max_length=64, blank=True)
    option1 = models.CharField(_("option 1"), max_length=60, blank=True)
    option2 = models.CharField(_("option 2"), max_length=60, blank=True)
    option3 = models.CharField(_("option 3"), max_length=60, blank=True)
    weight_grams = models.PositiveIntegerField(_("weight (g)"), default=0)
    stock = models.IntegerField(_("stock"), default=0, validators=[MinValueValidator(0)])
    price = models.DecimalField(
        _("own price"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_(
            "Optional. This variant's price at the first tier; the product's quantity "
            "discounts still apply to it, by the same amount off."
        ),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="variant_stock_gte_0"),
        ]

    def __str__(self):
        return f"{self.product.name} – {self.label}" if self.label else self.product.name

    @property
    def options(self) -> list[str]:
        return [o for o in (self.option1, self.option2, self.option3) if o]

    @property
    def label(self) -> str:
        return " / ".join(self.options) or self.sku


class StockMovement(AppendOnly):
    """One change of a variant's stock: the ledger that ``Variant.stock`` must always equal.

    Append-only: rows are written by ``catalog.services`` (``stock_*``) in the transaction that
    changes ``Variant.stock``, under the variant's row lock, and never updated or deleted.
    """

    class Reason(models.TextChoices):
        INITIAL = "initial", _("Initial stock")
        ADJUSTMENT = "adjustment", _("Adjustment")
        COUNT = "count", _("Stocktake")
        ORDER = "order", _("Order")
        ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
        RETURN = "return", _("Return")
        IMPORT = "import", _("Import")

    # PROTECT: a variant with a stock history is deactivated, never deleted with its ledger.
    variant = models.ForeignKey(
        Variant,
        on_delete=models.PROTECT,
        related_name="stock_movements",
        verbose_name=_("variant"),
    )
    delta = models.IntegerField(_("change"))
    balance_after = models.IntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    reference = models.CharField(
        _("reference"),
        max_length=100,
        blank=True,
        help_text=_("Where the change comes from, e.g. “order:W-10023”."),
    )
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["variant", "created_at"], name="stockmovement_variant_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(delta=0), name="stockmovement_delta_not_0"),
            models.CheckConstraint(
                condition=models.Q(balance_after__gte=0), name="stockmovement_balance_gte_0"
            ),
        ]

    def __str__(self):
        return f"{self.delta:+d} → {self.balance_after} ({self.get_reason_display()})"


class PriceTier(models.Model):
    """A quantity break: from `min_quantity` units of the product (all variants summed)."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="tiers", verbose_name=_("product")
    )
    min_quantity = models.PositiveIntegerField(
        _("from quantity"), validators=[MinValueValidator(1)]
    )
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    class Meta:
        verbose_name = _("price tier")
        verbose_name_plural = _("price tiers")
        ordering = ["min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["product", "min_quantity"], name="tier_unique_break"),
            models.CheckConstraint(condition=models.Q(unit_price__gt=0), name="tier_price_gt_0"),
            models.CheckConstraint(condition=models.Q(min_quantity__gte=1), name="tier_min_gte_1"),
        ]

    def __str__(self):
        return f"{self.min_quantity}+ @ {self.unit_price}"


def product_image_path(instance, filename):
    return f"products/{instance.product_id}/original/{filename}"


class ProductImage(models.Model):
    """An uploaded picture, re-encoded without metadata, with its web renditions.

    ``renditions`` maps a size name to its files, e.g.
    ``{"thumb": {"width": 240, "height": 240, "webp": "products/1/thumb/ab12.webp",
    "jpeg": "products/1/thumb/ab12.jpg"}, ...}``.
    """

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="images", verbose_name=_("product")
    )
    original = models.ImageField(
        _("image"), upload_to=product_image_path, width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    alt_text = models.CharField(_("alternative text"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    renditions = models.JSONField(default=dict, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.alt_text or f"{self.product} #{self.position}"


class ProductView(models.Model):
    """One product page view, for the funnel reports. Append-only, written with one INSERT."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    session_key = models.CharField(max_length=40, blank=True)
    viewed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["product", "viewed_at"])]

    def __str__(self):
        return f"view of {self.product_id} at {self.viewed_at:%Y-%m-%d %H:%M}"


class SearchLog(models.Model):
    """One search as typed (normalised), with how many products it found."""

    term = models.CharField(max_length=200)
    results = models.PositiveIntegerField()
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    session_key = models.CharField(max_length=40, blank=True)
    searched_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["term", "searched_at"])]

    def __str__(self):
        return f"{self.term!r} ({self.results})"


class Review(models.Model):
    """A buyer's review of a product they received: a 1–5 rating, text and photos, shown once
    staff approve it. Who may review is decided by the ordering side (it knows deliveries);
    catalog only keeps the review."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for moderation")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("product")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reviews",
        verbose_name=_("member"),
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    title = models.CharField(_("title"), max_length=120, blank=True)
    text = models.TextField(_("review"), max_length=4000)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    moderated_at = models.DateTimeField(_("moderated"), null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moderated by"),
    )

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["product", "member"], name="review_once_per_product"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=["product", "status"], name="review_product_status")]

    def __str__(self):
        return f"{self.product_id} ★{self.rating} ({self.member_id})"


class ReviewPhoto(models.Model):
    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="photos", verbose_name=_("review")
    )
    image = models.ImageField(_("photo"), upload_to="reviews/%Y/%m/")
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("review photo")
        verbose_name_plural = _("review photos")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.image.name


def product_kit_path(instance, filename):
    return f"kits/{instance.member_id}/{filename}"


class ProductKit(models.Model):
    """A zip a buyer downloads to list our products in their own shop: the images and the
    product data for Shopify, WooCommerce and Excel (built by orders.kits). Kept for a while
    (``expires_at``), then its file is deleted by a daily job."""

    class Kind(models.TextChoices):
        PRODUCT = "product", _("One product")
        SELECTION = "selection", _("Selection")
        CATEGORY = "category", _("Category")
        NEW_ARRIVALS = "new_arrivals", _("This week's new arrivals")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        BUILDING = "building", _("Building")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="product_kits",
        verbose_name=_("member"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    product_ids = models.JSONField(_("products"), default=list, blank=True)
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(
        _("progress"), default=0, validators=[MaxValueValidator(100)]
    )
    file = models.FileField(_("file"), upload_to=product_kit_path, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("product kit")
        verbose_name_plural = _("product kits")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["member", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="productkit_progress_lte_100"
            ),
        ]

    def __str__(self):
        return self.title or self.get_kind_display()

    @property
    def is_working(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.BUILDING)


class CartAddition(models.Model):
    """A product put in a cart, for the views → cart → purchase funnel. Append-only, written in
    batches like views (catalog.services)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["product", "added_at"])]

    def __str__(self):
        return f"cart addition of {self.product_id} at {self.added_at:%Y-%m-%d %H:%M}"
