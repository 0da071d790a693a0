"""Reads shared by every part of the stories module: which organisations a story is about,
who may act for them, and the hash by which secrets are stored and looked up."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from localsocial.directory.models import Organisation, OrganisationMembership, StaffRole, path_ids
from localsocial.stories.models import Story

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User

RESPONDING_ROLES = (StaffRole.RESPONDER, StaffRole.ADMINISTRATOR)


def secret_hash(secret: str) -> str:
    """The SHA-256 stored for a secret (a private link, a follower's link): a row is found by
    the hash of the secret it was given, so the database alone opens nothing."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def story_organisation_ids(*, story: Story) -> set[int]:
    """The organisations a story is about: each service's own and every one above it.  One
    query (the paths carry the ancestors)."""
    ids: set[int] = set()
    for path, org_id in story.story_services.values_list("service__organisation__path", "service__organisation_id"):
        ids.update(path_ids(path) or [org_id])
    return ids


def story_responder_memberships(*, user: User | AnonymousUser, story: Story) -> QuerySet[OrganisationMembership]:
    """The memberships through which ``user`` may respond to ``story``: a responder or
    administrator role in an organisation the story is about (a role applies to the whole
    subtree, so a trust's responder answers for its hospitals).  Empty for anyone else."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return OrganisationMembership.objects.none()
    return (
        OrganisationMembership.objects.filter(
            user=user, role__in=RESPONDING_ROLES, organisation_id__in=story_organisation_ids(story=story)
        )
        .select_related("organisation")
        .order_by("organisation__depth", "organisation__name")
    )


def staff_organisation_ids(*, user: User | AnonymousUser, roles: tuple[str, ...] | None = None) -> list[int]:
    """The organisations ``user`` works for directly (optionally only in ``roles``)."""
    if not user.is_authenticated:
        return []
    qs = OrganisationMembership.objects.filter(user=user)
    if roles:
        qs = qs.filter(role__in=roles)
    return list(qs.values_list("organisation_id", flat=True))


def organisation_is_within(*, organisation: Organisation, ancestor_ids: set[int] | list[int]) -> bool:
    """True when ``organisation`` is one of ``ancestor_ids`` or sits below one of them."""
    return bool(set(organisation.lineage_ids) & set(ancestor_ids))
