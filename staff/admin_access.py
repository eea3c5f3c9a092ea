"""Admin pages for who sees what: sharing an object with a colleague, disputes handed to
customer service, transfers of customers between salespeople, and the lists of grants and
disputes. The pages are mixed into the scoped distributor and order admins (staff.admin)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from members.models import Distributor
from orders import states
from orders.models import OrderState
from wholesale.admin import ReadOnlyAdminMixin
from wholesale.csv_export import csv_response

from . import disputes, services
from .admin_forms import DisputeCloseForm, DisputeOpenForm, ShareForm, TransferAllForm, TransferForm
from .grants import access_grant, access_revoke
from .models import AccessGrant, Dispute, OwnershipChange
from .scoping import OwnCustomersMixin, handover_scope, sales_scope


class ObjectPagesMixin:
    """Pages that act on one object of a scoped admin: the object comes through the scoped
    queryset, so one outside the user's scope is a 404 before anything else happens."""

    def _scoped_object(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404(_("No such object."))
        return obj

    def _object_url(self, obj) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[quote(obj.pk)],
            current_app=self.admin_site.name,
        )

    def _page(self, request, obj, form, *, title, submit, intro=""):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "title": title,
            "object": obj,
            "form": form,
            "submit_label": submit,
            "intro": intro,
            "change_url": self._object_url(obj) if obj is not None else None,
        }
        return TemplateResponse(request, "admin/staff/object_action.html", context)

    def _attempt(self, request, service, *, done) -> bool:
        """Call the service; a refusal becomes a message on the page, never a 500."""
        try:
            service()
        except ValidationError as exc:
            for reason in exc.messages:
                self.message_user(request, reason, messages.ERROR)
            return False
        self.message_user(request, done, messages.SUCCESS)
        return True

    def _owns(self, request, obj) -> bool:
        """Whether the user may hand the object on: the model's change permission (manager,
        super admin) or, for a salesperson, owning it; a shared object is not re-shared."""
        if request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}"):
            return True
        if not (sales_scope(request) and self.owner_path):
            return False
        return (
            self.model._default_manager.filter(pk=obj.pk, **{self.owner_path: request.user})
        ).exists()


class ShareMixin(ObjectPagesMixin):
    """`<id>/share/`: let a colleague see this object for a number of days."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_share"
        return [
            path(
                "<path:object_id>/share/",
                self.admin_site.admin_view(self.share_view),
                name=name,
            ),
            *super().get_urls(),
        ]

    def share_view(self, request, object_id):
        obj = self._scoped_object(request, object_id)
        if not self._owns(request, obj):
            raise PermissionDenied
        form = ShareForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            colleague = data["colleague"]
            done = self._attempt(
                request,
                lambda: access_grant(
                    obj,
                    to=colleague,
                    by=request.user,
                    kind=AccessGrant.Kind.SHARE,
                    reason=data["reason"],
                    until=form.until(),
                ),
                done=_("%(object)s is shared with %(name)s for %(days)d days.")
                % {
                    "object": obj,
                    "name": colleague.get_full_name() or colleague.email,
                    "days": data["days"],
                },
            )
            if done:
                return HttpResponseRedirect(self._object_url(obj))
        return self._page(
            request,
            obj,
            form,
            title=_("Share %(object)s with a colleague") % {"object": obj},
            submit=_("Share"),
            intro=_("The colleague sees it until the time is up or the grant is revoked."),
        )


class DisputeMixin(ObjectPagesMixin):
    """On an order: open a dispute and hand it to customer service; close it."""

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/dispute/",
                wrap(self.dispute_open_view),
                name=f"{prefix}_dispute_open",
            ),
            path(
                "<path:object_id>/dispute/close/",
                wrap(self.dispute_close_view),
                name=f"{prefix}_dispute_close",
            ),
            *super().get_urls(),
        ]

    def _order_actions(self, request, order):
        actions = super()._order_actions(request, order)
        open_dispute = disputes.dispute_open_for(order.pk)

        def add(name, label):
            url = reverse(
                f"admin:orders_order_{name}",
                args=[quote(order.pk)],
                current_app=self.admin_site.name,
            )
            actions.append({"name": name, "label": label, "url": url})

        if open_dispute is None and self._may_open_dispute(request, order):
            add("dispute_open", _("Dispute: hand to customer service"))
        if open_dispute is not None:
            add("dispute_close", _("Close the dispute"))
        if self._owns(request, order):
            add("share", _("Share with a colleague"))
        return actions

    def _may_open_dispute(self, request, order) -> bool:
        return (
            order.state in states.PAID_STATES
            and order.state != OrderState.REFUNDED
            and self._owns(request, order)
        )

    def dispute_open_view(self, request, object_id):
        order = self._scoped_object(request, object_id)
        if not self._owns(request, order):
            raise PermissionDenied
        form = DisputeOpenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            opened = self._attempt(
                request,
                lambda: disputes.dispute_open(
                    order_id=order.pk,
                    by=request.user,
                    handed_to=data["handed_to"],
                    reason=data["reason"],
                ),
                done=_("Order %(number)s is disputed and handed to %(name)s.")
                % {
                    "number": order.number,
                    "name": data["handed_to"].get_full_name() or data["handed_to"].email,
                },
            )
            if opened:
                return HttpResponseRedirect(self._object_url(order))
        return self._page(
            request,
            order,
            form,
            title=_("Hand order %(number)s to customer service") % {"number": order.number},
            submit=_("Mark disputed and hand over"),
            intro=_(
                "The colleague sees this order, and only it, until the dispute is closed. "
                "The hand-over is written to the order's history."
            ),
        )

    def dispute_close_view(self, request, object_id):
        order = self._scoped_object(request, object_id)
        dispute = disputes.dispute_open_for(order.pk)
        if dispute is None:
            self.message_user(request, _("This order has no open dispute."), messages.WARNING)
            return HttpResponseRedirect(self._object_url(order))
        form = DisputeCloseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            closed = self._attempt(
                request,
                lambda: disputes.dispute_close(
                    dispute_id=dispute.pk,
                    by=request.user,
                    resolution=form.cleaned_data["resolution"],
                ),
                done=_("The dispute on order %(number)s is closed.") % {"number": order.number},
            )
            if closed:
                # Customer service may no longer see the order: back to the list.
                return HttpResponseRedirect(
                    reverse("admin:orders_order_changelist", current_app=self.admin_site.name)
                )
        return self._page(
            request,
            order,
            form,
            title=_("Close the dispute on order %(number)s") % {"number": order.number},
            submit=_("Close the dispute"),
            intro=dispute.reason,
        )


class TransferMixin(ObjectPagesMixin):
    """On distributors: transfer the selected customers (an action) or all of one
    salesperson's (a page), for whoever holds the model's change permission and sees every
    distributor (manager, super admin)."""

    def get_urls(self):
        return [
            path(
                "transfer/",
                self.admin_site.admin_view(self.transfer_all_view),
                name="members_distributor_transfer",
            ),
            *super().get_urls(),
        ]

    def may_transfer(self, request) -> bool:
        return request.user.has_perm("members.change_distributor") and not (
            sales_scope(request) or handover_scope(request)
        )

    def has_transfer_permission(self, request) -> bool:
        return self.may_transfer(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_transfer": self.may_transfer(request)}
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Transfer selected customers"), permissions=["transfer"])
    def transfer_selected(self, request, queryset):
        form = TransferForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            moved = []
            done = self._attempt(
                request,
                lambda: moved.extend(
                    services.owners_transfer(
                        queryset.values_list("pk", flat=True),
                        to_owner=data["to_owner"],
                        by=request.user,
                        reason=data["reason"],
                    )
                ),
                done=_("Transfer done."),
            )
            if done:
                self.message_user(request, _transferred(len(moved)), messages.INFO)
                return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Transfer customers"),
            "form": form,
            "queryset": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/staff/transfer_selected.html", context)

    def transfer_all_view(self, request):
        if not self.may_transfer(request):
            raise PermissionDenied
        form = TransferAllForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            ids = Distributor.objects.filter(owner=data["from_owner"]).values_list("pk", flat=True)
            moved = []
            done = self._attempt(
                request,
                lambda: moved.extend(
                    services.owners_transfer(
                        ids, to_owner=data["to_owner"], by=request.user, reason=data["reason"]
                    )
                ),
                done=_transferred(0) if not ids else _("Transfer done."),
            )
            if done:
                self.message_user(request, _transferred(len(moved)), messages.INFO)
                return HttpResponseRedirect(
                    reverse(
                        "admin:members_distributor_changelist", current_app=self.admin_site.name
                    )
                )
        return self._page(
            request,
            None,
            form,
            title=_("Transfer all customers of a salesperson"),
            submit=_("Transfer"),
            intro=_(
                "Every distributor of the first salesperson, with their orders, goes to the "
                "second; each one gets a line in its ownership history."
            ),
        )


def _transferred(count: int) -> str:
    return ngettext(
        "%(count)d customer changed salesperson.",
        "%(count)d customers changed salesperson.",
        count,
    ) % {"count": count}


class CsvExportMixin:
    """An "Export as CSV" action over the rows the user may see (the scoped queryset). The
    admin names `csv_filename`, `csv_columns` and a `csv_rows(queryset)` giving one sequence of
    cells per row."""

    csv_filename = "export.csv"
    csv_columns: tuple = ()

    @admin.action(description=_("Export selected as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return csv_response(
            self.csv_filename, [str(label) for label in self.csv_columns], self.csv_rows(queryset)
        )


class OwnershipChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    """A distributor's ownership history, newest first."""

    model = OwnershipChange
    fields = ("created_at", "from_owner", "to_owner", "source", "by", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("ownership history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_owner", "to_owner", "by")


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdminMixin, OwnCustomersMixin, admin.ModelAdmin):
    """Disputes, read-only here: they are opened and closed on the order's page. Manager and
    finance see all; a salesperson those on their customers' orders; customer service those
    handed to them."""

    owner_path = "order__member__distributor__owner"
    list_display = ("order", "state", "opened_by", "handled_by", "opened_at", "closed_at")
    list_filter = ("state", "handled_by")
    search_fields = ("order__number", "reason", "resolution")
    date_hierarchy = "opened_at"
    list_select_related = ("order", "opened_by", "handled_by")

    def scope_filter(self, request):
        visible = super().scope_filter(request)
        if handover_scope(request):
            visible |= Q(handled_by=request.user)
        return visible


@admin.register(AccessGrant)
class AccessGrantAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Hand-overs and shares. The manager and super admin see all and may revoke any; anyone
    else sees the grants they gave or received and may revoke the ones they gave."""

    list_display = (
        "content_object_label",
        "kind",
        "granted_to",
        "granted_by",
        "created_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("kind", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("granted_to", "granted_by", "content_type")
    actions = ("revoke",)

    def _sees_all(self, request) -> bool:
        return request.user.has_perm("staff.view_accessgrant")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not self._sees_all(request):
            user = request.user
            queryset = queryset.filter(Q(granted_by=user) | Q(granted_to=user))
        return queryset

    def has_module_permission(self, request):
        return self._sees_all(request) or sales_scope(request) or handover_scope(request)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        if not self._sees_all(request):
            raise Http404(_("Not found."))
        return super()._get_obj_does_not_exist_redirect(request, opts, object_id)

    def has_view_permission(self, request, obj=None):
        if self._sees_all(request):
            return True
        if not (sales_scope(request) or handover_scope(request)):
            return False
        return obj is None or request.user.pk in (obj.granted_by_id, obj.granted_to_id)

    def has_revoke_permission(self, request) -> bool:
        return self.has_view_permission(request)

    @admin.display(description=_("object"))
    def content_object_label(self, grant):
        return f"{grant.content_type.name} #{grant.object_id}"

    @admin.action(description=_("Revoke selected grants"), permissions=["revoke"])
    def revoke(self, request, queryset):
        if not self._sees_all(request):
            queryset = queryset.filter(granted_by=request.user)
        revoked = 0
        for grant in queryset.filter(revoked_at__isnull=True).order_by("pk"):
            access_revoke(grant, by=request.user)
            revoked += 1
        self.message_user(
            request,
            ngettext("%(count)d grant revoked.", "%(count)d grants revoked.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )
