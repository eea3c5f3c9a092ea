from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from wholesale.ledger import AppendOnly, AppendOnlyQuerySet


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser needs is_staff and is_superuser.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """Everyone who logs in: distributors and staff. The email address is the login."""

    username = None
    email = models.EmailField(_("email address"), unique=True)
    # What the member chose in the shop's switchers, remembered across devices; empty: not
    # chosen (the visitor's country decides).
    preferred_language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )
    preferred_currency = models.CharField(_("currency"), max_length=3, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.email

    @property
    def is_approved_buyer(self) -> bool:
        """A distributor whose account staff approved (or that needed no approval)."""
        distributor = getattr(self, "distributor", None)
        return distributor is not None and distributor.is_approved


class BusinessType(models.TextChoices):
    OFFLINE_SHOP = "offline_shop", _("Offline shop")
    ONLINE_SHOP = "online_shop", _("Online shop (Shopify, Shopyy ...)")
    MARKETPLACE = "marketplace", _("Marketplace seller (Amazon, eBay, AliExpress ...)")
    INFLUENCER = "influencer", _("Influencer")
    DROPSHIPPER = "dropshipper", _("Dropshipper")
    OTHER = "other", _("Other")


# What a distributor tells us about the business, and may change later on the account page.
PROFILE_FIELDS = (
    "company_name",
    "contact_name",
    "country",
    "business_type",
    "phone",
    "website",
    "tax_number",
)


class Grade(models.TextChoices):
    """Customer grading, A to D, as sales teams keep it (seed 003)."""

    A = "A", _("A · closed or about to buy")
    B = "B", _("B · clear intent, interested in our products")
    C = "C", _("C · clear intent")
    D = "D", _("D · no clear intent")


class BuyerType(models.TextChoices):
    BIG = "big", _("Big buyer")
    SAMPLE = "sample", _("Sample buyer")
    SMALL = "small", _("Small-order buyer")


class Distributor(models.Model):
    """The business behind a buyer's account: what a wholesale shop needs to know to sell."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="distributor", verbose_name=_("user")
    )
    company_name = models.CharField(_("company name"), max_length=200)
    contact_name = models.CharField(_("contact name"), max_length=200)
    country = CountryField(_("country"))
    business_type = models.CharField(
        _("business type"), max_length=20, choices=BusinessType.choices
    )
    phone = models.CharField(_("phone or WhatsApp"), max_length=40)
    website = models.URLField(_("website"), blank=True)
    tax_number = models.CharField(_("tax / VAT number"), max_length=50, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.APPROVED
    )
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    status_changed_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("status changed by"),
    )
    # The salesperson who looks after this customer. Changed only through staff.services
    # (owner_assign, owners_transfer), which write the ownership history; PROTECT so that a
    # salesperson who leaves is deactivated after their customers are transferred.
    owner = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_distributors",
        limit_choices_to={"is_staff": True},
        verbose_name=_("salesperson"),
    )
    owner_since = models.DateTimeField(_("owned since"), null=True, blank=True)
    # Set by the owning salesperson (seed 003): how likely the customer is to buy, and how.
    grade = models.CharField(
        _("grade"), max_length=1, choices=Grade.choices, blank=True, db_index=True
    )
    buyer_type = models.CharField(
        _("buyer type"), max_length=10, choices=BuyerType.choices, blank=True, db_index=True
    )
    # Changed only by members.levels, which records each change (LevelChange).
    level = models.ForeignKey(
        "Level",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="distributors",
        verbose_name=_("level"),
    )
    level_since = models.DateTimeField(_("level since"), null=True, blank=True)
    # The buyer's own suggested retail price in product kits (orders.kits): their wholesale
    # price plus this percentage. Empty: kits show the wholesale price.
    retail_markup_percent = models.DecimalField(
        _("retail markup (%)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000"))],
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("distributor")
        verbose_name_plural = _("distributors")
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self):
        return f"{self.company_name} ({self.user.email})"

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class Address(models.Model):
    """A delivery address in a member's address book: their own premises, or, for dropship
    orders, an end customer's. Orders copy the address, so editing or deleting it later never
    changes an order."""

    member = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("member")
    )
    name = models.CharField(_("recipient name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    line1 = models.CharField(_("address line 1"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("state / province / region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = CountryField(_("country"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_end_customer = models.BooleanField(
        _("end customer"),
        default=False,
        help_text=_("An address of one of your own customers, for dropship orders."),
    )
    is_default = models.BooleanField(_("default address"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_default", "-updated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(is_default=True),
                name="address_one_default_per_member",
            ),
        ]

    def __str__(self):
        return ", ".join(part for part in (self.name, self.city, str(self.country.name)) if part)

    def lines(self) -> list[str]:
        """The address as printed on a label, one line per entry, empty parts left out."""
        return address_lines(**{field: getattr(self, field) for field in LABEL_FIELDS})


# What a buyer fills in for an address (forms, the admin and the services use this list).
ADDRESS_FIELDS = (
    "name",
    "company",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
    "is_end_customer",
)
LABEL_FIELDS = ADDRESS_FIELDS[:-1]


def address_lines(
    *, name, company, line1, line2, city, region, postal_code, country, phone
) -> list[str]:
    """An address as printed on a label or an invoice, one line per entry, empty parts left
    out (an address book entry, or one copied onto an order)."""
    locality = " ".join(part for part in (postal_code, city) if part)
    return [
        part
        for part in (
            name,
            company,
            line1,
            line2,
            ", ".join(part for part in (locality, region) if part),
            str(country.name),
            phone,
        )
        if part
    ]


# --- Levels ---------------------------------------------------------------------------------


class Level(models.Model):
    """A membership level (Member, Silver, Gold…): reached by trailing 12-month paid spend
    and/or number of paid orders, giving a price discount and a points multiplier."""

    class Rule(models.TextChoices):
        ANY = "any", _("Either threshold")
        ALL = "all", _("Both thresholds")

    name = models.CharField(_("name"), max_length=60, unique=True)
    position = models.PositiveSmallIntegerField(
        _("rank"), default=0, help_text=_("Higher ranks are better levels.")
    )
    min_spend = models.DecimalField(
        _("12-month spend from"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Paid orders net of refunds, in the base currency. Empty: not a condition."),
    )
    min_orders = models.PositiveIntegerField(
        _("12-month paid orders from"),
        null=True,
        blank=True,
        help_text=_("Empty: not a condition."),
    )
    rule = models.CharField(_("reached with"), max_length=3, choices=Rule.choices, default="any")
    discount_percent = models.DecimalField(
        _("price discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(90))],
    )
    points_multiplier = models.DecimalField(
        _("points multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(10))],
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name


class LevelChange(AppendOnly):
    """One change of a distributor's level, with the figures that decided it. Append-only."""

    distributor = models.ForeignKey(
        Distributor,
        on_delete=models.CASCADE,
        related_name="level_changes",
        verbose_name=_("distributor"),
    )
    from_level = models.ForeignKey(
        Level, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_level = models.ForeignKey(
        Level, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    spend = models.DecimalField(_("12-month spend"), max_digits=14, decimal_places=2)
    order_count = models.PositiveIntegerField(_("12-month paid orders"))
    reason = models.CharField(_("why"), max_length=200)
    created_at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("level change")
        verbose_name_plural = _("level changes")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.distributor_id}: {self.from_level_id} → {self.to_level_id}"


# --- Points ---------------------------------------------------------------------------------


class PointsRules(models.Model):
    """How points are earned, redeemed and expire: one row (pk 1), the super admin's."""

    points_per_unit = models.DecimalField(
        _("points per unit spent"),
        max_digits=6,
        decimal_places=2,
        default=Decimal(1),
        help_text=_("Points for each unit of the base currency paid, before the level multiplier."),
    )
    point_value = models.DecimalField(
        _("value of a point"),
        max_digits=8,
        decimal_places=4,
        default=Decimal("0.01"),
        help_text=_("Money off per point redeemed, in the base currency."),
    )
    min_redeem = models.PositiveIntegerField(_("fewest points redeemed at once"), default=100)
    max_redeem_percent = models.DecimalField(
        _("most of an order paid with points (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(20),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    expiry_days = models.PositiveIntegerField(
        _("points expire after (days)"), default=365, help_text=_("0: points never expire.")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("points rules")
        verbose_name_plural = _("points rules")

    def __str__(self):
        return str(_("Points rules"))


class PointsAccount(models.Model):
    """A member's points balance: the sum of their ledger, kept on one row that is locked for
    every change, so two checkouts cannot spend the same points."""

    member = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="points_account", verbose_name=_("member")
    )
    balance = models.IntegerField(_("balance"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="points_balance_not_negative"
            )
        ]

    def __str__(self):
        return f"{self.member_id}: {self.balance}"


class PointsEntry(AppendOnly):
    """One change of a member's points, with its reason and source. Append-only: the balance
    always equals the sum of these rows."""

    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        REDEEM = "redeem", _("Redeemed")
        REVERSE = "reverse", _("Reversed")
        EXPIRE = "expire", _("Expired")
        ADJUST = "adjust", _("Adjusted")

    member = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="points_entries", verbose_name=_("member")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("why"), max_length=200)
    # The order behind the entry, by id and number: members does not depend on orders.
    order_id = models.PositiveBigIntegerField(_("order id"), null=True, blank=True)
    order_number = models.CharField(_("order"), max_length=20, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["member", "created_at"], name="points_member_at"),
            models.Index(fields=["order_id", "kind"], name="points_order_kind"),
            # The membership report reads a period's entries of every member.
            models.Index(fields=["created_at", "kind"], name="points_at_kind"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(points=0), name="points_entry_not_zero")
        ]

    def __str__(self):
        return f"{self.member_id}: {self.points:+d} ({self.kind})"


# --- Favorites and subscriptions -------------------------------------------------------------


class Favorite(models.Model):
    member = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="favorites", verbose_name=_("member")
    )
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.CASCADE,
        related_name="favorited_by",
        verbose_name=_("product"),
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("favorite")
        verbose_name_plural = _("favorites")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["member", "product"], name="favorite_once")]

    def __str__(self):
        return f"{self.member_id} ♥ {self.product_id}"


class Subscription(models.Model):
    """A newsletter or new-arrival alert subscription, confirmed by email (double opt-in) and
    ended by the one-click link in every email."""

    class Kind(models.TextChoices):
        NEWSLETTER = "newsletter", _("Newsletter")
        NEW_ARRIVALS = "new_arrivals", _("New arrivals in a category")

    email = models.EmailField(_("email"))
    member = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="subscriptions",
        verbose_name=_("member"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    category = models.ForeignKey(
        "catalog.Category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
    )
    created_at = models.DateTimeField(_("asked"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    # New-arrival alerts: products published after this went out in no alert yet.
    last_sent_at = models.DateTimeField(_("last alert sent"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["email", "kind", "category"],
                name="subscription_once",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=models.Q(kind="newsletter", category__isnull=True)
                | models.Q(kind="new_arrivals", category__isnull=False),
                name="subscription_category_for_alerts",
            ),
        ]

    def __str__(self):
        return f"{self.email}: {self.kind}"

    @property
    def is_live(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class NewArrivalSent(models.Model):
    """A product an address was told about in a new-arrival alert: one row per address and
    product, so that nobody hears about a product twice (several categories, a second run,
    unsubscribing and subscribing again)."""

    email = models.EmailField(_("email"))
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("product"),
    )
    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="products_sent",
        verbose_name=_("subscription"),
    )
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("new arrival sent")
        verbose_name_plural = _("new arrivals sent")
        constraints = [
            models.UniqueConstraint(fields=["email", "product"], name="new_arrival_once"),
        ]

    def __str__(self):
        return f"{self.email}: {self.product_id}"
