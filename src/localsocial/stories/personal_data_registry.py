"""The stories module's part in "Download your data" and in erasing an account.

A person's stories are those told while signed in to their account, and those told from
their account's email address without signing in, but only once that address is confirmed:
otherwise anyone could create an account with someone else's address and download their
stories.  Registered in ``StoriesConfig.ready()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import CharField, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

from localsocial.accounts.personal_data import eraser_register, export_section_register
from localsocial.stories.models import Response, ResponseStatus, Story, StoryService
from localsocial.stories.page_groups import stories_pages_changed

if TYPE_CHECKING:
    from localsocial.accounts.models import User

FORMER_MEMBER = "Former member"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def stories_of(user: User) -> QuerySet[Story]:
    """The stories that belong to ``user`` (by account, or by their confirmed address)."""
    condition = Q(author=user)
    if getattr(user, "email_verified_at", None) is not None and user.email:
        condition |= Q(author_email=user.email.strip().lower())
    return Story.objects.filter(condition)


def stories_export(user: User) -> list[dict[str, Any]]:
    """Every story of the person, with its text as it stands, its status and dates, the
    services it is about, its tags and the published conversation under it.  Four queries."""
    stories = (
        stories_of(user)
        .prefetch_related(
            Prefetch("story_services", queryset=StoryService.objects.select_related("service__organisation")),
            "tags",
            Prefetch(
                "responses",
                queryset=Response.objects.filter(status=ResponseStatus.PUBLISHED)
                .select_related("organisation")
                .order_by("published_at", "id"),
            ),
        )
        .order_by("submitted_at", "id")
    )
    return [
        {
            "id": story.pk,
            "title": story.title,
            "what_happened": story.body,
            "how_it_felt": story.feelings,
            "status": story.status,
            "name_shown": story.pseudonym,
            "email": story.author_email,
            "you_are": story.author_role,
            "age_group": story.age_group,
            "happened_month": story.happened_month.strftime("%Y-%m"),
            "route": story.route,
            "submitted_at": _iso(story.submitted_at),
            "published_at": _iso(story.published_at),
            "withdrawn_at": _iso(story.withdrawn_at),
            "rejection_reason": story.rejection_reason,
            "services": [
                {"service": link.service.name, "organisation": link.service.organisation.name}
                for link in story.story_services.all()
            ],
            "tags": [{"name": tag.name, "polarity": tag.polarity} for tag in story.tags.all()],
            "responses": [
                {
                    "from": "you" if response.is_author_reply else (response.organisation.name if response.organisation else ""),
                    "signature": response.signature,
                    "text": response.body,
                    "change": response.change,
                    "change_description": response.change_description,
                    "published_at": _iso(response.published_at),
                }
                for response in story.responses.all()
            ],
        }
        for story in stories
    ]


def stories_erase(user: User) -> None:
    """Cut the person's stories loose from them: no account, a placeholder address unique to
    each story (``erased-story-<id>@invalid``, where nothing can be sent), "Former member" as
    the name shown, no address recorded.  The text stays: it was published for everyone, and
    services' answers refer to it.  Two queries."""
    story_ids = list(stories_of(user).values_list("pk", flat=True))
    stories_pages_changed(story_ids=story_ids)
    Story.objects.filter(pk__in=story_ids).update(
        author=None,
        author_email=Concat(Value("erased-story-"), Cast("id", CharField()), Value("@invalid")),
        pseudonym=FORMER_MEMBER,
        submitted_ip=None,
    )


def register() -> None:
    export_section_register("stories", stories_export)
    eraser_register("stories", stories_erase)
