"""Admin for points: the rules (super admin only), the ledger (read-only for those who may
see it) and the super admin's adjustment page."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from wholesale.admin import ReadOnlyAdminMixin
from wholesale.singleton_admin import SuperuserSingletonAdmin

from .models import PointsEntry, PointsRules, User
from .points import points_adjust, points_balance


@admin.register(PointsRules)
class PointsRulesAdmin(SuperuserSingletonAdmin):
    fields = [
        "points_per_unit",
        "point_value",
        "min_redeem",
        "max_redeem_percent",
        "expiry_days",
        "updated_at",
        "updated_by",
    ]
    readonly_fields = ["updated_at", "updated_by"]


class AdjustForm(forms.Form):
    email = forms.EmailField(label=_("Member's email"))
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text=_("Positive to add, negative to take away."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def clean_email(self):
        member = User.objects.filter(email__iexact=self.cleaned_data["email"]).first()
        if member is None:
            raise ValidationError(_("No member has this email address."))
        self.member = member
        return member.email


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The ledger, newest first. Corrections are new entries, made on the adjustment page."""

    list_display = ["created_at", "member", "kind", "points", "order_number", "reason", "by"]
    list_filter = ["kind", "created_at"]
    search_fields = ["member__email", "order_number", "reason"]
    list_select_related = ["member", "by"]
    date_hierarchy = "created_at"

    def get_urls(self):
        return [
            path(
                "adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="members_pointsentry_adjust",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_adjust": request.user.is_superuser}
        return super().changelist_view(request, extra_context)

    def adjust_view(self, request):
        if not request.user.is_superuser:
            raise PermissionDenied
        form = AdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                points_adjust(
                    member=form.member,
                    points=form.cleaned_data["points"],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as refused:
                for reason in refused.messages:
                    self.message_user(request, reason, messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(email)s now holds %(balance)d points.")
                    % {"email": form.member.email, "balance": points_balance(form.member)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:members_pointsentry_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "title": _("Adjust a member's points"),
            "form": form,
            "submit_label": _("Adjust"),
            "intro": _("The adjustment is a new ledger entry with your name and the reason."),
            "object": None,
            "change_url": None,
        }
        return TemplateResponse(request, "admin/staff/object_action.html", context)
