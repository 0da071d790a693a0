"""Responses from organisations, the author's replies, changes planned and made, and
whether readers found a response helpful."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

RESPONSE_MAX_CHARS = 10_000


class SignatureStyle(models.TextChoices):
    """How an organisation signs its responses."""

    NAME_AND_TITLE = "name_title", _("The responder's name and job title")
    TITLE_ONLY = "title", _("The responder's job title only")
    ORGANISATION_ONLY = "org", _("The organisation's name only")


class StoryOrganisationSettings(models.Model):
    """An organisation's choices for stories.  Organisations without a row use the defaults."""

    organisation = models.OneToOneField(
        "directory.Organisation", on_delete=models.CASCADE, related_name="story_settings"
    )
    signature_style = models.CharField(
        _("sign responses with"), max_length=12, choices=SignatureStyle.choices, default=SignatureStyle.NAME_AND_TITLE
    )
    provider_notice_hours = models.PositiveIntegerField(
        _("notice window for a private provider, in hours"), default=72
    )

    def __str__(self) -> str:
        return f"Story settings of {self.organisation_id}"


class ResponseTemplate(models.Model):
    """A starting point for a response, kept by an organisation for its responders."""

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE, related_name="response_templates")
    title = models.CharField(_("name"), max_length=100)
    body = models.TextField(_("text"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation", "title"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "title"], name="stories_responsetemplate_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class ResponseStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for moderation")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Not published")


class ChangeKind(models.TextChoices):
    NONE = "", _("No change")
    PLANNED = "planned", _("Change planned")
    MADE = "made", _("Change made")


class Response(models.Model):
    """One message in a story's conversation: from an organisation (``organisation`` set) or
    a reply from the story's author (``is_author_reply``).  A response may claim a change
    planned or made; the author is then asked to confirm it (``author_confirmed``)."""

    story = models.ForeignKey("stories.Story", on_delete=models.CASCADE, related_name="responses")
    organisation = models.ForeignKey(
        "directory.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="story_responses"
    )
    responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="story_responses"
    )
    is_author_reply = models.BooleanField(default=False)
    # The signature as it was when the response was written ("Sam Patel, Ward manager").
    signature = models.CharField(max_length=300)
    body = models.TextField(_("response"), max_length=RESPONSE_MAX_CHARS)
    status = models.CharField(max_length=10, choices=ResponseStatus.choices, default=ResponseStatus.PENDING)
    rejection_reason = models.TextField(blank=True)
    change = models.CharField(_("change"), max_length=8, choices=ChangeKind.choices, default=ChangeKind.NONE, blank=True)
    change_description = models.TextField(_("what is changing"), blank=True)
    author_confirmed = models.BooleanField(null=True, blank=True)
    author_confirmed_at = models.DateTimeField(null=True, blank=True)
    author_confirmation_note = models.TextField(blank=True)
    helpful_count = models.PositiveIntegerField(default=0)
    not_helpful_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set by the tasks that email followers and ask the author to confirm a change: each claims
    # the response with a conditional UPDATE (``WHERE … IS NULL``), so each email goes once.
    followers_notified_at = models.DateTimeField(null=True, blank=True)
    confirmation_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["story", "created_at", "id"]
        indexes = [
            models.Index(fields=["story", "status", "created_at"], name="stories_response_story"),
            models.Index(fields=["status", "created_at"], name="stories_response_queue"),
            models.Index(fields=["responder", "status"], name="stories_response_responder"),
            models.Index(fields=["organisation", "published_at"], name="stories_response_org"),
            # The dashboard's helpful-rating share, from the index alone (PostgreSQL).
            models.Index(
                fields=["organisation", "status", "published_at"], name="stories_response_org_ratings",
                include=["helpful_count", "not_helpful_count"],
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(body=""), name="stories_response_body_present"),
            models.CheckConstraint(
                condition=models.Q(status__in=[c.value for c in ResponseStatus]), name="stories_response_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(change__in=[c.value for c in ChangeKind]), name="stories_response_change_valid"
            ),
            # A response comes from an organisation or from the author, never both or neither.
            models.CheckConstraint(
                condition=models.Q(is_author_reply=True, organisation__isnull=True)
                | models.Q(is_author_reply=False, organisation__isnull=False),
                name="stories_response_one_source",
            ),
            # Only organisations claim changes, and a claim says what changes.
            models.CheckConstraint(
                condition=models.Q(change="")
                | (models.Q(is_author_reply=False) & ~models.Q(change_description="")),
                name="stories_response_change_described",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ResponseStatus.PUBLISHED) | models.Q(published_at__isnull=False),
                name="stories_response_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Response {self.pk} to {self.story_id}"


class HelpfulRating(models.Model):
    """Whether someone found a response helpful.  One per person per response; ``person_key``
    as for ``MeToo``.  The author's rating is marked so that it can be shown apart."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="ratings")
    person_key = models.CharField(max_length=64)
    helpful = models.BooleanField()
    by_author = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "person_key"], name="stories_rating_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.response_id}: {'helpful' if self.helpful else 'not helpful'}"
