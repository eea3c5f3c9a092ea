import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
