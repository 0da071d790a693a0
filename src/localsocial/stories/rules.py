"""Who may do what with stories, as ``rules`` predicates.

* ``stories.moderate``: moderators (and site administrators).
* ``stories.respond`` on a Story: a responder or administrator of an organisation the story is
  about (its services' organisations and every one above them).
* ``stories.see_private`` on a Story (the author's email, the original text, revisions):
  moderators only.
* ``stories.manage_organisation`` on an Organisation (templates, settings, webhooks,
  dashboard): its administrators (subtree) and site administrators.
* ``stories.view_dashboard`` on an Organisation: any member of its staff (subtree), moderators
  and site administrators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import rules

from localsocial.accounts.rules import is_moderator, is_site_admin
from localsocial.directory.models import Organisation, OrganisationMembership
from localsocial.directory.rules import is_organisation_administrator
from localsocial.stories.models import Story
from localsocial.stories.selectors.common import story_responder_memberships

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User


@rules.predicate
def can_respond_to_story(user: User | AnonymousUser, story: Story | None) -> bool:
    if story is None:
        return False
    return story.status == "published" and story_responder_memberships(user=user, story=story).exists()


@rules.predicate
def is_organisation_staff_of(user: User | AnonymousUser, organisation: Organisation | None) -> bool:
    """Works for this organisation or one above it, in any role."""
    if organisation is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return OrganisationMembership.objects.filter(user=user, organisation_id__in=organisation.lineage_ids).exists()


rules.add_perm("stories.moderate", is_moderator)
rules.add_perm("stories.see_private", is_moderator)
rules.add_perm("stories.respond", can_respond_to_story)
rules.add_perm("stories.manage_organisation", is_site_admin | is_organisation_administrator)
rules.add_perm("stories.view_dashboard", is_moderator | is_site_admin | is_organisation_staff_of)
# Assisted stories (from a phone call or a paper form) are entered by moderators and by staff.
rules.add_perm("stories.enter_assisted", is_moderator | rules.is_authenticated & rules.predicate(
    lambda user: OrganisationMembership.objects.filter(user=user).exists()
))
