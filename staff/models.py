import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from members.models import Distributor
from wholesale.ledger import AppendOnly, AppendOnlyQuerySet

# URL-safe, unambiguous letters and digits (no 0/o, 1/l/i) so a code read off a printed card
# can be typed back.
REFERRAL_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
REFERRAL_CODE_LENGTH = 8


def referral_code_new() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))


class SalesProfile(models.Model):
    """A salesperson: a staff user who owns customers and has a personal referral link."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sales_profile",
        verbose_name=_("user"),
    )
    referral_code = models.SlugField(
        _("referral code"), max_length=20, unique=True, default=referral_code_new
    )
    is_accepting_customers = models.BooleanField(
        _("accepting new customers"),
        default=True,
        help_text=_("Offered at signup and included when new customers are assigned in turn."),
    )
    # Round robin: the salesperson least recently assigned gets the next customer.
    assigned_count = models.PositiveIntegerField(_("customers assigned"), default=0)
    last_assigned_at = models.DateTimeField(_("last assigned"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("sales profile")
        verbose_name_plural = _("sales profiles")
        # The sales role's marker: its holders see their own customers and those customers'
        # orders in the admin (staff.admin), and nothing of anyone else's.
        permissions = [("see_own_customers", _("Sees their own customers and their orders"))]

    def __str__(self):
        return self.user.get_full_name() or self.user.email


class OwnershipChange(AppendOnly):
    """One change of a distributor's owner: who from, who to, who did it, when and why.

    Append-only: written by ``staff.services`` in the transaction that changes
    ``Distributor.owner``, never updated or deleted.
    """

    class Source(models.TextChoices):
        REFERRAL = "referral", _("Referral link")
        SIGNUP_CHOICE = "signup_choice", _("Chosen at signup")
        ROUND_ROBIN = "round_robin", _("Assigned in turn")
        TRANSFER = "transfer", _("Transfer")

    distributor = models.ForeignKey(
        Distributor,
        on_delete=models.PROTECT,
        related_name="ownership_changes",
        verbose_name=_("distributor"),
    )
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from"),
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when the system assigned the owner."),
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("ownership change")
        verbose_name_plural = _("ownership changes")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["distributor", "created_at"], name="ownership_distributor_at"),
        ]

    def __str__(self):
        return f"{self.distributor_id}: {self.from_owner_id} → {self.to_owner_id}"


class ReferralVisit(models.Model):
    """One visit to a salesperson's referral link, kept for counting only: no IP, no user
    agent, no session."""

    sales_profile = models.ForeignKey(
        SalesProfile,
        on_delete=models.CASCADE,
        related_name="visits",
        verbose_name=_("salesperson"),
    )
    visited_at = models.DateTimeField(_("visited"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("referral visit")
        verbose_name_plural = _("referral visits")
        indexes = [
            models.Index(fields=["sales_profile", "visited_at"], name="referralvisit_profile_at"),
        ]

    def __str__(self):
        return f"{self.sales_profile_id} @ {self.visited_at:%Y-%m-%d %H:%M}"


# --- Hand-overs and disputes ---------------------------------------------------------------


class AccessGrant(models.Model):
    """One object handed to, or shared with, a colleague: what, to whom, by whom, why and until
    when. The permission itself is a django-guardian object permission (staff.grants); this
    row is its history. A grant ends by revocation (kept, with who and when) or expiry."""

    class Kind(models.TextChoices):
        HANDOVER = "handover", _("Handed over")
        SHARE = "share", _("Shared")

    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.CASCADE, verbose_name=_("type")
    )
    object_id = models.PositiveBigIntegerField(_("object id"))
    content_object = GenericForeignKey("content_type", "object_id")
    granted_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="access_grants",
        verbose_name=_("granted to"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("granted"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("until"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        verbose_name = _("access grant")
        verbose_name_plural = _("access grants")
        # The customer service role's marker: its holders see in the admin what was handed to
        # them (staff.scoping), and nothing else of the owned models.
        permissions = [("see_handed_over", _("Sees what was handed over to them"))]
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="grant_object"),
            models.Index(fields=["granted_to", "revoked_at"], name="grant_user_live"),
        ]

    def __str__(self):
        return f"{self.content_type_id}:{self.object_id} → {self.granted_to_id}"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Dispute(models.Model):
    """An order in dispute, handed by its salesperson to a customer service colleague, who sees
    that order (and only it) until the dispute is closed."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="disputes", verbose_name=_("order")
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.OPEN, db_index=True
    )
    reason = models.TextField(_("reason"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="disputes_handled",
        verbose_name=_("handed to"),
    )
    grant = models.OneToOneField(
        AccessGrant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispute",
        verbose_name=_("access grant"),
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    resolution = models.TextField(_("resolution"), blank=True)

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(state="open"),
                name="dispute_one_open_per_order",
            )
        ]

    def __str__(self):
        return f"{self.order_id} ({self.get_state_display()})"


# --- The company showcase and the shop's live chat ------------------------------------------


class CompanyPage(models.Model):
    """A page of the exporter's showcase (about us, factory, certificates, contact), edited by
    the editor in the admin and linked from the shop."""

    class Kind(models.TextChoices):
        ABOUT = "about", _("About us")
        FACTORY = "factory", _("Factory")
        CERTIFICATES = "certificates", _("Certificates")
        CONTACT = "contact", _("Contact")
        OTHER = "other", _("Other")

    slug = models.SlugField(_("address"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(
        _("text"), blank=True, help_text=_("Plain text; an empty line starts a new paragraph.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_published = models.BooleanField(_("published"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("company page")
        verbose_name_plural = _("company pages")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.title


class CompanyPageImage(models.Model):
    page = models.ForeignKey(
        CompanyPage, on_delete=models.CASCADE, related_name="images", verbose_name=_("page")
    )
    image = models.ImageField(_("image"), upload_to="company/%Y/%m/")
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("company page image")
        verbose_name_plural = _("company page images")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.caption or self.image.name


class ShopSettings(models.Model):
    """Shop-wide settings only the super admin changes: one row (pk 1)."""

    live_chat_whatsapp = models.CharField(
        _("WhatsApp number"),
        max_length=20,
        blank=True,
        help_text=_("International format with country code, e.g. +8613800000000."),
    )
    live_chat_embed = models.TextField(
        _("chat widget embed code"),
        blank=True,
        help_text=_("The snippet your chat provider gives you; shown on every shop page."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("shop settings")
        verbose_name_plural = _("shop settings")

    def __str__(self):
        return str(_("Shop settings"))


# --- Inquiries and buyer messages -----------------------------------------------------------


class Inquiry(models.Model):
    """A conversation with a prospect or a customer: an inquiry from the contact form or a
    product page (guests included), or a message from a signed-in buyer. It lands with the
    owning salesperson, or one assigned in turn."""

    class Kind(models.TextChoices):
        INQUIRY = "inquiry", _("Inquiry")
        MESSAGE = "message", _("Buyer message")

    class State(models.TextChoices):
        NEW = "new", _("Waiting for a reply")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.NEW, db_index=True
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inquiries",
        verbose_name=_("member"),
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"))
    company = models.CharField(_("company"), max_length=200, blank=True)
    country = CountryField(_("country"), blank=True)
    phone = models.CharField(_("phone or WhatsApp"), max_length=40, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_inquiries",
        limit_choices_to={"is_staff": True},
        verbose_name=_("salesperson"),
    )
    created_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    first_reply_at = models.DateTimeField(_("first reply"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message"), default=timezone.now)

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        ordering = ["-last_message_at", "-pk"]
        indexes = [models.Index(fields=["owner", "state"], name="inquiry_owner_state")]

    def __str__(self):
        return self.subject

    @property
    def reply_time(self):
        """The time to the first reply, or None while unanswered."""
        if self.first_reply_at is None:
            return None
        return self.first_reply_at - self.created_at


class InquiryMessage(models.Model):
    """One message of a conversation, from the customer (`from_staff` false) or from staff."""

    inquiry = models.ForeignKey(
        Inquiry, on_delete=models.CASCADE, related_name="messages", verbose_name=_("inquiry")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    from_staff = models.BooleanField(_("from staff"), default=False)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.inquiry_id} @ {self.created_at:%Y-%m-%d %H:%M}"


# --- Follow-up emails -----------------------------------------------------------------------


class FollowUpTemplate(models.Model):
    """A follow-up email with merge fields, sent by a salesperson from an order's page. The
    steps are those of seed 001: tax number and declared value, shipping notice, tracking
    update with ETA, customs help, delivery check, after-sales visit."""

    class Step(models.TextChoices):
        TAX_NUMBER = "tax_number", _("Tax number and declared value")
        SHIPPING_NOTICE = "shipping_notice", _("Shipping notice")
        TRACKING_UPDATE = "tracking_update", _("Tracking update with ETA")
        CUSTOMS_HELP = "customs_help", _("Customs help")
        DELIVERY_CHECK = "delivery_check", _("Delivery check")
        AFTER_SALES = "after_sales", _("After-sales visit")

    step = models.CharField(_("step"), max_length=20, choices=Step.choices)
    name = models.CharField(_("name"), max_length=100)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("follow-up template")
        verbose_name_plural = _("follow-up templates")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name


class FollowUpSent(AppendOnly):
    """One follow-up email sent about an order, exactly as it went out. Append-only."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="followups", verbose_name=_("order")
    )
    template = models.ForeignKey(
        FollowUpTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("template"),
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("sent by"),
    )
    to_email = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    sent_at = models.DateTimeField(_("sent"), default=timezone.now, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up sent")
        verbose_name_plural = _("follow-ups sent")
        ordering = ["-sent_at", "-pk"]

    def __str__(self):
        return f"{self.order_id}: {self.subject}"
