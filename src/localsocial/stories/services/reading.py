"""What readers do with a published story: staff read it, people say it happened to them too,
and people follow it to hear of responses and changes."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from localsocial.accounts.models import User
from localsocial.core.email import email_send, site_url
from localsocial.stories.models import (
    ChangeKind,
    MeToo,
    Response,
    ResponseStatus,
    Story,
    StoryFollower,
    StoryRead,
    StoryStatus,
)
from localsocial.stories.page_groups import story_pages_changed
from localsocial.stories.services.common import secret_hash, story_progress_mark

logger = logging.getLogger(__name__)


class StoryNotOpenError(Exception):
    """The story is not published (any more), so readers cannot act on it."""


# --- Staff read -------------------------------------------------------------------------------

@transaction.atomic
def story_read_record(*, story_id: int, actor: User, organisation_id: int) -> bool:
    """Record that ``actor``, a responder of ``organisation_id``, opened the published story, and move
    its progress to "read" (the first read counts).  Returns True the first time this person
    reads it, False afterwards; the unique constraint makes a race harmless."""
    if StoryRead.objects.filter(story_id=story_id, user_id=actor.pk).exists():
        return False
    now = timezone.now()
    try:
        with transaction.atomic():
            StoryRead.objects.create(story_id=story_id, user_id=actor.pk, organisation_id=organisation_id, read_at=now)
    except IntegrityError:
        return False
    if Story.objects.filter(pk=story_id, status=StoryStatus.PUBLISHED, read_at__isnull=True).exists():
        story_progress_mark(story_id=story_id, read_at=now)
    return True


# --- "This happened to me too" ----------------------------------------------------------------

@transaction.atomic
def me_too_add(*, story_id: int, person_key: str, actor: User | None = None) -> bool:
    """Record that this person (``person_key``: see ``services.common.person_key``) says the
    story happened to them too.  True when it is new (and the count went up by one), False
    when they had said so already.  Raises StoryNotOpenError unless the story is published."""
    try:
        with transaction.atomic():
            MeToo.objects.create(
                story_id=story_id, person_key=person_key,
                user=actor if actor is not None and actor.is_authenticated else None,
            )
    except IntegrityError:
        if not Story.objects.filter(pk=story_id, status=StoryStatus.PUBLISHED).exists():
            raise StoryNotOpenError from None
        return False
    counted = Story.objects.filter(pk=story_id, status=StoryStatus.PUBLISHED).update(me_too_count=F("me_too_count") + 1)
    if not counted:
        raise StoryNotOpenError  # rolls back the row made above
    story_pages_changed(story_id=story_id)
    return True


# --- Following --------------------------------------------------------------------------------

def follower_token(*, story_id: int, email: str) -> str:
    """The secret in a follower's links (confirm, stop following).  Derived from the site's
    secret key, the story and the address, so that every email can carry it again while the
    database keeps only its SHA-256."""
    return salted_hmac("localsocial.stories.follow", f"{story_id}:{email.strip().lower()}", algorithm="sha256").hexdigest()


def _follower_links(*, story_id: int, email: str) -> dict[str, str]:
    token = follower_token(story_id=story_id, email=email)
    return {
        "confirm_url": site_url(reverse("stories:follow_confirm", kwargs={"token": token})),
        "unfollow_url": site_url(reverse("stories:unfollow", kwargs={"token": token})),
        "story_url": site_url(reverse("stories:story", kwargs={"pk": story_id})),
    }


@transaction.atomic
def follower_add_for_user(*, story_id: int, actor: User) -> tuple[StoryFollower, bool]:
    """A signed-in person follows the story at their account's address, confirmed at once.
    Returns ``(follower, created)``; following twice changes nothing.  Raises
    StoryNotOpenError unless the story is published."""
    if not Story.objects.filter(pk=story_id, status=StoryStatus.PUBLISHED).exists():
        raise StoryNotOpenError
    email = actor.email.strip().lower()
    now = timezone.now()
    follower, created = StoryFollower.objects.get_or_create(
        story_id=story_id, email=email,
        defaults={"user": actor, "token_hash": secret_hash(follower_token(story_id=story_id, email=email)), "confirmed_at": now},
    )
    if not created:
        # They may have followed by email before signing in: that counts as confirmed now.
        StoryFollower.objects.filter(pk=follower.pk, confirmed_at__isnull=True).update(confirmed_at=now)
        StoryFollower.objects.filter(pk=follower.pk, user__isnull=True).update(user=actor)
    return follower, created


@transaction.atomic
def follower_request(*, story_id: int, email: str) -> None:
    """Someone without an account asks to follow the story.  They are sent a link to confirm
    (or, if the address already follows it, an email saying so, with the link to stop):
    the page they see is the same either way, so nobody can find out who follows what.
    Raises StoryNotOpenError unless the story is published."""
    story = Story.objects.filter(pk=story_id, status=StoryStatus.PUBLISHED).only("id", "title").first()
    if story is None:
        raise StoryNotOpenError
    email = email.strip().lower()
    follower, _created = StoryFollower.objects.get_or_create(
        story_id=story_id, email=email,
        defaults={"token_hash": secret_hash(follower_token(story_id=story_id, email=email))},
    )
    links = _follower_links(story_id=story_id, email=email)
    if follower.confirmed_at is None:
        email_send(
            to=email, subject=_("Confirm you want to follow a story on Local Social"),
            template="stories/email/reading_follow_confirm.txt", context={"story_title": story.title, **links},
        )
    else:
        email_send(
            to=email, subject=_("You already follow this story on Local Social"),
            template="stories/email/reading_follow_already.txt", context={"story_title": story.title, **links},
        )


@transaction.atomic
def follower_confirm(*, token: str) -> StoryFollower | None:
    """Confirm the following the link belongs to (once; confirming again changes nothing).
    Returns the follower, or None for a link that matches nobody (stopped, or made up)."""
    digest = secret_hash(token)
    StoryFollower.objects.filter(token_hash=digest, confirmed_at__isnull=True).update(confirmed_at=timezone.now())
    return StoryFollower.objects.filter(token_hash=digest).select_related("story").first()


def follower_get_by_token(*, token: str) -> StoryFollower | None:
    return StoryFollower.objects.filter(token_hash=secret_hash(token)).select_related("story").first()


@transaction.atomic
def follower_stop(*, token: str) -> bool:
    """Stop following: the row goes.  True when something was stopped."""
    deleted, _ = StoryFollower.objects.filter(token_hash=secret_hash(token)).delete()
    return bool(deleted)


# --- Telling followers ------------------------------------------------------------------------

def followers_notify_send(*, response_id: int) -> int:
    """Email every confirmed follower of the response's story about it, once.

    The response is claimed first with a conditional UPDATE (``followers_notified_at IS
    NULL``), so a second run (a retried task, a duplicate) sends nothing.  A response that is
    not published is never claimed.  Returns the number of emails queued."""
    claimed = Response.objects.filter(
        pk=response_id, followers_notified_at__isnull=True, status=ResponseStatus.PUBLISHED,
        story__status=StoryStatus.PUBLISHED,
    ).update(followers_notified_at=timezone.now())
    if not claimed:
        return 0
    response = Response.objects.select_related("story", "organisation").get(pk=response_id)
    story = response.story
    if response.is_author_reply:
        who = _("The author")
    elif response.organisation is not None:
        who = response.organisation.name
    else:
        who = _("The service")
    subject = _("News on the story “%(title)s”") % {"title": story.title}
    sent = 0
    followers = (
        StoryFollower.objects.filter(story_id=story.pk, confirmed_at__isnull=False).only("id", "email").order_by("id")
    )
    if response.responder_id is not None:
        # The responder need not be told of their own response.
        followers = followers.exclude(user_id=response.responder_id)
    for follower in followers.iterator(chunk_size=500):
        links = _follower_links(story_id=story.pk, email=follower.email)
        email_send(
            to=follower.email, subject=subject, template="stories/email/reading_response.txt",
            context={
                "story_title": story.title, "who": who, "is_author_reply": response.is_author_reply,
                "change": response.change, "change_planned": response.change == ChangeKind.PLANNED,
                "change_made": response.change == ChangeKind.MADE,
                "change_description": response.change_description, **links,
            },
        )
        sent += 1
    logger.info("story followers told: response %s, %d email(s)", response_id, sent)
    return sent
