"""People and site roles in the Django admin (site administrators with a verified session only;
see ``core.admin_site``).  Every change is audited.  Accounts are never deleted here: erasing
one pseudonymises it (``services.user_erase``) so that what the person wrote stays valid."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from localsocial.accounts import services
from localsocial.accounts.models import RoleGrant, User
from localsocial.core.admin_site import AuditedModelAdmin


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    fk_name = "user"
    extra = 0
    fields = ["role", "granted_by", "granted_at"]
    readonly_fields = ["role", "granted_by", "granted_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Roles are given on the "People and roles" page, which audits and emails the person.
        return False


@admin.register(User)
class UserAdmin(AuditedModelAdmin):
    list_display = ["email", "display_name", "email_verified_at", "date_joined", "last_login", "erased_at"]
    list_filter = ["is_active", "is_superuser"]
    search_fields = ["email", "display_name"]
    ordering = ["email"]
    date_hierarchy = "date_joined"
    fields = [
        "email", "display_name", "preferred_language", "is_active", "email_verified_at",
        "date_joined", "last_login", "erased_at", "is_superuser",
    ]
    readonly_fields = ["email_verified_at", "date_joined", "last_login", "erased_at", "is_superuser"]
    inlines = [RoleGrantInline]
    actions = ["erase_accounts"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # People sign up themselves (or are invited by staff); an admin-made account would
        # have no confirmed address and no password.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Erase the selected accounts (cannot be undone)"))
    def erase_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = request.user
        assert isinstance(actor, User)
        erased = 0
        for user in queryset.filter(erased_at__isnull=True):
            if user.pk == actor.pk:
                continue
            services.user_erase(user=user, actor=actor)
            erased += 1
        self.message_user(request, _("%(count)d accounts erased.") % {"count": erased}, messages.SUCCESS)


@admin.register(RoleGrant)
class RoleGrantAdmin(AuditedModelAdmin):
    """Read-only list of who holds which site role; changes go through the "People and roles"
    page so that they are checked (never the last site administrator), audited and emailed."""

    list_display = ["user", "role", "granted_by", "granted_at"]
    list_filter = ["role"]
    search_fields = ["user__email"]
    list_select_related = ["user", "granted_by"]
    readonly_fields = ["user", "role", "granted_by", "granted_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
