from decimal import Decimal

from django.conf import settings
from django.contrib import admin
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from members.admin import AddressAdmin, DistributorAdmin
from members.models import Address, Distributor
from orders import states
from orders.admin import CartAdmin, OrderAdmin, OrderPartInline
from orders.models import Cart, Order
from wholesale.money import Money, format_money

from . import services
from .admin_access import (
    CsvExportMixin,
    DisputeMixin,
    OwnershipChangeInline,
    ShareMixin,
    TransferMixin,
)
from .admin_followups import FollowUpSentInline, OrderFollowUpMixin
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


# Orders the buyer has paid for, net of refunds, in the base currency.
PAID_ORDERS = Order.objects.filter(state__in=states.PAID_STATES).order_by()
NET_BASE = ExpressionWrapper(
    F("grand_total_base") - F("refunded_total") / F("exchange_rate"),
    output_field=DecimalField(max_digits=14, decimal_places=2),
)


def _revenue(orders):
    """A correlated SUM, without GROUP BY, of the orders' net base amounts."""
    total = orders.annotate(total=Func(NET_BASE, function="SUM")).values("total")[:1]
    return Coalesce(
        Subquery(total, output_field=DecimalField(max_digits=14, decimal_places=2)),
        Value(Decimal(0)),
    )


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
        "revenue",
        "referral_revenue",
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
        user = OuterRef("user_id")
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
                revenue_total=_revenue(PAID_ORDERS.filter(member__distributor__owner=user)),
                referral_revenue_total=_revenue(
                    PAID_ORDERS.filter(
                        Exists(
                            OwnershipChange.objects.filter(
                                distributor__user=OuterRef("member"),
                                source=OwnershipChange.Source.REFERRAL,
                                to_owner=OuterRef(OuterRef("user_id")),
                            )
                        )
                    )
                ),
            )
        )

    @admin.display(description=_("revenue from their customers"), ordering="revenue_total")
    def revenue(self, profile):
        return format_money(Money(profile.revenue_total, settings.WHOLESALE_BASE_CURRENCY))

    @admin.display(description=_("revenue from link signups"), ordering="referral_revenue_total")
    def referral_revenue(self, profile):
        return format_money(Money(profile.referral_revenue_total, settings.WHOLESALE_BASE_CURRENCY))

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


class OwnDistributorAdmin(
    TransferMixin, ShareMixin, CsvExportMixin, OwnCustomersMixin, DistributorAdmin
):
    owner_path = "owner"
    scoped_may_change = True
    actions = (*DistributorAdmin.actions, "transfer_selected", "export_csv")
    inlines = (
        *(visible_with_parent(inline) for inline in DistributorAdmin.inlines),
        visible_with_parent(OwnershipChangeInline),
    )
    list_display = (*DistributorAdmin.list_display, "owner")
    list_select_related = (*DistributorAdmin.list_select_related, "owner")
    csv_filename = "distributors.csv"
    csv_columns = (
        _("company name"),
        _("contact name"),
        _("email"),
        _("country"),
        _("business type"),
        _("phone or WhatsApp"),
        _("status"),
        _("salesperson"),
        _("created"),
    )

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        # Only those who see every customer choose among salespeople.
        return filters if self._scoped(request) else (*filters, ("owner", SalespersonFilter))

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        # The owner changes only by a transfer, which the history records.
        return (*fields, "owner") if "owner" not in fields else fields

    def get_inline_instances(self, request, obj=None):
        # The ownership history starts with the first owner: nothing to show on the add page.
        instances = super().get_inline_instances(request, obj)
        return instances if obj is not None else []

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["may_share"] = self._owns(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def csv_rows(self, queryset):
        for distributor in (
            queryset.select_related("user", "owner").order_by("pk").iterator(chunk_size=500)
        ):
            owner = distributor.owner
            yield (
                distributor.company_name,
                distributor.contact_name,
                distributor.user.email,
                distributor.country.code,
                distributor.get_business_type_display(),
                distributor.phone,
                distributor.get_status_display(),
                (owner.get_full_name() or owner.email) if owner else "",
                distributor.created_at.isoformat(),
            )


class SalespersonFilter(admin.RelatedFieldListFilter):
    """Salespeople only, not every staff account."""

    def field_choices(self, field, request, model_admin):
        return [
            (user.pk, user.get_full_name() or user.email)
            for user in services.salespeople().order_by("first_name", "email")
        ]


class OwnOrderAdmin(
    DisputeMixin, ShareMixin, CsvExportMixin, OwnCustomersMixin, OrderFollowUpMixin, OrderAdmin
):
    owner_path = "member__distributor__owner"
    # Lines, history and parcels come with the order; payments and refunds stay finance's.
    inlines = [
        *(
            visible_with_parent(inline) if issubclass(inline, OrderPartInline) else inline
            for inline in OrderAdmin.inlines
        ),
        visible_with_parent(FollowUpSentInline),
    ]
    actions = (*OrderAdmin.actions, "export_csv")
    csv_filename = "orders.csv"
    csv_columns = (
        _("number"),
        _("placed"),
        _("state"),
        _("email"),
        _("company"),
        _("ship to country"),
        _("payment method"),
        _("currency"),
        _("total"),
        _("refunded"),
        _("total in base currency"),
    )

    def csv_rows(self, queryset):
        for order in queryset.order_by("pk").iterator(chunk_size=500):
            yield (
                order.number,
                order.placed_at.isoformat(),
                order.get_state_display(),
                order.email,
                order.company_name,
                order.ship_country.code,
                order.get_payment_method_display(),
                order.currency,
                order.grand_total,
                order.refunded_total,
                order.grand_total_base,
            )


class OwnAddressAdmin(OwnCustomersMixin, AddressAdmin):
    owner_path = "member__distributor__owner"
    handover_visible = False  # customer service works from the order handed to them


class OwnCartAdmin(OwnCustomersMixin, CartAdmin):
    owner_path = "member__distributor__owner"
    handover_visible = False
    inlines = [visible_with_parent(inline) for inline in CartAdmin.inlines]


for model, model_admin in (
    (Distributor, OwnDistributorAdmin),
    (Order, OwnOrderAdmin),
    (Address, OwnAddressAdmin),
    (Cart, OwnCartAdmin),
):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)

from . import admin_inquiries, admin_showcase  # noqa: E402, F401
