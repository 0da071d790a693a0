"""Who may do what with people's accounts and roles: predicates and permissions (``rules``).

Predicates take the person acting (and sometimes the person acted upon).  Other modules use the
role predicates in their own rules, e.g. ``is_moderator`` for the stories moderation queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

import rules

from localsocial.accounts.models import SiteRole, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def _active(user: User | AnonymousUser) -> TypeGuard[User]:
    """Signed in, active and not erased (so a ``User``, never the visitor)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and getattr(user, "erased_at", None) is None
    )


@rules.predicate
def is_site_admin(user: User | AnonymousUser) -> bool:
    return _active(user) and bool(user.is_site_admin)


@rules.predicate
def is_moderator(user: User | AnonymousUser) -> bool:
    """Moderators, and site administrators, who may do anything a moderator may."""
    return _active(user) and (user.has_site_role(SiteRole.MODERATOR) or user.is_site_admin)


@rules.predicate
def is_circle_coordinator(user: User | AnonymousUser) -> bool:
    return _active(user) and (user.has_site_role(SiteRole.CIRCLE_COORDINATOR) or user.is_site_admin)


@rules.predicate
def is_community_facilitator(user: User | AnonymousUser) -> bool:
    return _active(user) and (
        user.has_site_role(SiteRole.COMMUNITY_FACILITATOR) or user.is_site_admin
    )


@rules.predicate
def is_organisation_staff(user: User | AnonymousUser) -> bool:
    """Works for at least one organisation in the directory, in any role."""
    if not _active(user):
        return False
    from localsocial.accounts.selectors import user_is_organisation_staff

    return user_is_organisation_staff(user=user)


@rules.predicate
def is_self(user: User | AnonymousUser, target: Any) -> bool:
    return _active(user) and target is not None and getattr(target, "pk", None) == user.pk


@rules.predicate
def target_is_erased(user: User | AnonymousUser, target: Any) -> bool:
    return target is not None and getattr(target, "erased_at", None) is not None


# Site roles are given and taken away by site administrators only.
rules.add_perm("accounts.grant_role", is_site_admin)
rules.add_perm("accounts.revoke_role", is_site_admin)
# Looking people up by email address is for site administrators.
rules.add_perm("accounts.view_people", is_site_admin)
# Resetting someone's two-step verification: a site administrator, for somebody else (for
# themselves they use their own account page, which needs a code first).
rules.add_perm("accounts.reset_two_factor", is_site_admin & ~is_self & ~target_is_erased)
# Erasing an account: its owner, or a site administrator.
rules.add_perm("accounts.erase_user", (is_self | is_site_admin) & ~target_is_erased)
# Downloading someone's data: its owner only.
rules.add_perm("accounts.export_data", is_self)

# The Django admin checks model permissions too: site administrators may look at accounts and
# roles there and edit account details (every change audited; roles change on the People page).
rules.add_perm("accounts.view_user", is_site_admin)
rules.add_perm("accounts.change_user", is_site_admin)
rules.add_perm("accounts.view_rolegrant", is_site_admin)
