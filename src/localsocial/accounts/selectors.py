"""Reads about people and their roles."""

from __future__ import annotations

from typing import Any


def user_requires_two_factor(*, user: Any) -> bool:
    """True for anyone who holds a role beyond member of the public: organisation staff,
    moderators, coordinators, facilitators and administrators."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.site_roles():
        return True
    cached = getattr(user, "_is_org_staff_cache", None)
    if cached is None:
        from localsocial.directory.models import OrganisationMembership

        cached = OrganisationMembership.objects.filter(user=user).exists()
        user._is_org_staff_cache = cached
    return bool(cached)
