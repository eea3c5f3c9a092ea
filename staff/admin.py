from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from members.admin import DistributorAdmin
from members.models import Distributor
from orders.admin import OrderAdmin, OrderPartInline
from orders.models import Order

from .models import OwnershipChange, ReferralVisit, SalesProfile
from .scoping import OwnCustomersMixin, visible_with_parent


def _count(queryset, field: str):
    """A correlated COUNT per salesperson, so the list costs the same whatever its length."""
    counted = (
        queryset.filter(**{field: OuterRef("user_id")})
        .order_by()
        .values(field)
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@admin.register(SalesProfile)
class SalesProfileAdmin(admin.ModelAdmin):
    """Salespeople, their referral links and what the links brought. Staff accounts are the
    super admin's: no role holds a permission on this model."""

    list_display = [
        "__str__",
        "referral_link",
        "is_accepting_customers",
        "customer_total",
        "visit_total",
        "referral_signups",
        "assigned_count",
    ]
    list_filter = ["is_accepting_customers"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "referral_code"]
    list_select_related = ["user"]
    readonly_fields = ["referral_link", "assigned_count", "last_assigned_at", "created_at"]
    fields = [
        "user",
        "referral_code",
        "referral_link",
        "is_accepting_customers",
        *readonly_fields[1:],
    ]
    raw_id_fields = ["user"]

    def get_queryset(self, request):
        visits = (
            ReferralVisit.objects.filter(sales_profile=OuterRef("pk"))
            .order_by()
            .values("sales_profile")
            .annotate(total=Count("pk"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                customer_total=_count(Distributor.objects.all(), "owner"),
                referral_signup_total=_count(
                    OwnershipChange.objects.filter(source=OwnershipChange.Source.REFERRAL),
                    "to_owner",
                ),
                visit_total=Coalesce(Subquery(visits, output_field=IntegerField()), 0),
            )
        )

    @admin.display(description=_("referral link"))
    def referral_link(self, profile):
        if not profile.pk:
            return "–"
        link = reverse("staff:referral", args=[profile.referral_code])
        qr = reverse("staff:referral_qr", args=[profile.referral_code])
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>', link, link, qr, _("QR code")
        )

    @admin.display(description=_("customers"), ordering="customer_total")
    def customer_total(self, profile):
        return profile.customer_total

    @admin.display(description=_("link visits"), ordering="visit_total")
    def visit_total(self, profile):
        return profile.visit_total

    @admin.display(description=_("signups by link"), ordering="referral_signup_total")
    def referral_signups(self, profile):
        return profile.referral_signup_total


# --- A salesperson's own customers and their orders -------------------------------------------
#
# The admins of distributors and orders are re-registered here, scoped (staff.scoping): a
# salesperson sees (and for distributors, edits) only the customers they own and those
# customers' orders; customer service sees only what was handed over to them.


class OwnDistributorAdmin(OwnCustomersMixin, DistributorAdmin):
    owner_path = "owner"
    scoped_may_change = True

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        # The owner changes only by a transfer, which the history records.
        return (*fields, "owner") if "owner" not in fields else fields


class OwnOrderAdmin(OwnCustomersMixin, OrderAdmin):
    owner_path = "member__distributor__owner"
    # Lines, history and parcels come with the order; payments and refunds stay finance's.
    inlines = [
        visible_with_parent(inline) if issubclass(inline, OrderPartInline) else inline
        for inline in OrderAdmin.inlines
    ]


for model, model_admin in ((Distributor, OwnDistributorAdmin), (Order, OwnOrderAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
