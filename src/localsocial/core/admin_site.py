"""The Django admin is for site administrators only, and every change there is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from localsocial.core.services import audit_record


def restrict_admin_to_site_administrators(site: admin.AdminSite) -> None:
    def has_permission(request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active
            and getattr(user, "is_site_admin", False)
            and user.is_verified()  # type: ignore[union-attr]
        )

    site.has_permission = has_permission  # type: ignore[method-assign]
    site.site_header = "Local Social administration"
    site.site_title = "Local Social administration"
    site.index_title = "Site administration"


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose additions, changes and deletions go to the audit log."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = {name: form.initial.get(name) for name in form.changed_data} if change else {}
        super().save_model(request, obj, form, change)
        after = {name: form.cleaned_data.get(name) for name in form.changed_data}
        audit_record(
            actor=request.user,
            action=f"admin.{'change' if change else 'add'}",
            target=obj,
            before=before,
            after=after,
            request=request,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(actor=request.user, action="admin.delete", target=obj, request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            audit_record(actor=request.user, action="admin.delete", target=obj, request=request)
        super().delete_queryset(request, queryset)
