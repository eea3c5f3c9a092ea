"""Carts in the admin: read-only, so staff can see what a buyer is about to order when they
call. Carts change only through the buyer's own requests (orders.services).

Shipping templates (zones with their rates, methods) are edited here by staff holding the
model permissions; prices are in the base currency."""

import json

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Count, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django_countries.fields import Country

from wholesale.admin import ReadOnlyAdminMixin
from wholesale.money import Money, format_money
from wholesale.singleton_admin import SuperuserSingletonAdmin

from . import lifecycle, states
from .admin_forms import (
    BankTransferConfirmForm,
    RefundForm,
    ShipmentForm,
    StateChangeForm,
    staff_moves,
)
from .models import (
    Cart,
    CartLine,
    Order,
    OrderEvent,
    OrderLine,
    OrderState,
    Payment,
    PaymentMethod,
    PaymentSettings,
    Refund,
    Shipment,
    ShippingMethod,
    ShippingRate,
    ShippingZone,
    TrackingEvent,
    TrackingRun,
    WebhookEvent,
)


class CartLineInline(admin.TabularInline):
    model = CartLine
    fields = ["variant", "quantity", "added_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("variant__product")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Cart)
class CartAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["member", "line_count", "unit_count", "updated_at"]
    list_select_related = ["member"]
    search_fields = ["member__email", "lines__variant__sku"]
    date_hierarchy = "updated_at"
    ordering = ["-updated_at"]
    fields = ["member", "created_at", "updated_at"]
    readonly_fields = fields
    inlines = [CartLineInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(line_total=Count("lines"), unit_total=Sum("lines__quantity"))
        )

    @admin.display(description=_("lines"), ordering="line_total")
    def line_count(self, obj):
        return obj.line_total

    @admin.display(description=_("units"), ordering="unit_total")
    def unit_count(self, obj):
        return obj.unit_total or 0


class ShippingRateInline(admin.TabularInline):
    model = ShippingRate
    fields = [
        "method",
        "first_weight_grams",
        "first_price",
        "additional_weight_grams",
        "additional_price",
        "free_above",
        "min_days",
        "max_days",
        "is_active",
    ]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("method")


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin):
    list_display = ["name", "country_list", "rate_count", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", ("rates__method", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "countries"]
    ordering = ["position", "pk"]
    fields = ["name", "countries", "position", "is_active"]
    inlines = [ShippingRateInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rate_total=Count("rates"))

    @admin.display(description=_("countries"))
    def country_list(self, obj):
        return ", ".join(country.code for country in obj.countries)

    @admin.display(description=_("rates"), ordering="rate_total")
    def rate_count(self, obj):
        return obj.rate_total


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "zone_count", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", ("rates__zone", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}
    ordering = ["position", "pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(zone_total=Count("rates"))

    @admin.display(description=_("zones"), ordering="zone_total")
    def zone_count(self, obj):
        return obj.zone_total


# --- Orders -----------------------------------------------------------------------------------
# An order is read-only here: amounts, lines, owner and state change only through the order's
# own pages below (confirm a transfer, add a shipment, refund, change the state), each checking
# its permission and calling one service of orders.lifecycle, which writes the history.


class PaymentStatusFilter(admin.SimpleListFilter):
    """By the status of the order's payment: the succeeded one if any, else the one for the
    method the buyer chose (the `payment_status` annotation of OrderAdmin.get_queryset)."""

    title = _("payment status")
    parameter_name = "payment_status"
    NONE = "none"

    def lookups(self, request, model_admin):
        return [*Payment.Status.choices, (self.NONE, _("No payment"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.NONE:
            return queryset.filter(payment_status__isnull=True)
        if value in Payment.Status.values:
            return queryset.filter(payment_status=value)
        return queryset


class ShipCountryFilter(admin.SimpleListFilter):
    """Only the countries the orders this staff member may see ship to (their queryset)."""

    title = _("ship to")
    parameter_name = "ship_country"

    def lookups(self, request, model_admin):
        codes = (
            model_admin.get_queryset(request)
            .order_by()
            .values_list("ship_country", flat=True)
            .distinct()
        )
        countries = [Country(code=code) for code in codes if code]
        return sorted(((c.code, c.name) for c in countries), key=lambda pair: str(pair[1]))

    def queryset(self, request, queryset):
        value = self.value()
        if value:
            return queryset.filter(ship_country=value)
        return queryset


class OrderPartInline(admin.TabularInline):
    """A read-only part of the order (lines, history, parcels): whoever may see the order sees
    it, without a permission on the part's own model."""

    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("orders.view_order") or request.user.has_perm(
            "orders.change_order"
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderLineInline(OrderPartInline):
    model = OrderLine
    fields = [
        "sku",
        "product_name",
        "variant_label",
        "quantity",
        "tier",
        "unit_price_shown",
        "line_total_shown",
        "refunded_quantity",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")

    @admin.display(description=_("tier"))
    def tier(self, obj):
        if obj.tier_max_quantity is None:
            return f"{obj.tier_min_quantity}+"
        return f"{obj.tier_min_quantity}–{obj.tier_max_quantity}"

    @admin.display(description=_("unit price"))
    def unit_price_shown(self, obj):
        return format_money(Money(obj.unit_price, obj.order.currency))

    @admin.display(description=_("line total"))
    def line_total_shown(self, obj):
        return format_money(Money(obj.line_total, obj.order.currency))


class OrderEventInline(OrderPartInline):
    model = OrderEvent
    fields = ["created_at", "kind", "from_state", "to_state", "actor_label", "reason"]
    verbose_name_plural = _("history")


class ShipmentInline(OrderPartInline):
    model = Shipment
    fields = ["shipped_at", "carrier", "tracking_number", "tracking_url", "created_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")


class TrackingEventInline(OrderPartInline):
    """The carrier's scans of the order's parcels (orders.tracking), newest first."""

    model = TrackingEvent
    fields = ["occurred_at", "shipment", "status", "location", "description"]
    ordering = ["-occurred_at", "-pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shipment")


class MoneyRecordInline(admin.TabularInline):
    """Payments and refunds of the order: shown to staff holding the view permission on them
    (finance), read-only for everyone."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("amount"))
    def amount_shown(self, obj):
        return format_money(Money(obj.amount, obj.currency))


class PaymentInline(MoneyRecordInline):
    model = Payment
    fields = [
        "method",
        "status",
        "amount_shown",
        "reference",
        "provider_id",
        "intent_id",
        "failure_reason",
        "confirmed_by",
        "succeeded_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("confirmed_by")


class RefundInline(MoneyRecordInline):
    model = Refund
    fields = ["created_at", "amount_shown", "status", "reason", "provider_id", "created_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")


def _payment_status_subquery():
    # The succeeded payment if there is one, else the payment for the chosen method. Two
    # plain subqueries (an outer reference inside a CASE in ORDER BY defeats SQLite).
    succeeded = Payment.objects.filter(
        order=OuterRef("pk"), status=Payment.Status.SUCCEEDED
    ).values("status")[:1]
    chosen = Payment.objects.filter(order=OuterRef("pk"), method=OuterRef("payment_method")).values(
        "status"
    )[:1]
    return Coalesce(Subquery(succeeded), Subquery(chosen))


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    change_form_template = "admin/orders/order/change_form.html"
    view_on_site = False  # the buyer's page; staff read the order here
    list_display = [
        "number",
        "placed_at",
        "buyer",
        "state",
        "payment_method",
        "payment_status_shown",
        "ship_country_shown",
        "grand_total_shown",
    ]
    list_display_links = ["number"]
    list_filter = [
        "state",
        "payment_method",
        PaymentStatusFilter,
        ShipCountryFilter,
        "placed_at",
    ]
    date_hierarchy = "placed_at"
    search_fields = ["number", "email", "company_name", "lines__sku"]
    list_select_related = False
    list_per_page = 50
    ordering = ["-placed_at", "-pk"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "state",
                    "placed_at",
                    "pay_by",
                    "paid_at",
                    "member",
                    "email",
                    "company_name",
                    "payment_method",
                    "buyer_note",
                ]
            },
        ),
        (
            _("Totals"),
            {
                "fields": [
                    "goods_shown",
                    "discount_shown",
                    "shipping_shown",
                    "insurance_shown",
                    "fee_shown",
                    "grand_total_shown",
                    "refunded_shown",
                    "grand_total_base_shown",
                    "exchange_rate",
                ]
            },
        ),
        (
            _("Delivery"),
            {
                "fields": [
                    "shipping_method_name",
                    "delivery_days",
                    "weight_grams",
                    "is_insured",
                    "is_dropship",
                    "ship_to",
                    "holds_stock",
                ]
            },
        ),
    ]
    inlines = [
        OrderLineInline,
        PaymentInline,
        RefundInline,
        ShipmentInline,
        TrackingEventInline,
        OrderEventInline,
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(payment_status=_payment_status_subquery())

    def get_readonly_fields(self, request, obj=None):
        return flatten_fieldsets(self.fieldsets)

    def has_add_permission(self, request):
        return False  # orders come from checkout

    def has_change_permission(self, request, obj=None):
        # Never through the form: a stale save would overwrite the state or the amounts that a
        # service changed meanwhile. "Change state" (orders.change_order) is its own page.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- columns and read-only fields ---

    @admin.display(description=_("buyer"), ordering="company_name")
    def buyer(self, obj):
        if obj.company_name:
            return format_html("{}<br><small>{}</small>", obj.company_name, obj.email)
        return obj.email

    @admin.display(description=_("payment status"), ordering="payment_status")
    def payment_status_shown(self, obj):
        status = getattr(obj, "payment_status", None)
        return Payment.Status(status).label if status else "–"

    @admin.display(description=_("ship to"), ordering="ship_country")
    def ship_country_shown(self, obj):
        return obj.ship_country.code

    def _money(field, description):
        @admin.display(description=description, ordering=field)
        def shown(self, obj):
            return format_money(obj.money(field))

        return shown

    goods_shown = _money("goods_total", _("goods"))
    discount_shown = _money("discount_total", _("discounts"))
    shipping_shown = _money("shipping_total", _("shipping"))
    insurance_shown = _money("insurance_total", _("insurance"))
    fee_shown = _money("fee_total", _("fees"))
    grand_total_shown = _money("grand_total", _("total"))
    refunded_shown = _money("refunded_total", _("refunded"))
    del _money

    @admin.display(description=_("total in base currency"))
    def grand_total_base_shown(self, obj):
        return format_money(Money(obj.grand_total_base, obj.base_currency))

    @admin.display(description=_("delivery"))
    def delivery_days(self, obj):
        return _("%(min)s–%(max)s days") % {
            "min": obj.delivery_min_days,
            "max": obj.delivery_max_days,
        }

    @admin.display(description=_("ship to"))
    def ship_to(self, obj):
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in obj.ship_lines()))

    # --- the order's own pages ---

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/confirm-transfer/",
                wrap(self.confirm_transfer_view),
                name=f"{prefix}_confirm_transfer",
            ),
            path("<path:object_id>/ship/", wrap(self.shipment_view), name=f"{prefix}_ship"),
            path("<path:object_id>/refund/", wrap(self.refund_view), name=f"{prefix}_refund"),
            path("<path:object_id>/state/", wrap(self.state_view), name=f"{prefix}_state"),
            path(
                "<path:object_id>/packing-slip/",
                wrap(self.packing_slip_view),
                name=f"{prefix}_packing_slip",
            ),
            *super().get_urls(),
        ]

    def _order_for(self, request, object_id, permission: str | None) -> Order:
        """The order the page acts on, after checking the permission (403 before anything)."""
        if permission and not request.user.has_perm(permission):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404(_("No such order."))
        if not self.has_view_permission(request, order):
            raise PermissionDenied
        return order

    def _order_actions(self, request, order: Order) -> list[dict]:
        user = request.user
        actions = []

        def add(name, label, allowed):
            if allowed:
                url = reverse(
                    f"admin:orders_order_{name}",
                    args=[quote(order.pk)],
                    current_app=self.admin_site.name,
                )
                actions.append({"name": name, "label": label, "url": url})

        add(
            "confirm_transfer",
            _("Confirm bank transfer"),
            user.has_perm("orders.confirm_payment")
            and order.state == OrderState.PENDING_PAYMENT
            and order.payment_method == PaymentMethod.BANK_TRANSFER,
        )
        add(
            "ship",
            _("Add shipment"),
            user.has_perm("orders.ship_order")
            and order.state in {OrderState.PAID, OrderState.PROCESSING, OrderState.SHIPPED},
        )
        add(
            "refund",
            _("Refund"),
            user.has_perm("orders.refund_order")
            and order.state in states.PAID_STATES
            and order.state != OrderState.REFUNDED
            and order.refunded_total < order.grand_total,
        )
        add(
            "state",
            _("Change state"),
            user.has_perm("orders.change_order") and bool(staff_moves(order.state)),
        )
        add("packing_slip", _("Packing slip"), True)
        return actions

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["order_actions"] = self._order_actions(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _change_url(self, order: Order) -> str:
        return reverse(
            "admin:orders_order_change", args=[quote(order.pk)], current_app=self.admin_site.name
        )

    def _action_page(self, request, order: Order, form, *, title: str, submit: str, intro=""):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "title": title,
            "order": order,
            "form": form,
            "submit_label": submit,
            "intro": intro,
            "change_url": self._change_url(order),
            "left_to_refund": order.money("grand_total") - order.money("refunded_total"),
        }
        return TemplateResponse(request, "admin/orders/order/action.html", context)

    def _run(self, request, order: Order, service, *, done: str):
        """Call the service; a refusal becomes a message on the page, never a 500."""
        try:
            service()
        except (ValidationError, Http404) as exc:
            reasons = getattr(exc, "messages", None) or [str(exc) or _("Refused.")]
            for reason in reasons:
                self.message_user(request, reason, messages.ERROR)
            return False
        except IntegrityError:
            self.message_user(
                request, _("This tracking number is already recorded."), messages.ERROR
            )
            return False
        self.message_user(request, done, messages.SUCCESS)
        return True

    def confirm_transfer_view(self, request, object_id):
        order = self._order_for(request, object_id, "orders.confirm_payment")
        form = BankTransferConfirmForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            confirmed = self._run(
                request,
                order,
                lambda: lifecycle.bank_transfer_confirm(
                    order_id=order.pk, by=request.user, reference=form.cleaned_data["reference"]
                ),
                done=_("The transfer for order %(number)s is confirmed: the order is paid.")
                % {"number": order.number},
            )
            if confirmed:
                return HttpResponseRedirect(self._change_url(order))
        return self._action_page(
            request,
            order,
            form,
            title=_("Confirm bank transfer for order %(number)s") % {"number": order.number},
            submit=_("Confirm the transfer arrived"),
            intro=_("Confirm only once the full amount is on the bank statement."),
        )

    def shipment_view(self, request, object_id):
        order = self._order_for(request, object_id, "orders.ship_order")
        form = ShipmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            shipped = self._run(
                request,
                order,
                lambda: lifecycle.shipment_add(
                    order_id=order.pk,
                    carrier=data["carrier"],
                    tracking_number=data["tracking_number"],
                    tracking_url=data["tracking_url"],
                    by=request.user,
                ),
                done=_("Shipment recorded for order %(number)s; the buyer is told by email.")
                % {"number": order.number},
            )
            if shipped:
                return HttpResponseRedirect(self._change_url(order))
        return self._action_page(
            request,
            order,
            form,
            title=_("Add a shipment to order %(number)s") % {"number": order.number},
            submit=_("Record the shipment"),
        )

    def refund_view(self, request, object_id):
        order = self._order_for(request, object_id, "orders.refund_order")
        form = RefundForm(request.POST or None, order=order, lines=list(order.lines.all()))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data

            def refund():
                from orders.stripe_gateway import refund_send

                return lifecycle.refund_create(
                    order_id=order.pk,
                    by=request.user,
                    reason=data["reason"],
                    lines=data["lines"],
                    send=refund_send,
                )

            refunded = self._run(
                request,
                order,
                refund,
                done=_("Refund recorded for order %(number)s.") % {"number": order.number},
            )
            if refunded:
                return HttpResponseRedirect(self._change_url(order))
        return self._action_page(
            request,
            order,
            form,
            title=_("Refund order %(number)s") % {"number": order.number},
            submit=_("Refund"),
            intro=_(
                "A card payment is refunded through the payment provider; a bank transfer "
                "refund is recorded here and wired back by finance."
            ),
        )

    def state_view(self, request, object_id):
        order = self._order_for(request, object_id, "orders.change_order")
        form = StateChangeForm(request.POST or None, order=order)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            moved = self._run(
                request,
                order,
                lambda: lifecycle.order_transition(
                    order_id=order.pk,
                    to_state=data["to_state"],
                    by=request.user,
                    reason=data["reason"],
                ),
                done=_("Order %(number)s is now %(state)s.")
                % {"number": order.number, "state": OrderState(data["to_state"]).label.lower()},
            )
            if moved:
                return HttpResponseRedirect(self._change_url(order))
        if not staff_moves(order.state):
            self.message_user(
                request,
                _("Order %(number)s is %(state)s: staff cannot change its state by hand.")
                % {"number": order.number, "state": order.get_state_display().lower()},
                messages.WARNING,
            )
        return self._action_page(
            request,
            order,
            form,
            title=_("Change the state of order %(number)s") % {"number": order.number},
            submit=_("Change the state"),
            intro=_("The change and its reason are written to the order's history."),
        )

    def packing_slip_view(self, request, object_id):
        order = self._order_for(request, object_id, None)
        context = {
            "order": order,
            "lines": list(order.lines.all()),
            "blind": order.is_dropship,
            "seller": settings.WHOLESALE_SELLER_ADDRESS,
            "shop_name": settings.WHOLESALE_SHOP_NAME,
        }
        return TemplateResponse(request, "admin/orders/order/packing_slip.html", context)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "order",
        "method",
        "status",
        "amount_shown",
        "reference",
        "provider_id",
        "created_at",
        "succeeded_at",
    ]
    list_filter = ["method", "status"]
    search_fields = ["order__number", "provider_id", "intent_id", "reference"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_shown(self, obj):
        return format_money(Money(obj.amount, obj.currency))


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "provider", "type", "event_id", "processed_at", "result"]
    list_filter = ["provider", "type"]
    search_fields = ["event_id", "type"]
    date_hierarchy = "received_at"
    ordering = ["-received_at", "-pk"]
    fields = [
        "provider",
        "event_id",
        "type",
        "received_at",
        "processed_at",
        "result",
        "payload_shown",
    ]
    readonly_fields = fields

    @admin.display(description=_("payload"))
    def payload_shown(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))


@admin.register(PaymentSettings)
class PaymentSettingsAdmin(SuperuserSingletonAdmin):
    """Which payment methods buyers are offered and the bank details they pay into: the super
    admin's alone (DESIGN.md roles table), one row."""

    fields = ["card_enabled", "bank_transfer_enabled", "bank_details", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def get_changeform_initial_data(self, request):
        # A new row starts from what the settings file says now, which is what buyers see.
        return {
            "card_enabled": PaymentMethod.CARD in settings.WHOLESALE_PAYMENT_METHODS,
            "bank_transfer_enabled": PaymentMethod.BANK_TRANSFER
            in settings.WHOLESALE_PAYMENT_METHODS,
            "bank_details": settings.WHOLESALE_BANK_DETAILS,
        }


@admin.register(TrackingRun)
class TrackingRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The tracking sweeps' log: when, which provider, shipments checked, events added and the
    batches that failed."""

    list_display = [
        "started_at",
        "finished_at",
        "provider",
        "status",
        "shipments_checked",
        "events_added",
    ]
    list_filter = ["status", "provider"]
    date_hierarchy = "started_at"


# The ERP export profiles and run log, and the payment methods per country, register
# themselves (orders.admin_exports, orders.admin_payment_countries).
from . import admin_exports, admin_payment_countries  # noqa: E402, F401
