"""What readers do with a published story: staff read it, people say it happened to them
too, and people follow it for news."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class StoryRead(models.Model):
    """A responder of one of the story's organisations opened it ("Staff have read this")."""

    story = models.ForeignKey("stories.Story", on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["story", "user"], name="stories_read_unique")]

    def __str__(self) -> str:
        return f"{self.story_id} read by {self.user_id}"


class MeToo(models.Model):
    """"This happened to me too": one per person per story.  ``person_key`` is a SHA-256 of
    the account id, or, for someone not signed in, of a random id kept in their cookie."""

    story = models.ForeignKey("stories.Story", on_delete=models.CASCADE, related_name="me_toos")
    person_key = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["story", "person_key"], name="stories_metoo_unique")]

    def __str__(self) -> str:
        return f"{self.story_id} me too"


class StoryFollower(models.Model):
    """Someone who gets an email when the story gets a response or a change.  People without
    an account follow by email, confirmed through a link (``confirmed_at``); every email
    carries a one-click unfollow link (the token, kept as a SHA-256)."""

    story = models.ForeignKey("stories.Story", on_delete=models.CASCADE, related_name="followers")
    email = models.EmailField(max_length=254)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["story", "email"], name="stories_follower_unique")]
        indexes = [models.Index(fields=["email"], name="stories_follower_email")]

    def __str__(self) -> str:
        return f"{self.story_id} followed by {self.email}"
