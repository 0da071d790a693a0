"""Small pieces every part of the stories module uses: secrets, person keys and progress."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from localsocial.accounts.models import User
from localsocial.core.email import site_url
from localsocial.stories.models import Progress, Story
from localsocial.stories.selectors.common import secret_hash
from localsocial.stories.services.listing import story_listing_sync


def secret_new() -> tuple[str, str]:
    """A new random secret for a private link, and the SHA-256 to store: ``(secret, hash)``."""
    secret = secrets.token_urlsafe(24)
    return secret, secret_hash(secret)


def story_author_secret(*, story: Story) -> str:
    """The secret of the author's private link, derived from the story (its id and the moment
    it was sent) with the site's SECRET_KEY.  The same story always gets the same link, so
    every email to the author carries a link that works, and the earlier ones keep working;
    the database keeps only its SHA-256 (``author_token_hash``), so a copy of the database
    alone opens nothing.  Changing SECRET_KEY changes every link: ``story_author_link`` then
    stores the new hash the next time a link is sent."""
    moment = story.submitted_at
    message = f"{story.pk}:{int(moment.timestamp())}.{moment.microsecond:06d}"
    digest = salted_hmac("localsocial.stories.author-link", message, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")


def story_author_link_secret(*, story: Story) -> str:
    """The author's secret for ``story``, storing its hash if it is not stored yet (a new
    story, or after SECRET_KEY changed).  Idempotent."""
    secret = story_author_secret(story=story)
    token_hash = secret_hash(secret)
    if story.author_token_hash != token_hash:
        Story.objects.filter(pk=story.pk).update(author_token_hash=token_hash)
        story.author_token_hash = token_hash
    return secret


@transaction.atomic
def story_author_link_renew(*, story_id: int) -> str:
    """The secret of the story's private link, for an email to the author.  The link is the
    same every time (see ``services.common.story_author_secret``), so earlier emails keep
    working.  Other parts use this when they need to send the author a link to their page."""
    return story_author_link_secret(story=Story.objects.get(pk=story_id))


def private_link(*, secret: str) -> str:
    """The absolute address of the author's private page."""
    return site_url(reverse("stories:mine", kwargs={"secret": secret}))


def person_key(*, user: User | None = None, anonymous_id: str | None = None) -> str:
    """The key that makes "one per person" hold for "me too" and helpful ratings: the account
    when signed in, else the random id kept in the visitor's cookie."""
    if user is not None and user.is_authenticated:
        raw = f"user:{user.pk}"
    elif anonymous_id:
        raw = f"anon:{anonymous_id}"
    else:
        raise ValueError("A person key needs a user or an anonymous id.")
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def progress_for(*, story: Story) -> int:
    """Progress follows from the times recorded on the story: changed > responded > read > heard."""
    if story.changed_at is not None:
        return Progress.CHANGED
    if story.first_response_at is not None:
        return Progress.RESPONDED
    if story.read_at is not None:
        return Progress.READ
    if story.heard_at is not None:
        return Progress.HEARD
    return Progress.UNHEARD


@transaction.atomic
def story_progress_mark(*, story_id: int, **times: Any) -> Story:
    """Record conversation times (``heard_at``, ``read_at``, ``first_response_at``,
    ``change_planned_at``, ``changed_at``) that are not yet set, recompute ``progress`` and
    copy both onto the story's list rows.  Times already set are kept (the first one counts),
    so calling this twice is harmless."""
    allowed = {"heard_at", "read_at", "first_response_at", "change_planned_at", "changed_at"}
    unknown = set(times) - allowed
    if unknown:
        raise ValueError(f"Unknown progress times: {sorted(unknown)}")
    story = Story.objects.select_for_update().get(pk=story_id)
    changed: list[str] = []
    for name, value in times.items():
        if getattr(story, name) is None and value is not None:
            setattr(story, name, value)
            changed.append(name)
    new_progress = progress_for(story=story)
    if new_progress != story.progress:
        story.progress = new_progress
        changed.append("progress")
    if changed:
        story.last_activity_at = timezone.now()
        story.save(update_fields=[*changed, "last_activity_at", "updated_at"])
        story_listing_sync(story=story)
    return story
