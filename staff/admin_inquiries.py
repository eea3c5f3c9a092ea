"""Inquiries and buyer messages in the admin.

Scoped like the customers (staff.scoping): a salesperson sees the conversations they own,
customer service those handed over to them, the manager and the super admin all of them. The
conversation is read-only on the object's page, with a reply form under it (and a close
button); both post to pages of this admin that call staff.inquiries. Only the manager and the
super admin change the salesperson, through `inquiry_reassign`, which records it in the
object's history.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404, HttpResponseRedirect
from django.template.defaultfilters import linebreaksbr
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .admin_access import ShareMixin
from .inquiries import (
    duration_text,
    inquiry_close,
    inquiry_reassign,
    inquiry_reply,
    reply_times,
    reply_times_by_salesperson,
)
from .inquiry_forms import ReplyForm
from .models import Inquiry, InquiryMessage
from .scoping import OwnCustomersMixin, scoped, visible_with_parent
from .services import salespeople


class InquiryMessageInline(admin.TabularInline):
    """The conversation, oldest first, read-only: messages are written through the reply form."""

    model = InquiryMessage
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["created_at", "sender", "text"]
    readonly_fields = fields
    ordering = ["created_at", "pk"]
    verbose_name = _("message")
    verbose_name_plural = _("conversation")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "inquiry")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("from"))
    def sender(self, message):
        if message.from_staff:
            author = message.author
            name = (author.get_full_name() or author.email) if author else gettext("Staff")
            return format_html("<strong>{}</strong> ({})", name, gettext("staff"))
        return format_html("{} ({})", message.inquiry.name, gettext("customer"))

    @admin.display(description=_("message"))
    def text(self, message):
        return linebreaksbr(message.body, autoescape=True)


class InquiryAdminForm(forms.ModelForm):
    class Meta:
        model = Inquiry
        fields = ["owner"]


@admin.register(Inquiry)
class InquiryAdmin(ShareMixin, OwnCustomersMixin, admin.ModelAdmin):
    owner_path = "owner"
    # The page is read-only for a scoped user; they reply and close through the forms below it.
    scoped_may_change = False
    form = InquiryAdminForm
    list_display = [
        "subject",
        "kind",
        "customer",
        "salesperson",
        "state",
        "created_at",
        "reply_time",
    ]
    list_filter = ["state", "kind", ("owner", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["subject", "name", "email", "company", "messages__body"]
    search_help_text = _("Subject, customer name, email, company or message text")
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    list_per_page = 50
    inlines = [visible_with_parent(InquiryMessageInline)]
    fieldsets = [
        (None, {"fields": ["subject", "kind", "state", "product_link", "owner"]}),
        (
            _("Customer"),
            {"fields": ["name", "email", "company", "country", "phone", "member_link"]},
        ),
        (
            _("Times"),
            {"fields": ["created_at", "first_reply_at", "reply_time", "last_message_at"]},
        ),
    ]
    change_form_template = "admin/staff/inquiry/change_form.html"
    change_list_template = "admin/staff/inquiry/change_list.html"

    # --- who may do what -------------------------------------------------------------------

    def _may_reassign(self, request) -> bool:
        return request.user.has_perm("staff.change_inquiry")

    def _may_reply(self, request) -> bool:
        """Scoped users reply on what they see (the object came through the scoped queryset);
        others need the permission to add messages (the manager, the super admin)."""
        return scoped(request) or request.user.has_perm("staff.add_inquirymessage")

    def _may_close(self, request) -> bool:
        return scoped(request) or request.user.has_perm("staff.change_inquiry")

    def has_add_permission(self, request):
        # Conversations start with a customer, on the shop.
        return False

    def get_readonly_fields(self, request, obj=None):
        fields = [
            "subject",
            "kind",
            "state",
            "product_link",
            "name",
            "email",
            "company",
            "country",
            "phone",
            "member_link",
            "created_at",
            "first_reply_at",
            "reply_time",
            "last_message_at",
        ]
        if not self._may_reassign(request):
            fields.append("salesperson")
        return fields

    def get_fieldsets(self, request, obj=None):
        if self._may_reassign(request):
            return self.fieldsets
        # Shown by name, not as a link to a staff account the viewer may not open.
        return [
            (
                name,
                {
                    **options,
                    "fields": [
                        "salesperson" if field == "owner" else field for field in options["fields"]
                    ],
                },
            )
            for name, options in self.fieldsets
        ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            kwargs["queryset"] = salespeople().order_by("first_name", "last_name", "email")
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- columns ---------------------------------------------------------------------------

    @admin.display(description=_("customer"), ordering="name")
    def customer(self, inquiry):
        if inquiry.company:
            return format_html("{}<br><small>{}</small>", inquiry.name, inquiry.company)
        return inquiry.name

    @admin.display(description=_("salesperson"), ordering="owner__first_name")
    def salesperson(self, inquiry):
        owner = inquiry.owner
        if owner is None:
            return gettext("Unassigned")
        return owner.get_full_name() or owner.email

    @admin.display(
        description=_("time to first reply"), ordering=F("first_reply_at") - F("created_at")
    )
    def reply_time(self, inquiry):
        if inquiry.first_reply_at is not None:
            return duration_text(inquiry.reply_time)
        if inquiry.state == Inquiry.State.CLOSED or inquiry.created_at is None:
            return "–"
        waited = duration_text(timezone.now() - inquiry.created_at)
        return format_html(
            '<span style="color:#b45309">{}</span>',
            gettext("waiting for %(time)s") % {"time": waited},
        )

    @admin.display(description=_("product"))
    def product_link(self, inquiry):
        if inquiry.product_id is None:
            return "–"
        return format_html(
            '<a href="{}">{}</a>', inquiry.product.get_absolute_url(), inquiry.product.name
        )

    @admin.display(description=_("member"))
    def member_link(self, inquiry):
        if inquiry.member_id is None:
            return gettext("A guest (not signed in)")
        return inquiry.member.email

    # --- the history keeps the service's own record ------------------------------------------

    def save_model(self, request, obj, form, change):
        if change and "owner" in form.changed_data:
            inquiry_reassign(
                inquiry_id=obj.pk, to_owner=form.cleaned_data["owner"], by=request.user
            )
            obj._history_written = True

    def log_change(self, request, obj, message):
        # inquiry_reassign wrote the entry, naming who from and who to.
        if getattr(obj, "_history_written", False):
            return None
        return super().log_change(request, obj, message)

    # --- the list's header: time to first reply ----------------------------------------------

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        changelist = context.get("cl")
        if changelist is not None:
            listed = changelist.queryset
            context["reply_summary"] = reply_times(queryset=listed)
            if not self._scoped(request):
                context["reply_rows"] = [
                    (row, duration_text(row.average), duration_text(row.median))
                    for row in reply_times_by_salesperson(queryset=listed)
                ]
            summary = context["reply_summary"]
            context["reply_average"] = duration_text(summary.average)
            context["reply_median"] = duration_text(summary.median)
        return response

    # --- reply and close ---------------------------------------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/reply/", wrap(self.reply_view), name=f"{prefix}_reply"),
            path("<path:object_id>/close/", wrap(self.close_view), name=f"{prefix}_close"),
            *super().get_urls(),
        ]

    def _visible_object(self, request, object_id) -> Inquiry:
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404(gettext("No such inquiry."))
        return obj

    def _change_url(self, obj) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[quote(obj.pk)],
            current_app=self.admin_site.name,
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            prefix = f"admin:{self.opts.app_label}_{self.opts.model_name}"
            may_reply = self._may_reply(request)
            context.update(
                reply_form=ReplyForm() if may_reply else None,
                reply_url=reverse(f"{prefix}_reply", args=[quote(obj.pk)]),
                may_close=self._may_close(request) and obj.state != Inquiry.State.CLOSED,
                close_url=reverse(f"{prefix}_close", args=[quote(obj.pk)]),
                may_share=self._owns(request, obj),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def _refused(request, error: ValidationError):
        for reason in error.messages:
            messages.error(request, reason)

    @method_decorator(require_POST)
    def reply_view(self, request, object_id):
        obj = self._visible_object(request, object_id)
        if not self._may_reply(request):
            raise PermissionDenied
        form = ReplyForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return HttpResponseRedirect(self._change_url(obj))
        try:
            inquiry_reply(inquiry_id=obj.pk, by=request.user, body=form.cleaned_data["message"])
        except ValidationError as error:
            self._refused(request, error)
        else:
            messages.success(
                request,
                gettext("Your reply is sent to %(email)s.") % {"email": obj.email},
            )
        return HttpResponseRedirect(self._change_url(obj))

    @method_decorator(require_POST)
    def close_view(self, request, object_id):
        obj = self._visible_object(request, object_id)
        if not self._may_close(request):
            raise PermissionDenied
        inquiry_close(inquiry_id=obj.pk, by=request.user)
        messages.success(request, gettext("The conversation is closed."))
        return HttpResponseRedirect(self._change_url(obj))
