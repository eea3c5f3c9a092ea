class ReadOnlyAdminMixin:
    """For ledgers and snapshots: staff may look, nobody adds, edits or deletes in the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
