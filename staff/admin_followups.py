"""Follow-up emails in the admin: the templates (edited by the manager, read by sales and
customer service), the page that sends one from an order, and the list of those sent.

Who may send: whoever may see the order in the scoped admin (a salesperson their customers'
orders, customer service what was handed to them, manager, super admin) and holds
`staff.view_followuptemplate`; finance does not.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from orders.admin import OrderPartInline
from wholesale.admin import ReadOnlyAdminMixin

from .followups import (
    MERGE_FIELDS,
    followup_fill,
    followup_send,
    merge_fields_error,
    merge_fields_unknown,
)
from .models import FollowUpSent, FollowUpTemplate

FOLLOWUP_PERMISSION = "staff.view_followuptemplate"

MERGE_FIELD_HELP = format_lazy(
    "{} {}",
    _("Merge fields, filled in for each order:"),
    " ".join(f"{{{name}}}" for name in MERGE_FIELDS),
)


def _clean_merge_fields(text: str) -> str:
    unknown = merge_fields_unknown(text)
    if unknown:
        raise ValidationError(merge_fields_error(unknown), code="merge_field")
    return text


# --- The templates ------------------------------------------------------------------------


class FollowUpTemplateForm(forms.ModelForm):
    class Meta:
        model = FollowUpTemplate
        fields = ["step", "name", "subject", "body", "position", "is_active"]
        help_texts = {"subject": MERGE_FIELD_HELP, "body": MERGE_FIELD_HELP}

    def clean_subject(self):
        return _clean_merge_fields(self.cleaned_data["subject"])

    def clean_body(self):
        return _clean_merge_fields(self.cleaned_data["body"])


@admin.register(FollowUpTemplate)
class FollowUpTemplateAdmin(admin.ModelAdmin):
    form = FollowUpTemplateForm
    list_display = ["name", "step", "subject", "position", "is_active", "updated_at"]
    list_filter = ["step", "is_active"]
    search_fields = ["name", "subject", "body"]
    ordering = ["position", "pk"]


@admin.register(FollowUpSent)
class FollowUpSentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every follow-up sent, for those holding the view permission (manager, finance); a
    salesperson sees their own on their orders' pages."""

    list_display = ["sent_at", "order", "subject", "to_email", "template", "sent_by"]
    list_filter = [("template", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["order__number", "to_email", "subject"]
    list_select_related = ["order", "template", "sent_by"]
    date_hierarchy = "sent_at"
    ordering = ["-sent_at", "-pk"]
    fields = ["sent_at", "order", "template", "sent_by", "to_email", "subject", "body"]
    readonly_fields = fields


# --- On the order's page ------------------------------------------------------------------


class FollowUpSentInline(OrderPartInline):
    """The follow-ups sent about the order, as they went out."""

    model = FollowUpSent
    fields = ["sent_at", "template", "sent_by", "to_email", "subject", "body"]
    verbose_name_plural = _("follow-ups sent")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("template", "sent_by")


class FollowUpPickForm(forms.Form):
    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=FollowUpTemplate.objects.filter(is_active=True),
        empty_label=_("Choose a template"),
    )


class FollowUpForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=FollowUpTemplate.objects.filter(is_active=True), widget=forms.HiddenInput
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, help_text=MERGE_FIELD_HELP)
    body = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 16}), help_text=MERGE_FIELD_HELP
    )

    def clean_subject(self):
        return _clean_merge_fields(self.cleaned_data["subject"])

    def clean_body(self):
        return _clean_merge_fields(self.cleaned_data["body"])


class OrderFollowUpMixin:
    """For the order admin: the page `<order>/follow-up/`, where staff pick a template, see it
    filled in for the order, edit it and send it; and its button on the order's page."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_followup"
        return [
            path(
                "<path:object_id>/follow-up/",
                self.admin_site.admin_view(self.followup_view),
                name=name,
            ),
            *super().get_urls(),
        ]

    def _order_actions(self, request, order):
        actions = super()._order_actions(request, order)
        if request.user.has_perm(FOLLOWUP_PERMISSION):
            url = reverse(
                "admin:orders_order_followup",
                args=[quote(order.pk)],
                current_app=self.admin_site.name,
            )
            action = {"name": "followup", "label": _("Send follow-up"), "url": url}
            # Before the packing slip, which opens in a new tab and stays last.
            at = next(
                (i for i, a in enumerate(actions) if a["name"] == "packing_slip"), len(actions)
            )
            actions.insert(at, action)
        return actions

    def followup_view(self, request, object_id):
        # 403 without the permission, 404 for an order outside the user's scope.
        order = self._order_for(request, object_id, FOLLOWUP_PERMISSION)
        pick = FollowUpPickForm(request.GET if "template" in request.GET else None)
        form = None
        if request.method == "POST":
            form = FollowUpForm(request.POST)
            if form.is_valid() and "_preview" not in request.POST:
                data = form.cleaned_data
                try:
                    followup_send(
                        order=order,
                        template=data["template"],
                        subject=data["subject"],
                        body=data["body"],
                        by=request.user,
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    self.message_user(
                        request,
                        _("Follow-up “%(name)s” sent to %(email)s.")
                        % {"name": data["template"].name, "email": order.email},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(self._change_url(order))
            if form.is_valid():
                pick = FollowUpPickForm(initial={"template": form.cleaned_data["template"]})
        elif pick.is_valid():
            template = pick.cleaned_data["template"]
            # Bound, so that a template saved with a bad merge field shows the error at once.
            form = FollowUpForm(
                {"template": template.pk, "subject": template.subject, "body": template.body}
            )
        preview = None
        if form is not None and form.is_valid():
            try:
                preview = followup_fill(
                    order, subject=form.cleaned_data["subject"], body=form.cleaned_data["body"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "title": _("Send a follow-up about order %(number)s") % {"number": order.number},
            "order": order,
            "pick": pick,
            "form": form,
            "preview": preview,
            "change_url": self._change_url(order),
        }
        return TemplateResponse(request, "admin/staff/followup_send.html", context)
