"""The public JSON shape of a story and of a response, shared by the stories API
(``stories.api``) and the stories webhooks' payloads.

Only what the public story page shows: never the author's email, account, address or private
link, the original text, moderation notes, criticality or who responded by account.  A
story that is not published (restricted or withdrawn) is a stub: its status and, for a
restricted one, who restricted it and why; never its text.
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse

from localsocial.api.representations import iso_time
from localsocial.stories.models import Progress, Response, Story, StoryStatus

SUMMARY_CHARS = 280


def story_url(story_id: int) -> str:
    try:
        return reverse("stories:story", kwargs={"pk": story_id})
    except NoReverseMatch:  # the public story page is another part's; keep the API working
        return f"/stories/{story_id}/"


def summary_of(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The start of ``text``, cut at a word and marked with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "…"


def progress_name(value: int) -> str:
    return Progress(value).name.lower()


def story_summary(story: Story, *, base: str = "") -> dict[str, Any]:
    """A published story in a list: ``story_services`` (with service and organisation) and
    ``tags`` should be prefetched."""
    links = sorted(story.story_services.all(), key=lambda link: link.position)
    return {
        "id": story.pk,
        "title": story.title,
        "summary": summary_of(story.body),
        "pseudonym": story.pseudonym,
        "author_role": story.author_role,
        "age_group": story.age_group or None,
        "happened_month": f"{story.happened_month:%Y-%m}",
        "published_at": iso_time(story.published_at),
        "progress": progress_name(story.progress),
        "progress_label": str(Progress(story.progress).label),
        "services": [
            {
                "slug": link.service.slug,
                "name": link.service.name,
                "organisation": {
                    "slug": link.service.organisation.slug,
                    "name": link.service.organisation.name,
                },
            }
            for link in links
        ],
        "tags": [
            {"slug": tag.slug, "name": tag.name, "polarity": tag.polarity}
            for tag in sorted(story.tags.all(), key=lambda t: (t.polarity, t.name))
        ],
        "response_count": story.response_count,
        "me_too_count": story.me_too_count,
        "url": base + story_url(story.pk),
    }


def story_detail(story: Story, *, base: str = "") -> dict[str, Any]:
    """A published story in full (without its responses), or the stub of a restricted or
    withdrawn one."""
    if story.status != StoryStatus.PUBLISHED:
        return story_stub(story, base=base)
    return {
        **story_summary(story, base=base),
        "status": story.status,
        "status_label": str(StoryStatus(story.status).label),
        "body": story.body,
        "feelings": story.feelings,
        "restricted_by": None,
        "restriction_reason": None,
    }


def story_stub(story: Story, *, base: str = "") -> dict[str, Any]:
    """What the public may know of a restricted or withdrawn story: that it was there."""
    restricted = story.status == StoryStatus.RESTRICTED
    return {
        "id": story.pk,
        "status": story.status,
        "status_label": str(StoryStatus(story.status).label),
        "title": None,
        "summary": None,
        "body": None,
        "feelings": None,
        "pseudonym": None,
        "author_role": None,
        "age_group": None,
        "happened_month": None,
        "published_at": None,
        "progress": None,
        "progress_label": None,
        "services": [],
        "tags": [],
        "response_count": 0,
        "me_too_count": 0,
        "restricted_by": story.restricted_by if restricted else None,
        "restriction_reason": story.restriction_reason if restricted else None,
        "url": base + story_url(story.pk),
    }


def response_public(response: Response) -> dict[str, Any]:
    """A published response (``organisation`` should be selected)."""
    organisation = response.organisation
    return {
        "id": response.pk,
        "story_id": response.story_id,
        "is_author_reply": response.is_author_reply,
        "organisation": (
            {"slug": organisation.slug, "name": organisation.name} if organisation is not None else None
        ),
        "signature": response.signature,
        "body": response.body,
        "change": response.change or None,
        "change_description": response.change_description or None,
        "author_confirmed": response.author_confirmed,
        "published_at": iso_time(response.published_at),
        "edited_at": iso_time(response.edited_at),
        "helpful_count": response.helpful_count,
        "not_helpful_count": response.not_helpful_count,
    }
