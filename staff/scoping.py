"""Role and ownership scoping for the admin.

Sales and customer service hold no model permission on what they may see only in part
(staff.roles): a model permission opens every object. Their admins are scoped instead:

- a salesperson (marker `staff.see_own_customers`) sees the objects of the customers they own;
- customer service (marker `staff.see_handed_over`) sees what was handed over to them;
- either sees, besides, what a colleague shared with them (staff.grants).

The same queryset feeds the changelist, its search, filters and date hierarchy, the
autocomplete endpoint, actions and exports, and object pages (the admin's `get_object` goes
through `get_queryset`), so an object outside the scope is a 404 everywhere. Whoever holds the
model's view permission (manager, finance, the super admin) sees everything.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from . import roles
from .grants import granted


def sales_scope(request) -> bool:
    """Whether the request's user sees only their own customers: the sales role's marker
    permission, read from the permission cache the admin has loaded anyway (no query)."""
    user = request.user
    return user.is_active and not user.is_superuser and user.has_perm(roles.SEES_OWN_CUSTOMERS)


def handover_scope(request) -> bool:
    """Whether the request's user sees only what was handed over to them (customer service)."""
    user = request.user
    return user.is_active and not user.is_superuser and user.has_perm(roles.SEES_HANDED_OVER)


def scoped(request) -> bool:
    """Whether the request's user is one whose admin is scoped per object."""
    return sales_scope(request) or handover_scope(request)


class OwnCustomersMixin:
    """Admin scoping by owner and grants.

    `owner_path`: the lookup from the model to the owning salesperson (None when the model
    has no owner, e.g. only grants open it). `scoped_may_change`: whether a scoped user edits
    the objects they see (salespeople their own distributors, say); `None` means never.
    """

    owner_path: str | None = "owner"
    scoped_may_change = False
    # Whether customer service reaches this admin at all (for what was handed over to them).
    handover_visible = True

    def _model_view_perm(self) -> str:
        return f"{self.opts.app_label}.view_{self.opts.model_name}"

    def _scoped(self, request) -> bool:
        applies = scoped(request) if self.handover_visible else sales_scope(request)
        return applies and not request.user.has_perm(self._model_view_perm())

    def scope_filter(self, request) -> Q:
        """What a scoped user sees: their own (sales) plus what was granted to them."""
        user = request.user
        visible = Q(pk__in=granted(user, self.model).values("pk"))
        if self.owner_path and sales_scope(request):
            visible |= Q(**{self.owner_path: user})
        return visible

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self._scoped(request):
            queryset = queryset.filter(self.scope_filter(request))
        return queryset

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index with "doesn't exist"; for a scoped user an object
        # outside the scope is simply not found (RELIABILITY A3), whether or not it exists.
        if self._scoped(request):
            raise Http404(_("Not found."))
        return super()._get_obj_does_not_exist_redirect(request, opts, object_id)

    def _is_visible(self, request, obj) -> bool:
        """Whether `obj` is in the user's scope; asked once per object and request (a change
        page asks the permissions many times over: buttons, inlines, fields)."""
        if obj is None:
            return True
        seen = request.__dict__.setdefault("_scope_visible", {})
        key = (self.opts.label_lower, obj.pk)
        if key not in seen:
            seen[key] = self.get_queryset(request).filter(pk=obj.pk).exists()
        return seen[key]

    def has_module_permission(self, request):
        return super().has_module_permission(request) or self._scoped(request)

    def has_view_permission(self, request, obj=None):
        if super().has_view_permission(request, obj):
            return True
        return self._scoped(request) and self._is_visible(request, obj)

    def has_change_permission(self, request, obj=None):
        if super().has_change_permission(request, obj):
            return True
        return self.scoped_may_change and self._scoped(request) and self._is_visible(request, obj)


def visible_with_parent(inline):
    """An inline shown to scoped users wherever its parent page is: the parent's page is
    scoped already, so they only ever reach the parts of objects they may see."""

    class Inline(inline):
        def has_view_permission(self, request, obj=None):
            return super().has_view_permission(request, obj) or scoped(request)

    Inline.__name__ = inline.__name__
    return Inline
