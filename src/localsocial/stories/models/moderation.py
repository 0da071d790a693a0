"""Moderation: every version of a story's text, rejection templates, and the notice given to
private providers before a story about them is published."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StoryRevision(models.Model):
    """A version of a story's text.  The first is what the author sent; each later one is an
    edit by the author (before publication) or by a moderator (with the reason).  Never shown
    to the public: moderators compare versions as a diff."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("As sent")
        AUTHOR_EDIT = "author", _("Edited by the author")
        MODERATOR_EDIT = "moderator", _("Edited by a moderator")

    story = models.ForeignKey("stories.Story", on_delete=models.CASCADE, related_name="revisions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=150)
    body = models.TextField()
    feelings = models.TextField(blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason for the edit"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["story", "created_at", "id"]
        indexes = [models.Index(fields=["story", "created_at"], name="stories_revision_story")]

    def __str__(self) -> str:
        return f"{self.story_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class RejectionTemplate(models.Model):
    """A reason for not publishing a story, written once and chosen by moderators.  The text
    is sent to the author, so it is written to them."""

    title = models.CharField(_("name"), max_length=100, unique=True)
    body = models.TextField(_("message to the author"))
    is_active = models.BooleanField(_("in use"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class ProviderDecision(models.TextChoices):
    WAITING = "waiting", _("Waiting for the provider")
    GO_AHEAD = "go_ahead", _("Go ahead")
    ASK_REVIEW = "ask_review", _("Asked for a review")


class ProviderNotice(models.Model):
    """Advance notice to a private provider of a story about them.  They may say "go ahead"
    or "ask for review" before ``deadline``; after it the story publishes unless a moderator
    decides otherwise."""

    story = models.ForeignKey("stories.Story", on_delete=models.CASCADE, related_name="provider_notices")
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField()
    decision = models.CharField(max_length=12, choices=ProviderDecision.choices, default=ProviderDecision.WAITING)
    decision_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["decision", "deadline"], name="stories_notice_deadline")]
        constraints = [
            models.UniqueConstraint(fields=["story", "organisation"], name="stories_notice_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.story_id} → {self.organisation_id}: {self.decision}"
