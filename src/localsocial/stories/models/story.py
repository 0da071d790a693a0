"""The story itself, the services it is about, and the tags that say what was good and what
could be improved."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TITLE_MAX = 150
BODY_MAX_CHARS = 20_000  # a hard ceiling far above the word limit: the form counts words
PSEUDONYM_MAX = 60
MAX_SERVICES = 10  # a story is about at most this many services
# The same text from different addresses within this time is flagged for moderators.
CROSS_AUTHOR_DUPLICATE_DAYS = 1
# The address stored for an assisted story whose author has no email address: unique per
# story, and in the reserved ".invalid" domain so that nothing can ever be sent to it.
NO_EMAIL_DOMAIN = "no-email.invalid"
# The address an erased author's stories keep (see personal_data_registry).
ERASED_EMAIL_DOMAIN = "invalid"


def email_is_placeholder(email: str) -> bool:
    """True for the stand-in address of an assisted story or an erased author: nothing is
    ever sent to it and it is not shown as an address."""
    return email.endswith(("@" + NO_EMAIL_DOMAIN, "@" + ERASED_EMAIL_DOMAIN))


def author_has_email(story: Story) -> bool:
    """False when the story has no real address (an assisted story without one, or an
    erased author): nothing is ever sent to it."""
    return bool(story.author_email) and not email_is_placeholder(story.author_email)


class StoryStatus(models.TextChoices):
    """Where a story is on its way to the public (see docs/stories.md for the diagram)."""

    PENDING = "pending", _("Waiting for moderation")
    HELD = "held", _("Held before publication")
    NOTICE = "notice", _("Waiting for the provider")
    PUBLISHED = "published", _("Published")
    RESTRICTED = "restricted", _("Restricted")
    REJECTED = "rejected", _("Not published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Statuses whose page is public: a published story, or the stub of a restricted or withdrawn one.
PUBLIC_STATUSES = (StoryStatus.PUBLISHED, StoryStatus.RESTRICTED, StoryStatus.WITHDRAWN)
# Statuses in which the author may still edit the text.
EDITABLE_STATUSES = (StoryStatus.PENDING,)


class Progress(models.IntegerChoices):
    """How far the conversation has gone: shown on every published story."""

    UNHEARD = 0, _("Unheard")
    HEARD = 1, _("Heard")
    READ = 2, _("Read")
    RESPONDED = 3, _("Responded")
    CHANGED = 4, _("Changed")


class Criticality(models.IntegerChoices):
    NOT_CRITICAL = 0, _("Not critical")
    MINIMALLY = 1, _("Minimally critical")
    MILDLY = 2, _("Mildly critical")
    MODERATELY = 3, _("Moderately critical")
    STRONGLY = 4, _("Strongly critical")
    SEVERELY = 5, _("Severely critical")


# Stories at or above this criticality are flagged in the queue and may be held.
VERY_CRITICAL = Criticality.STRONGLY

# Words that may mean a story is very critical, so that a story which mentions one is read
# first.  Each is matched case-insensitively at the start of a word ("abuse" finds "abused"
# and "abuser", not "disabused").  A flag, not a verdict: once a moderator has set the
# criticality, that decides the order instead.  Kept short on purpose; see
# docs/stories-moderation.md.  The database keeps the flag (``Story.queue_urgent``): changing
# these words needs a migration that redefines that column with ``queue_urgent_sql()``.
SAFEGUARDING_WORDS: tuple[str, ...] = (
    "abuse", "abusive", "assault", "bruise", "dehydrat", "death", "died", "dying", "malnourish",
    "neglect", "overdose", "rape", "restrain", "self-harm", "self harm", "starv", "suicid", "unsafe",
)
# Characters that may come just before a word: the text is searched with these turned into
# spaces, so that "(abuse" and "\nabuse" are found as well as " abuse".
WORD_SEPARATORS: tuple[str, ...] = ("\n", "\r", "\t", "(", '"', "\u201c", "'", "\u2018", "/", "-", ",", ".")


def _sql_text(value: str) -> str:
    """A string literal that PostgreSQL and SQLite both read the same way (no backslashes;
    control characters through CHR/CHAR are not needed: both accept them inside quotes)."""
    return "'" + value.replace("'", "''") + "'"


def queue_urgent_sql(words: tuple[str, ...] = SAFEGUARDING_WORDS, separators: tuple[str, ...] = WORD_SEPARATORS,
                     very_critical: int = VERY_CRITICAL) -> str:
    """SQL, the same on PostgreSQL and SQLite, for "read this story first": triaged as very
    critical, or not triaged yet and a safeguarding word in its title, text or feelings.  Only
    immutable functions (lower, replace, ||, LIKE), so both databases can keep it as a
    generated column and index it; the words are lower case and hold no LIKE wildcards."""
    text = "(' ' || lower(title || ' ' || body || ' ' || feelings))"
    for separator in separators:
        text = f"replace({text}, {_sql_text(separator)}, ' ')"
    found = " OR ".join(f"{text} LIKE {_sql_text('% ' + word + '%')}" for word in words)
    return f"(COALESCE(criticality >= {int(very_critical)}, FALSE) OR (criticality IS NULL AND ({found})))"


class AuthorRole(models.TextChoices):
    PATIENT = "patient", _("I used the service")
    CARER = "carer", _("I am a carer")
    RELATIVE = "relative", _("I am a relative or friend")
    STAFF = "staff", _("I work for the service")
    OTHER = "other", _("Other")


class AgeGroup(models.TextChoices):
    UNDER_18 = "under_18", _("Under 18")
    AGE_18_24 = "18_24", _("18 to 24")
    AGE_25_34 = "25_34", _("25 to 34")
    AGE_35_49 = "35_49", _("35 to 49")
    AGE_50_64 = "50_64", _("50 to 64")
    AGE_65_79 = "65_79", _("65 to 79")
    AGE_80_PLUS = "80_plus", _("80 or over")


class SubmissionRoute(models.TextChoices):
    WEB = "web", _("Website")
    PHONE = "phone", _("Phone call (assisted)")
    PAPER = "paper", _("Paper form (assisted)")
    API = "api", _("API")


ASSISTED_ROUTES = (SubmissionRoute.PHONE, SubmissionRoute.PAPER)


class TagPolarity(models.TextChoices):
    GOOD = "good", _("What was good")
    IMPROVE = "improve", _("What could be improved")


class Tag(models.Model):
    """A curated tag.  Each has a polarity: a tag says either what was good ("kind staff") or
    what could be improved ("waiting time")."""

    name = models.CharField(_("name"), max_length=60)
    slug = models.SlugField(_("id"), max_length=80, unique=True)
    polarity = models.CharField(_("polarity"), max_length=10, choices=TagPolarity.choices)
    is_active = models.BooleanField(_("offered to authors"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["polarity", "name"]
        constraints = [
            models.UniqueConstraint(fields=["polarity", "name"], name="stories_tag_unique_name"),
            models.CheckConstraint(
                condition=models.Q(polarity__in=[c.value for c in TagPolarity]),
                name="stories_tag_polarity_valid",
            ),
            models.CheckConstraint(condition=~models.Q(name=""), name="stories_tag_name_present"),
        ]

    def __str__(self) -> str:
        return self.name


class Story(models.Model):
    """One person's story about one or more services.

    The author's email is private: only moderators see it (and the author, through the
    private link).  ``title``/``body``/``feelings`` hold the current, public text; the text as
    the author first wrote it, and every moderator edit, are kept in ``StoryRevision``.
    ``progress``, ``me_too_count`` and the ``first_response_at``/``changed_at`` times are
    kept up to date by the services in ``stories.services`` (never by hand).
    """

    title = models.CharField(_("title"), max_length=TITLE_MAX)
    body = models.TextField(_("what happened"), max_length=BODY_MAX_CHARS)
    feelings = models.TextField(_("how it felt"), max_length=BODY_MAX_CHARS, blank=True)
    services = models.ManyToManyField(
        "directory.Service", through="StoryService", related_name="stories", verbose_name=_("services")
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="stories", verbose_name=_("tags"))

    # About the author.  ``author`` is set when they were signed in; a story can be told
    # without an account, by email alone.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="stories"
    )
    author_email = models.EmailField(_("email address"), max_length=254)
    pseudonym = models.CharField(_("name to show"), max_length=PSEUDONYM_MAX)
    author_role = models.CharField(_("you are"), max_length=20, choices=AuthorRole.choices)
    age_group = models.CharField(_("age group"), max_length=20, choices=AgeGroup.choices, blank=True)
    happened_month = models.DateField(_("when it happened"), help_text=_("The first day of the month."))
    # The private link: only a SHA-256 of the secret is kept; the secret is in the author's email.
    author_token_hash = models.CharField(max_length=64, unique=True)

    # How it reached us.
    route = models.CharField(_("route"), max_length=10, choices=SubmissionRoute.choices, default=SubmissionRoute.WEB)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The member of staff who entered an assisted story."),
    )
    consent_given_at = models.DateTimeField(null=True, blank=True)
    consent_note = models.CharField(_("how consent was given"), max_length=300, blank=True)
    # SHA-256 of the normalised text, to find the same story sent twice.
    text_hash = models.CharField(max_length=64, db_index=True)
    submitted_ip = models.GenericIPAddressField(null=True, blank=True)

    # Moderation and publication.
    status = models.CharField(_("status"), max_length=12, choices=StoryStatus.choices, default=StoryStatus.PENDING)
    criticality = models.PositiveSmallIntegerField(_("criticality"), choices=Criticality.choices, null=True, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    held_until = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    restricted_by = models.CharField(max_length=200, blank=True, help_text=_("Who restricted it, as shown on the stub."))
    restriction_reason = models.TextField(blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    # The conversation, kept current by the services.
    progress = models.PositiveSmallIntegerField(choices=Progress.choices, default=Progress.UNHEARD)
    heard_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    change_planned_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    response_count = models.PositiveIntegerField(default=0)
    me_too_count = models.PositiveIntegerField(default=0)
    last_activity_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Kept by the database from the text and the criticality (see ``queue_urgent_sql``): the
    # moderation queue reads urgent stories first through an index, without reading every text.
    queue_urgent = models.GeneratedField(
        expression=RawSQL(queue_urgent_sql(), ()),  # noqa: S611 -- fixed SQL from our own constants
        output_field=models.BooleanField(), db_persist=True,
    )

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name_plural = _("stories")
        indexes = [
            # The moderation queue: oldest first within a status.
            models.Index(fields=["status", "submitted_at", "id"], name="stories_story_queue"),
            # The pending stories as the queue reads them: urgent first, then the oldest.
            models.Index(
                fields=["-queue_urgent", "submitted_at", "id"], condition=models.Q(status="pending"),
                name="stories_story_pending_urgent",
            ),
            models.Index(fields=["status", "held_until"], name="stories_story_held"),
            models.Index(fields=["author_email"], name="stories_story_author_email"),
            models.Index(fields=["published_at", "id"], name="stories_story_published"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(title=""), name="stories_story_title_present"),
            models.CheckConstraint(condition=~models.Q(body=""), name="stories_story_body_present"),
            models.CheckConstraint(condition=~models.Q(pseudonym=""), name="stories_story_pseudonym_present"),
            models.CheckConstraint(
                condition=models.Q(status__in=[c.value for c in StoryStatus]), name="stories_story_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(criticality__isnull=True) | models.Q(criticality__gte=0, criticality__lte=5),
                name="stories_story_criticality_range",
            ),
            models.CheckConstraint(
                condition=models.Q(progress__gte=0, progress__lte=4), name="stories_story_progress_range"
            ),
            models.CheckConstraint(
                condition=models.Q(author_role__in=[c.value for c in AuthorRole]),
                name="stories_story_author_role_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(route__in=[c.value for c in SubmissionRoute]), name="stories_story_route_valid"
            ),
            # An assisted story always records the author's consent and who entered it.
            models.CheckConstraint(
                condition=~models.Q(route__in=[r.value for r in ASSISTED_ROUTES])
                | models.Q(consent_given_at__isnull=False, entered_by__isnull=False),
                name="stories_story_assisted_has_consent",
            ),
            # Anything the public can see has been published.
            models.CheckConstraint(
                condition=~models.Q(status__in=[StoryStatus.PUBLISHED, StoryStatus.RESTRICTED])
                | models.Q(published_at__isnull=False),
                name="stories_story_public_has_published_at",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=StoryStatus.WITHDRAWN) | models.Q(withdrawn_at__isnull=False),
                name="stories_story_withdrawn_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=StoryStatus.HELD) | models.Q(held_until__isnull=False),
                name="stories_story_held_has_until",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("stories:story", kwargs={"pk": self.pk})

    @property
    def is_public(self) -> bool:
        """The page exists for the public (it may be a stub)."""
        return self.status in PUBLIC_STATUSES

    @property
    def shows_text(self) -> bool:
        """The public may read the text itself (not a stub)."""
        return self.status == StoryStatus.PUBLISHED


class StoryService(models.Model):
    """A service a story is about.  The first one chosen is the main one (``position`` 0)."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="story_services")
    service = models.ForeignKey("directory.Service", on_delete=models.PROTECT, related_name="story_links")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["story", "position"]
        constraints = [
            models.UniqueConstraint(fields=["story", "service"], name="stories_storyservice_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.story_id} → {self.service_id}"


class TagSuggestion(models.Model):
    """A tag an author proposed; a moderator turns it into a curated tag or declines it."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="tag_suggestions")
    name = models.CharField(max_length=60)
    polarity = models.CharField(max_length=10, choices=TagPolarity.choices)
    accepted_tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["story", "polarity", "name"], name="stories_tagsuggestion_unique"),
            models.CheckConstraint(
                condition=models.Q(polarity__in=[c.value for c in TagPolarity]),
                name="stories_tagsuggestion_polarity_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name
