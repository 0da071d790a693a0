"""The stories API's request and response bodies, as described in the OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from localsocial.stories.models import AgeGroup, AuthorRole, TagPolarity
from localsocial.stories.models.story import BODY_MAX_CHARS, PSEUDONYM_MAX, TITLE_MAX

RESPONSES_SHOWN = 50
_RESPONSE_MAX_CHARS = 10_000
_CHANGE_DESCRIPTION_MAX = 2_000
_DATE_RE = r"^(\d{4}-\d{2}-\d{2})?$"
ProgressName = Literal["unheard", "heard", "read", "responded", "changed"]
ChangeName = Literal["", "planned", "made"]


class ErrorOut(Schema):
    detail: Any = Field(
        description="A sentence saying what is wrong; for 422 on a body, a list of "
        "{loc, msg, type} for each field."
    )


class Ref(Schema):
    slug: str
    name: str


class ServiceRef(Ref):
    organisation: Ref


class TagOut(Schema):
    slug: str
    name: str
    polarity: str = Field(description="good (what was good) or improve (what could be improved).")


class StorySummary(Schema):
    id: int
    title: str
    summary: str = Field(description="The start of what happened, cut at a word.")
    pseudonym: str = Field(description="The name the author chose to show.")
    author_role: str
    age_group: str | None
    happened_month: str = Field(description="YYYY-MM")
    published_at: datetime
    progress: str = Field(description="unheard, heard, read, responded or changed.")
    progress_label: str
    services: list[ServiceRef] = Field(description="The main service first.")
    tags: list[TagOut]
    response_count: int
    me_too_count: int
    url: str = Field(description="Its page on this site.")


class ResponseOut(Schema):
    id: int
    story_id: int
    is_author_reply: bool = Field(description="A reply from the story's author, not from an organisation.")
    organisation: Ref | None
    signature: str
    body: str
    change: str | None = Field(description="planned or made when the response claims a change.")
    change_description: str | None
    author_confirmed: bool | None = Field(description="Whether the author confirmed the change (null: not asked or no answer).")
    published_at: datetime | None
    edited_at: datetime | None
    helpful_count: int
    not_helpful_count: int


class StoryDetail(Schema):
    id: int
    status: str = Field(description="published; or restricted or withdrawn, for a stub without text.")
    status_label: str
    title: str | None
    summary: str | None
    body: str | None
    feelings: str | None
    pseudonym: str | None
    author_role: str | None
    age_group: str | None
    happened_month: str | None
    published_at: datetime | None
    progress: str | None
    progress_label: str | None
    services: list[ServiceRef]
    tags: list[TagOut]
    response_count: int
    me_too_count: int
    restricted_by: str | None = Field(description="For a restricted story: who restricted it.")
    restriction_reason: str | None = Field(description="For a restricted story: why.")
    url: str
    responses: list[ResponseOut] = Field(
        description=f"The first {RESPONSES_SHOWN} published responses, oldest first."
    )
    more_responses: bool = Field(description="True if there are more: list them with /stories/{id}/responses/.")


class StoryPage(Schema):
    items: list[StorySummary]
    next_cursor: str | None
    previous_cursor: str | None


class ResponsePage(Schema):
    items: list[ResponseOut]
    next_cursor: str | None
    previous_cursor: str | None


class TagPage(Schema):
    items: list[TagOut]
    next_cursor: str | None
    previous_cursor: str | None


class StoryFilters(Schema):
    organisation: str | None = Field(None, max_length=220, description="Stories about this organisation or anything in it (slug).")
    service: str | None = Field(None, max_length=220, description="Stories about this service (slug).")
    tag: str | None = Field(None, max_length=80, description="Stories with this tag (slug).")
    area: str | None = Field(None, max_length=20, description="Stories about organisations serving this area (ONS GSS code).")
    progress: ProgressName | None = Field(None, description="Only stories this far on.")
    published_after: str | None = Field(
        None, pattern=_DATE_RE,
        description="Published on or after this date (YYYY-MM-DD, UK time).",
    )
    published_before: str | None = Field(
        None, pattern=_DATE_RE,
        description="Published before this date (YYYY-MM-DD, UK time).",
    )
    q: str | None = Field(None, max_length=200, description='Words in the title or text; "a phrase"; -word to leave out.')
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(20, ge=1, le=100)


class PageParams(Schema):
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(20, ge=1, le=100)


class TagFilters(PageParams):
    polarity: TagPolarity | None = Field(None, description="good or improve.")


class SuggestedTagIn(Schema):
    name: str = Field(max_length=60)
    polarity: TagPolarity


class StoryIn(Schema):
    title: str = Field(max_length=TITLE_MAX)
    body: str = Field(max_length=BODY_MAX_CHARS, description="What happened: plain text, shown as text.")
    feelings: str = Field("", max_length=BODY_MAX_CHARS, description="How it felt.")
    services: list[str] = Field(min_length=1, max_length=10, description="Service slugs, the main one first.")
    tags: list[str] = Field(default_factory=list, max_length=30, description="Tag slugs from /api/tags/.")
    suggested_tags: list[SuggestedTagIn] = Field(default_factory=list, max_length=5)
    author_role: AuthorRole
    age_group: AgeGroup | Literal[""] = ""
    happened_month: str = Field(
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM: within the last two years."
    )
    pseudonym: str = Field(max_length=PSEUDONYM_MAX, description="The name to show with the story.")
    email: str = Field(
        max_length=254,
        description="The author's email address: they are sent a private link to their story. Never shown.",
    )


class StoryCreated(Schema):
    id: int
    status: str = Field(description="pending: it waits for a moderator before anyone can read it.")
    duplicate: bool = Field(description="True when we already had this story from this address: nothing new was stored.")


class ResponseIn(Schema):
    body: str = Field(max_length=_RESPONSE_MAX_CHARS)
    change: ChangeName = Field("", description="planned or made, to claim a change; the author is asked to confirm it.")
    change_description: str = Field("", max_length=_CHANGE_DESCRIPTION_MAX)


class ResponseCreated(Schema):
    id: int
    story_id: int
    status: str = Field(description="published, or pending when a moderator checks it first.")
    published_at: datetime | None
