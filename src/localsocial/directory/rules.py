"""Who may do what to which organisation, as ``rules`` predicates.

``directory.manage_staff`` on an Organisation: its administrators, the administrators of any
organisation above it (a role applies to the whole subtree), and site administrators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import rules

from localsocial.directory.models import Organisation, OrganisationMembership, StaffRole

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User


@rules.predicate
def is_site_admin(user: User | AnonymousUser) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_site_admin)


@rules.predicate
def is_organisation_administrator(user: User | AnonymousUser, organisation: Organisation | None) -> bool:
    """An administrator of this organisation or of one above it: one indexed query, because
    the ids of every organisation above are in this one's path."""
    if organisation is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return OrganisationMembership.objects.filter(
        user=user, role=StaffRole.ADMINISTRATOR, organisation_id__in=organisation.lineage_ids
    ).exists()


can_manage_staff = is_site_admin | is_organisation_administrator

rules.add_perm("directory.manage_staff", can_manage_staff)
rules.add_perm("directory.import_directory", is_site_admin)
