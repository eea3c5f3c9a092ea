from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from wholesale.admin import ReadOnlyAdminMixin, ScopedCountryFilter

from .admin_levels import LevelChangeInline
from .models import ADDRESS_FIELDS, Address, Distributor, User
from .services import distributor_set_status


def _clean_unique_email(form) -> str:
    """Emails are logins: stored lower-case and unique whatever the case typed."""
    email = User.objects.normalize_email(form.cleaned_data["email"]).lower()
    others = User.objects.filter(email__iexact=email)
    if form.instance.pk:
        others = others.exclude(pk=form.instance.pk)
    if others.exists():
        raise ValidationError(_("A user with this email address already exists."))
    return email


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self):
        return _clean_unique_email(self)


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self):
        return _clean_unique_email(self)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin for a model whose login is the email address (no username)."""

    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_active", "is_superuser", "groups")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")


@admin.register(Distributor)
class DistributorAdmin(admin.ModelAdmin):
    list_display = (
        "company_name",
        "user_email",
        "country",
        "business_type",
        "grade",
        "buyer_type",
        "status",
        "created_at",
    )
    list_filter = (
        "status",
        "grade",
        "buyer_type",
        "business_type",
        ("country", ScopedCountryFilter),
        "created_at",
    )
    search_fields = ("company_name", "user__email", "phone")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    autocomplete_fields = ("user",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ("approve", "reject")
    inlines = (LevelChangeInline,)
    fieldsets = (
        (None, {"fields": ("user", "company_name", "contact_name", "country", "business_type")}),
        (_("Contact"), {"fields": ("phone", "website", "tax_number")}),
        # Set by the owning salesperson as they get to know the customer (seed 003).
        (_("Grading"), {"fields": ("grade", "buyer_type")}),
        (
            _("Approval"),
            {"fields": ("status", "status_changed_at", "status_changed_by")},
        ),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    # Status changes only through the actions, which go through distributor_set_status so the
    # change is stamped with who and when, and the distributor gets the approval email.
    readonly_fields = (
        "status",
        "status_changed_at",
        "status_changed_by",
        "created_at",
        "updated_at",
    )

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "user") if obj is not None else fields

    def save_model(self, request, obj, form, change):
        if not change:
            # A distributor that staff enter by hand starts approved, stamped with who did it.
            obj.status_changed_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("email"), ordering="user__email")
    def user_email(self, obj):
        return obj.user.email

    def _set_status(self, request, queryset, status):
        changed = 0
        for distributor in queryset.exclude(status=status).order_by("pk"):
            distributor_set_status(distributor=distributor, status=status, by=request.user)
            changed += 1
        return changed

    @admin.action(description=_("Approve selected distributors"), permissions=["change"])
    def approve(self, request, queryset):
        changed = self._set_status(request, queryset, Distributor.Status.APPROVED)
        self.message_user(
            request,
            ngettext(
                "%(count)d distributor approved and told by email.",
                "%(count)d distributors approved and told by email.",
                changed,
            )
            % {"count": changed},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reject selected distributors"), permissions=["change"])
    def reject(self, request, queryset):
        changed = self._set_status(request, queryset, Distributor.Status.REJECTED)
        self.message_user(
            request,
            ngettext(
                "%(count)d distributor rejected.",
                "%(count)d distributors rejected.",
                changed,
            )
            % {"count": changed},
            messages.SUCCESS,
        )


@admin.register(Address)
class AddressAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Buyers' address books, for staff to look up where a buyer ships; buyers edit them on
    their account pages, and orders keep their own copy, so nothing is changed here."""

    list_display = (
        "name",
        "member",
        "company",
        "city",
        "country",
        "is_end_customer",
        "is_default",
        "updated_at",
    )
    list_filter = ("is_end_customer", "is_default", ("country", ScopedCountryFilter))
    search_fields = ("name", "company", "city", "postal_code", "phone", "member__email")
    list_select_related = ("member",)
    ordering = ("-updated_at", "-pk")
    fields = ("member", *ADDRESS_FIELDS, "is_default", "created_at", "updated_at")
    readonly_fields = fields


from . import (  # noqa: E402  (the admins below register themselves on import)
    admin_points,  # noqa: F401  (registers the points admins)
    admin_subscriptions,  # noqa: F401  (registers SubscriptionAdmin)
)
