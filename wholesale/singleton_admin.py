"""The admin of a settings row only the super admin edits (one row, pk 1): every permission
is the superuser's, there is nothing to add once the row exists and nothing to delete, and the
list goes straight to the row (or to the form that makes it)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse

from .singleton import SINGLETON_PK


def _is_superuser(request) -> bool:
    user = request.user
    return user.is_active and user.is_superuser


class SuperuserOnlyAdmin(admin.ModelAdmin):
    """An admin only the super admin may see and use, whatever the staff roles grant."""

    def has_module_permission(self, request):
        return _is_superuser(request)

    def has_view_permission(self, request, obj=None):
        return _is_superuser(request)

    def has_change_permission(self, request, obj=None):
        return _is_superuser(request)

    def has_add_permission(self, request):
        return _is_superuser(request)

    def has_delete_permission(self, request, obj=None):
        return _is_superuser(request)


class SuperuserSingletonAdmin(SuperuserOnlyAdmin):
    """The admin of a one-row settings model with an ``updated_by`` field."""

    def has_add_permission(self, request):
        return (
            _is_superuser(request)
            and not self.model._default_manager.filter(pk=SINGLETON_PK).exists()
        )

    def has_delete_permission(self, request, obj=None):
        return False

    def get_model_perms(self, request):
        # What the admin index and every page's sidebar ask: no "Add" link there (the list
        # leads to the add form while there is no row), so no query on every admin page.
        allowed = _is_superuser(request)
        return {"add": False, "change": allowed, "delete": False, "view": allowed}

    def changelist_view(self, request, extra_context=None):
        if not _is_superuser(request):
            raise PermissionDenied
        opts = self.model._meta
        if self.model._default_manager.filter(pk=SINGLETON_PK).exists():
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[SINGLETON_PK])
        else:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        return HttpResponseRedirect(url)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        # Always the one row: an add that raced another one (two tabs) updates it, since a
        # save with a primary key and no default tries an UPDATE first.
        obj.pk = SINGLETON_PK
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
