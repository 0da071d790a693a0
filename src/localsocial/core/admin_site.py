"""The Django admin is for site administrators only, and every change there is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from localsocial.core.page_cache import all_pages_changed
from localsocial.core.services import audit_record


def restrict_admin_to_site_administrators(site: admin.AdminSite) -> None:
    def has_permission(request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active
            and getattr(user, "is_site_admin", False)
            and user.is_verified()  # type: ignore[union-attr,attr-defined]
        )

    def login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # The admin has no password form of its own: signing in happens on the rate-limited
        # sign-in page (then two-step verification); anyone else signed in is refused.
        from django.contrib.auth.views import redirect_to_login
        from django.core.exceptions import PermissionDenied
        from django.shortcuts import redirect

        from localsocial.core.views import safe_next

        if not request.user.is_authenticated:
            return redirect_to_login(safe_next(request, fallback=site_index()))
        if has_permission(request):
            return redirect(safe_next(request, fallback=site_index()))
        raise PermissionDenied

    def site_index() -> str:
        from django.urls import reverse

        return reverse("admin:index", current_app=site.name)

    site.has_permission = has_permission  # type: ignore[method-assign]
    site.login = login  # type: ignore[method-assign,assignment]
    site.site_header = "Local Social administration"
    site.site_title = "Local Social administration"
    site.index_title = "Site administration"


def _is_site_admin(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_site_admin", False))


class SiteAdminPermissionsMixin:
    """Site administrators (a role, not only Django superusers) may use every admin page.

    A subclass that forbids something (deleting people, editing the audit log) overrides the
    method and returns False."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_site_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_site_admin(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return _is_site_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_site_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_site_admin(request)


class AuditedModelAdmin(SiteAdminPermissionsMixin, admin.ModelAdmin):
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
        )
        all_pages_changed()  # the admin knows nothing of the cached pages' groups

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(actor=request.user, action="admin.delete", target=obj)
        super().delete_model(request, obj)
        all_pages_changed()

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            audit_record(actor=request.user, action="admin.delete", target=obj)
        super().delete_queryset(request, queryset)
        all_pages_changed()
