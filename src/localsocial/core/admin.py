from django.contrib import admin

from localsocial.core.admin_site import SiteAdminPermissionsMixin
from localsocial.core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(SiteAdminPermissionsMixin, admin.ModelAdmin):
    """Read-only: the audit log is never edited, even by administrators."""

    list_display = ["created_at", "actor_label", "action", "target_type", "target_label"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_label", "target_label", "action", "request_id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
