"""Reads for staff alerts: whose alerts a new story matches, a person's own alerts, and what
they may choose when they set one up.

Who may have alerts: anyone who works for an organisation in the directory (any role).  They
choose among the organisations they work for (each one's whole subtree is included) and the
services anywhere within those subtrees.  Nobody else's alerts are ever visible to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from localsocial.directory.models import Organisation, OrganisationMembership, Service, path_ids
from localsocial.stories.models import (
    AlertDelivery,
    AlertFrequency,
    AlertSubscription,
    Story,
    StoryService,
    StoryStatus,
    Tag,
    TagPolarity,
)

if TYPE_CHECKING:
    from localsocial.accounts.models import User

# How many services the alert form lists at once (the rest are found by searching).
SERVICE_CHOICES_SHOWN = 50
# How many stories one digest email lists; it says how many more there were.
DIGEST_STORIES_LISTED = 100


@dataclass(frozen=True)
class StoryFacts:
    """What matching needs to know about a story: read once, in three small queries."""

    story_id: int
    organisation_ids: frozenset[int]
    service_ids: frozenset[int]
    tag_ids: frozenset[int]
    criticality: int


def alert_story_facts(*, story_id: int) -> StoryFacts | None:
    """The facts alerts match on for a story that is published now; None for any other
    story (pending, withdrawn, restricted, rejected or gone), which must alert nobody."""
    story = Story.objects.filter(pk=story_id, status=StoryStatus.PUBLISHED).only("pk", "criticality").first()
    if story is None:
        return None
    organisation_ids: set[int] = set()
    service_ids: set[int] = set()
    for service_id, org_id, path in StoryService.objects.filter(story_id=story_id).values_list(
        "service_id", "service__organisation_id", "service__organisation__path"
    ):
        service_ids.add(service_id)
        organisation_ids.update(path_ids(path) or [org_id])
    tag_ids = frozenset(Story.tags.through.objects.filter(story_id=story_id).values_list("tag_id", flat=True))
    return StoryFacts(
        story_id=story_id,
        organisation_ids=frozenset(organisation_ids),
        service_ids=frozenset(service_ids),
        tag_ids=tag_ids,
        criticality=story.criticality or 0,
    )


def alert_subscriptions_matching(*, facts: StoryFacts) -> list[tuple[int, str]]:
    """``(subscription id, frequency)`` of every active alert the story matches, in one query
    however many alerts there are.  An alert matches when

    * its organisation is one the story is about (a service's own or any above it), or one of
      its chosen services is one of the story's;
    * it has no tags, or the story has at least one of them;
    * the story's criticality is at least the alert's threshold (a story without one counts
      as not critical);
    * and its owner is an active account that still works for an organisation the story is
      about: someone who has left stops getting alerts without having to delete them.
    """
    through_services = AlertSubscription.services.through.objects
    through_tags = AlertSubscription.tags.through.objects
    chosen_service = Exists(
        through_services.filter(alertsubscription_id=OuterRef("pk"), service_id__in=facts.service_ids)
    )
    has_tags = Exists(through_tags.filter(alertsubscription_id=OuterRef("pk")))
    tag_matches = Exists(through_tags.filter(alertsubscription_id=OuterRef("pk"), tag_id__in=facts.tag_ids))
    still_staff = Exists(
        OrganisationMembership.objects.filter(user_id=OuterRef("user_id"), organisation_id__in=facts.organisation_ids)
    )
    return list(
        AlertSubscription.objects.filter(
            Q(organisation_id__in=facts.organisation_ids) | chosen_service,
            ~has_tags | tag_matches,
            still_staff,
            is_active=True,
            min_criticality__lte=facts.criticality,
            user__is_active=True,
        )
        .order_by("pk")
        .values_list("pk", "frequency")
    )


def alert_deliveries_unsent_immediate(*, story_id: int) -> list[AlertDelivery]:
    """The story's deliveries to active "as each story is published" alerts that have not been
    sent, with the alert's owner (one query)."""
    return list(
        AlertDelivery.objects.filter(
            story_id=story_id, sent_at__isnull=True,
            subscription__is_active=True, subscription__frequency=AlertFrequency.IMMEDIATE,
        )
        .select_related("subscription__user")
        .order_by("pk")
    )


def alert_story_for_email(*, story_id: int) -> Story | None:
    """The published story with its services in order, for an alert email (two queries)."""
    return (
        Story.objects.filter(pk=story_id, status=StoryStatus.PUBLISHED)
        .prefetch_related(Prefetch("story_services", queryset=StoryService.objects.select_related("service")))
        .first()
    )


def alert_subscriptions_with_digest_due() -> QuerySet[AlertSubscription]:
    """Active daily alerts that have stories waiting to be sent, oldest first."""
    pending = AlertDelivery.objects.filter(subscription_id=OuterRef("pk"), sent_at__isnull=True)
    return (
        AlertSubscription.objects.filter(Exists(pending), is_active=True, frequency=AlertFrequency.DAILY)
        .order_by("pk")
    )


def alert_digest_stories(*, delivery_ids: list[int]) -> list[Story]:
    """The stories of these deliveries that are still published, newest first, with their
    services (two queries)."""
    return list(
        Story.objects.filter(
            pk__in=AlertDelivery.objects.filter(pk__in=delivery_ids).values("story_id"),
            status=StoryStatus.PUBLISHED,
        )
        .prefetch_related(Prefetch("story_services", queryset=StoryService.objects.select_related("service")))
        .order_by("-published_at", "-pk")
    )


# --- A person's own alerts --------------------------------------------------------------------

def alert_list_for_user(*, user: User) -> list[AlertSubscription]:
    """The person's own alerts, by name, with their organisation, services and tags (four
    queries whatever the number)."""
    return list(
        AlertSubscription.objects.filter(user=user)
        .select_related("organisation")
        .prefetch_related(
            Prefetch("services", queryset=Service.objects.order_by("name", "pk")),
            Prefetch("tags", queryset=Tag.objects.order_by("polarity", "name")),
        )
        .order_by("name", "pk")
    )


def alert_get_for_owner(*, user: User, alert_id: int) -> AlertSubscription:
    """One of the person's own alerts; 404 for anyone else's (so that nobody can learn which
    alerts exist)."""
    alert = AlertSubscription.objects.filter(pk=alert_id, user=user).select_related("organisation").first()
    if alert is None:
        raise Http404("No such alert.")
    return alert


def alert_organisations_for_user(*, user: User) -> list[Organisation]:
    """The organisations the person works for directly: the ones an alert may be about."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Organisation.objects.filter(memberships__user=user).distinct().order_by("depth", "name", "pk")
    )


def _subtree_condition(organisations: list[Organisation], prefix: str = "") -> Q:
    condition = Q(pk__in=[])
    for org in organisations:
        condition |= Q(**{f"{prefix}path__startswith": org.path}) if org.path else Q(**{f"{prefix}pk": org.pk})
    return condition


def alert_services_allowed(*, organisations: list[Organisation]) -> QuerySet[Service]:
    """Every service anywhere within the subtrees of these organisations."""
    if not organisations:
        return Service.objects.none()
    return Service.objects.filter(_subtree_condition(organisations, "organisation__")).select_related("organisation")


def alert_service_choices(
    *, organisations: list[Organisation], query: str = "", selected_ids: list[int] | None = None
) -> tuple[list[Service], bool]:
    """The services the alert form lists: those already chosen, then up to
    ``SERVICE_CHOICES_SHOWN`` more, matching ``query`` (by name) when given.  Returns the
    services and whether there were more than could be listed.  Two queries."""
    allowed = alert_services_allowed(organisations=organisations).order_by("name", "pk")
    chosen = list(allowed.filter(pk__in=selected_ids)) if selected_ids else []
    others = allowed.exclude(pk__in=[s.pk for s in chosen])
    if query.strip():
        others = others.filter(name__icontains=query.strip())
    found = list(others[: SERVICE_CHOICES_SHOWN + 1])
    return chosen + found[:SERVICE_CHOICES_SHOWN], len(found) > SERVICE_CHOICES_SHOWN


def alert_tag_choices(*, selected_ids: list[int] | None = None) -> dict[str, list[Tag]]:
    """The curated tags in use (and any already chosen), by polarity (one query)."""
    tags: dict[str, list[Tag]] = {TagPolarity.GOOD: [], TagPolarity.IMPROVE: []}
    for tag in Tag.objects.filter(Q(is_active=True) | Q(pk__in=selected_ids or [])).order_by("name", "pk"):
        tags.setdefault(tag.polarity, []).append(tag)
    return tags
