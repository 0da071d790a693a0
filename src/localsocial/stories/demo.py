"""Demo stories: a conversation at every stage, so that a new site shows what Stories does.

A demo step (``core/demo_registry.py``): ``localsocial demo`` runs it after the platform's
directory and demo people.  Everything goes
through the stories services (submit, moderate, respond, confirm), exactly as people using the
site would make it, so the demo is also a smoke test of the whole loop.  Idempotent: stories
are only added when no demo story exists yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from localsocial.accounts.models import SiteRole, User
from localsocial.core.demo_registry import DemoContext, demo_step
from localsocial.directory.models import Organisation, Service
from localsocial.stories.curated_tags import curated_tags_load
from localsocial.stories.models import ResponseStatus, Story, Tag

DEMO_AUTHOR_DOMAIN = "demo.invalid"


@dataclass(frozen=True)
class DemoStory:
    key: str
    service_slugs: tuple[str, ...]
    title: str
    body: str
    feelings: str
    tags: tuple[str, ...]
    author_role: str
    pseudonym: str
    months_ago: int
    criticality: int | None  # None: left waiting for moderation
    response: str = ""  # from the organisation of the first service's lineage that has a responder
    change: str = ""
    change_description: str = ""
    confirmed: bool = False
    author_reply: str = ""


DEMO_STORIES: tuple[DemoStory, ...] = (
    DemoStory(
        "ward-night", ("riverside-stroke-rehabilitation",),
        "Kind nurses on the rehabilitation ward, but the nights were noisy",
        "My father spent three weeks on the rehabilitation ward after his stroke. The nurses "
        "were patient with him and explained every exercise so that we could help at visiting "
        "time.\n\nThe nights were hard. Doors banged and the alarms on the bays went on for a "
        "long time, so he hardly slept for the first week.",
        "Grateful for the care, worried about how tired he was.",
        ("kind-staff", "clear-information", "noise-at-night"), "relative", "Daughter of a patient", 3, 1,
        response="Thank you for telling us about your father's stay. We are sorry the nights were so "
        "noisy. We have talked about your story at the ward meeting and are looking at quieter "
        "door closers and how quickly alarms are answered.",
        change="planned",
        change_description="Soft-close doors on the bays and a check of alarm response times at night.",
    ),
    DemoStory(
        "bins", ("northgate-household-waste-collection",),
        "Missed bin collection three weeks running",
        "Our street's general waste bins were missed three weeks in a row. Each time I reported "
        "it online and got an automatic reply, but nobody came back to collect them.",
        "Frustrated. The bins were overflowing and attracting foxes.",
        ("missed-collection", "communication"), "patient", "Resident of Mill Lane", 2, 2,
        response="We are sorry your bins were missed. The crew's route had changed and your street "
        "was left off the new round by mistake. It is now back on, and we have checked the "
        "other streets that moved at the same time.",
        change="made",
        change_description="Mill Lane added back to the Tuesday round; all streets on the changed "
        "round checked against the old list.",
        confirmed=True,
        author_reply="Thank you, the bins have been collected on time for the last four weeks.",
    ),
    DemoStory(
        "minor-injuries", ("riverside-minor-injuries",),
        "Seen quickly at the minor injuries unit",
        "I cut my hand in the kitchen on a Sunday. I was seen within half an hour at the minor "
        "injuries unit, the nurse cleaned and closed the cut and told me what to look out for.",
        "Relieved, and glad I did not have to go to A&E.",
        ("quick-service", "kind-staff", "clear-information"), "patient", "Weekend cook", 1, 0,
        response="Thank you for taking the time to tell us. We will pass your kind words on to the team.",
    ),
    DemoStory(
        "library", ("northgate-joining-a-library",),
        "Joining the library was easy",
        "I joined the library with my grandson. The staff helped me set up the app for e-books "
        "and showed us the children's corner.",
        "Welcome.",
        ("helpful-on-the-phone", "well-organised"), "patient", "Grandad of two", 4, 0,
    ),
    DemoStory(
        "memory-clinic", ("riverside-dementia-assessment",),
        "Waiting for a memory assessment",
        "My mother was referred to the memory clinic in the spring. We were told it would be "
        "about eight weeks, but it has been five months and we have not had a date.",
        "Anxious. We do not know who to ask.",
        ("waiting-time", "communication"), "carer", "Worried son", 1, None,
    ),
)


def _responder_for(story: Story) -> tuple[User, Organisation] | None:
    from localsocial.directory.models import OrganisationMembership, StaffRole
    from localsocial.stories.selectors.common import story_organisation_ids

    membership = (
        OrganisationMembership.objects.filter(
            organisation_id__in=story_organisation_ids(story=story),
            role__in=[StaffRole.RESPONDER, StaffRole.ADMINISTRATOR],
        )
        .select_related("user", "organisation")
        .order_by("organisation__depth", "id")
        .first()
    )
    return (membership.user, membership.organisation) if membership else None


def demo_stories_load(*, moderator_email: str) -> dict[str, int]:
    """Add the demo stories (and the curated tags) if there are none yet; return counts."""
    from localsocial.stories.services.moderation import story_criticality_set, story_publish
    from localsocial.stories.services.responses import (
        author_reply_create,
        change_confirm,
        response_create,
        response_publish,
    )
    from localsocial.stories.services.submission import story_submit

    counts = {"tags": curated_tags_load(), "stories": 0, "responses": 0}
    if Story.objects.filter(author_email__endswith=f"@{DEMO_AUTHOR_DOMAIN}").exists():
        return counts
    moderator = User.objects.get(email=moderator_email)
    today = timezone.localdate()
    for spec in DEMO_STORIES:
        services = list(Service.objects.filter(slug__in=spec.service_slugs).values_list("pk", flat=True))
        if not services:
            continue
        month = (today.replace(day=1) - dt.timedelta(days=28 * spec.months_ago)).replace(day=1)
        story, _secret = story_submit(
            title=spec.title, body=spec.body, feelings=spec.feelings, service_ids=services,
            tag_ids=list(Tag.objects.filter(slug__in=spec.tags).values_list("pk", flat=True)),
            suggested_tags=[], author_role=spec.author_role, age_group="", happened_month=month,
            pseudonym=spec.pseudonym, email=f"story-{spec.key}@{DEMO_AUTHOR_DOMAIN}",
        )
        counts["stories"] += 1
        if spec.criticality is None:
            continue
        story_criticality_set(story_id=story.pk, actor=moderator, criticality=spec.criticality)
        story = story_publish(story_id=story.pk, actor=moderator)
        if not spec.response or story.status != "published":
            continue
        responder = _responder_for(story)
        if responder is None:
            continue
        user, organisation = responder
        response = response_create(
            story=story, actor=user, organisation=organisation, body=spec.response,
            change=spec.change, change_description=spec.change_description,
        )
        if response.status == ResponseStatus.PENDING:
            response_publish(response_id=response.pk, actor=moderator)
        counts["responses"] += 1
        if spec.confirmed:
            change_confirm(response_id=response.pk, story_id=story.pk, happened=True,
                           note="It really did change.")
        if spec.author_reply:
            reply = author_reply_create(story=Story.objects.get(pk=story.pk), body=spec.author_reply)
            response_publish(response_id=reply.pk, actor=moderator)
            counts["responses"] += 1
    return counts



@demo_step("stories", order=100)
def stories_demo(ctx: DemoContext) -> dict[str, int]:
    """The demo stories, moderated by the demo moderator."""
    return demo_stories_load(moderator_email=ctx.with_site_role(SiteRole.MODERATOR).email)
