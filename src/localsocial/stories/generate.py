"""The stories' generator step (found by ``localsocial generate`` in this app's ``generate.py``): stories about the generated services, with their services,
tags, original text, list rows, the dashboard's daily totals, staff reads, "me too"s, responses
and helpful ratings.

Everything a page or a service reads is consistent, as if the stories had gone through the
real services one by one: a published story has its ``StoryListing`` rows for exactly the
lists ``story_listing_scopes`` gives; ``progress`` follows from the recorded times as
``progress_for`` says; ``response_count`` counts its published responses and ``me_too_count``
its ``MeToo`` rows; a response's helpful counts are its ``HelpfulRating`` rows; assisted
stories record consent and who entered them.  Tasks find nothing to do: responses are marked
as already announced to followers.

Generated stories are marked by their author's address (``…@generated.invalid``), tags that
had to be created by their slug (``gen-…``).  ``--reset`` deletes those stories (and what hangs
off them) and the generated tags no story uses any more.

How many: ``--stories N``, or 10,000 times the scale (the option declared below).

Shape (``--stories 1000000``): services are ranked at random and chosen with a Zipf-like
weight, so a few services (and the councils and trusts above them) have tens of thousands of
stories and most have a handful; 15% of stories are about a second service of the same
organisation; 0-4 tags whose polarity follows the story's tone; months spread over the last
two years, more recent ones busier; 86% published, the rest pending, held, rejected, withdrawn
or restricted; criticality 0-5, mostly low; about 0.6 responses a story.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any

from django.db import connection, models
from django.db.models import QuerySet

from localsocial.accounts.models import RoleGrant, SiteRole
from localsocial.core.generate import (
    GENERATED_EMAIL_DOMAIN,
    GENERATED_SLUG_PREFIX,
    GenerateContext,
    bulk_insert,
    delete_fast,
    generator_option,
    generator_step,
    next_id,
    reset_sequences,
)
from localsocial.core.generate.vocabulary import FIRST_NAMES
from localsocial.directory.models import (
    Organisation,
    OrganisationMembership,
    Service,
    StaffRole,
    path_ids,
)
from localsocial.stories import generate_vocabulary as words
from localsocial.stories.models import (
    AgeGroup,
    AuthorRole,
    ChangeKind,
    HelpfulRating,
    ListingScope,
    MeToo,
    Progress,
    Response,
    ResponseStatus,
    Story,
    StoryListing,
    StoryRead,
    StoryRevision,
    StoryService,
    StoryStatus,
    SubmissionRoute,
    Tag,
)
from localsocial.stories.services.totals import story_totals_rebuild

STORIES_PER_SCALE = 10_000
# Responses (from organisations, and authors' replies) per story, on average.
RESPONSES_PER_STORY = 0.6
generator_option(
    "stories", per_scale=STORIES_PER_SCALE,
    help=f"How many stories (default {STORIES_PER_SCALE:,} times the scale), about {RESPONSES_PER_STORY} "
         "responses each.",
)

# Stories are written this many at a time: each table's rows for a chunk go in one COPY.
CHUNK = 10_000
# Zipf exponent of the services' popularity: the busiest of 6,160 services gets about 3.5%
# of the stories, the median one about 0.006%.
SERVICE_SKEW = 0.8
SECOND_SERVICE_SHARE = 0.15
RARE_WORD_SHARE = 0.025
MONTHS = 24
# From this many stories on, PostgreSQL loads the tables without their secondary indexes,
# unique and foreign-key constraints, and rebuilds them afterwards (see ``_bulk_load``).
BULK_LOAD_STORIES = 50_000

STORY_COLUMNS = [
    "id", "title", "body", "feelings", "author_id", "author_email", "pseudonym", "author_role",
    "age_group", "happened_month", "author_token_hash", "route", "entered_by_id",
    "consent_given_at", "consent_note", "text_hash", "submitted_ip", "status", "criticality",
    "submitted_at", "moderated_at", "moderated_by_id", "held_until", "published_at",
    "rejection_reason", "restricted_by", "restriction_reason", "withdrawn_at", "progress",
    "heard_at", "read_at", "first_response_at", "change_planned_at", "changed_at",
    "response_count", "me_too_count", "last_activity_at", "updated_at",
]
REVISION_COLUMNS = ["story_id", "kind", "title", "body", "feelings", "edited_by_id", "reason", "created_at"]
LISTING_COLUMNS = [
    "scope", "scope_id", "story_id", "published_at", "happened_month", "progress", "criticality",
    "first_response_at", "change_planned_at", "changed_at",
]
RESPONSE_COLUMNS = [
    "id", "story_id", "organisation_id", "responder_id", "is_author_reply", "signature", "body",
    "status", "rejection_reason", "change", "change_description", "author_confirmed",
    "author_confirmed_at", "author_confirmation_note", "helpful_count", "not_helpful_count",
    "created_at", "published_at", "edited_at", "moderated_by_id", "followers_notified_at",
    "confirmation_requested_at",
]

CRITICALITY_WEIGHTS = [45, 20, 15, 10, 7, 3]
ROLE_WEIGHTS = [(AuthorRole.PATIENT, 55), (AuthorRole.RELATIVE, 20), (AuthorRole.CARER, 12),
                (AuthorRole.OTHER, 10), (AuthorRole.STAFF, 3)]
AGE_WEIGHTS = [("", 25), (AgeGroup.UNDER_18, 3), (AgeGroup.AGE_18_24, 7), (AgeGroup.AGE_25_34, 12),
               (AgeGroup.AGE_35_49, 16), (AgeGroup.AGE_50_64, 15), (AgeGroup.AGE_65_79, 14),
               (AgeGroup.AGE_80_PLUS, 8)]
ROUTE_WEIGHTS = [(SubmissionRoute.WEB, 88), (SubmissionRoute.PHONE, 6), (SubmissionRoute.PAPER, 4),
                 (SubmissionRoute.API, 2)]
# Organisation responses to a story that staff have read: none, one, two or three.
RESPONSE_NUMBER_WEIGHTS = [35, 52, 10, 3]


def generated_stories() -> QuerySet[Story]:
    return Story.objects.filter(author_email__endswith=f"@{GENERATED_EMAIL_DOMAIN}")


def stories_reset() -> int:
    deleted = delete_fast(generated_stories())
    unused = Tag.objects.filter(slug__startswith=GENERATED_SLUG_PREFIX).exclude(
        pk__in=Story.tags.through.objects.values("tag_id")
    )
    deleted += unused.delete()[0]
    story_totals_rebuild()  # the deleted stories' list rows went without the services
    return deleted


# --- What the stories are about --------------------------------------------------------------


@dataclass
class _Staff:
    organisation_id: int
    user_id: int
    signature: str


@dataclass
class _Service:
    id: int
    root_id: int
    organisation_id: int
    kind: str
    place: str
    # The lists a story about this service is in, apart from "all" and its tags.
    scopes: tuple[tuple[str, int], ...]
    # Who may answer for the organisations on its lineage: responders, else administrators.
    staff: list[_Staff] = field(default_factory=list)
    organisation_name: str = ""


def _kind_and_place(name: str) -> tuple[str, str]:
    # "Fracture clinic, Ashbury General Hospital" or "Garden waste collection in Ashbury".
    if ", " in name:
        kind, place = name.split(", ", 1)
    elif " in " in name:
        kind, place = name.rsplit(" in ", 1)
    else:
        kind, place = name, "the area"
    # "fracture clinic" in a sentence, but "MRI and CT scanning" stays as it is.
    if not any(char.isupper() for char in kind[1:]):
        kind = kind[0].lower() + kind[1:]
    return kind, place


def _services(ctx: GenerateContext) -> list[_Service]:
    """The services this run's stories are about (the ones this run generated, else every
    generated service), with their lineage, list scopes and staff."""
    ids = ctx.ids.get("services")
    queryset = Service.objects.filter(slug__startswith=GENERATED_SLUG_PREFIX)
    if isinstance(ids, range) and ids:
        queryset = queryset.filter(pk__gte=ids.start, pk__lt=ids.stop)
    elif ids:
        queryset = queryset.filter(pk__in=list(ids))
    rows = list(queryset.order_by("pk").values_list("pk", "name", "organisation_id", "organisation__path"))
    lineages = {pk: path_ids(path) or [org_id] for pk, _name, org_id, path in rows}
    org_ids = sorted({org for lineage in lineages.values() for org in lineage})
    names = dict(Organisation.objects.filter(pk__in=org_ids).values_list("pk", "name"))
    served: dict[int, list[int]] = {}
    through = Organisation.areas_served.through
    for org_id, area_id in through.objects.filter(organisation_id__in=org_ids).order_by("pk").values_list(
        "organisation_id", "area_id"
    ):
        served.setdefault(org_id, []).append(area_id)
    staff: dict[int, dict[str, list[_Staff]]] = {}
    for org_id, user_id, role, job_title, display_name in (
        OrganisationMembership.objects.filter(
            organisation_id__in=org_ids, role__in=[StaffRole.RESPONDER, StaffRole.ADMINISTRATOR]
        ).order_by("pk").values_list("organisation_id", "user_id", "role", "job_title", "user__display_name")
    ):
        signature = ", ".join(part for part in (display_name, job_title) if part) or names.get(org_id, "")
        staff.setdefault(org_id, {}).setdefault(role, []).append(_Staff(org_id, user_id, signature))
    services = []
    for pk, name, org_id, _path in rows:
        lineage = lineages[pk]
        areas = sorted({area for org in lineage for area in served.get(org, [])})
        scopes = (
            (ListingScope.SERVICE.value, pk),
            *((ListingScope.ORGANISATION.value, org) for org in lineage),
            *((ListingScope.AREA.value, area) for area in areas),
        )
        responders = [s for org in lineage for s in staff.get(org, {}).get(StaffRole.RESPONDER, [])]
        admins = [s for org in lineage for s in staff.get(org, {}).get(StaffRole.ADMINISTRATOR, [])]
        kind, place = _kind_and_place(name)
        services.append(_Service(
            id=pk, root_id=lineage[0], organisation_id=org_id, kind=kind, place=place, scopes=scopes,
            staff=responders or admins, organisation_name=names.get(org_id, ""),
        ))
    return services


def _tags(rng: random.Random) -> dict[str, list[int]]:
    """The curated tags by polarity, most used first: the existing rows with the vocabulary's
    names, and new ones (slug ``gen-…``) for the names the site does not have yet."""
    existing = {(polarity, name): pk for pk, polarity, name in Tag.objects.values_list("pk", "polarity", "name")}
    taken = set(Tag.objects.filter(slug__startswith=GENERATED_SLUG_PREFIX).values_list("slug", flat=True))
    missing = []
    for slug, name, polarity in words.STORY_TAGS:
        if (polarity, name) in existing:
            continue
        candidate, suffix = f"{GENERATED_SLUG_PREFIX}{slug}", 2
        while candidate in taken:
            candidate, suffix = f"{GENERATED_SLUG_PREFIX}{slug}-{suffix}", suffix + 1
        taken.add(candidate)
        missing.append(Tag(name=name, polarity=polarity, slug=candidate))
    Tag.objects.bulk_create(missing)
    existing = {(polarity, name): pk for pk, polarity, name in Tag.objects.values_list("pk", "polarity", "name")}
    by_polarity: dict[str, list[int]] = {"good": [], "improve": []}
    for _slug, name, polarity in words.STORY_TAGS:
        by_polarity[polarity].append(existing[(polarity, name)])
    for ids in by_polarity.values():
        rng.shuffle(ids)  # which tags are popular
    return by_polarity


# --- Text ----------------------------------------------------------------------------------


def _render(template: str, rng: random.Random) -> str:
    """A template with its vocabulary slots filled; ``{service}`` and ``{place}`` are left for
    each story to fill."""
    good = rng.choice(words.GOOD_WORDS)
    bad = rng.choice(words.BAD_WORDS)
    text = template.format(
        staff=rng.choice(words.STAFF_WORDS), good=good, bad=bad, Good=good.capitalize(),
        Bad=bad.capitalize(), thing=rng.choice(words.THINGS), when=rng.choice(words.WHEN_WORDS),
        service="{service}", place="{place}", rare="{rare}",
    )
    return text[0].upper() + text[1:]


def _pool(templates: Sequence[str], rng: random.Random, size: int) -> list[tuple[str, int]]:
    rendered = [_render(rng.choice(templates), rng) for _ in range(size)]
    return [(text, len(text.split())) for text in rendered]


@dataclass
class _Text:
    """Pre-rendered sentences: writing a million stories is then picking and joining."""

    sentences: dict[str, list[tuple[str, int]]]
    openings: list[tuple[str, int]]
    titles: dict[str, list[str]]
    feelings: dict[str, list[str]]
    responses: list[str]
    planned: list[str]
    made: list[str]
    replies: list[str]

    @classmethod
    def build(cls, rng: random.Random) -> _Text:
        openings = [t for t in words.NEUTRAL_SENTENCES if "{service}" in t]
        return cls(
            sentences={
                "good": _pool(words.GOOD_SENTENCES * 3 + words.NEUTRAL_SENTENCES, rng, 3000),
                "bad": _pool(words.BAD_SENTENCES * 3 + words.NEUTRAL_SENTENCES, rng, 3000),
                "mixed": _pool(words.GOOD_SENTENCES + words.BAD_SENTENCES + words.NEUTRAL_SENTENCES, rng, 3000),
            },
            openings=_pool(openings, rng, 500),
            titles={
                "good": [_render(t, rng) for t in words.TITLES_GOOD * 20],
                "bad": [_render(t, rng) for t in words.TITLES_BAD * 20],
                "mixed": [_render(t, rng) for t in words.TITLES_MIXED * 30],
            },
            feelings={"good": words.FEELINGS_GOOD, "bad": words.FEELINGS_BAD,
                      "mixed": words.FEELINGS_GOOD + words.FEELINGS_BAD},
            responses=[_render(t, rng) for t in words.RESPONSE_SENTENCES * 20],
            planned=[_render(t, rng) for t in words.CHANGES_PLANNED * 10],
            made=[_render(t, rng) for t in words.CHANGES_MADE * 10],
            replies=[_render(t, rng) for t in words.AUTHOR_REPLIES * 10],
        )


def _words_target(rng: random.Random) -> int:
    # Log-normal: most stories are 80-200 words, a few run to 360 (and at most a sentence more).
    return min(360, max(40, int(rng.lognormvariate(math.log(120), 0.55))))


def _fill(text: str, service: _Service) -> str:
    return text.replace("{service}", service.kind).replace("{place}", service.place)


def _key(*parts: object) -> str:
    # ``_key("user:7")`` is ``person_key(user=<user 7>)``: the same person, the same key.
    return hashlib.sha256(":".join(str(p) for p in parts).encode("utf-8")).hexdigest()


# --- The run ---------------------------------------------------------------------------------


@dataclass
class _Rows:
    stories: list[tuple[Any, ...]] = field(default_factory=list)
    services: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[Any, ...]] = field(default_factory=list)
    revisions: list[tuple[Any, ...]] = field(default_factory=list)
    listings: list[tuple[Any, ...]] = field(default_factory=list)
    reads: list[tuple[Any, ...]] = field(default_factory=list)
    me_toos: list[tuple[Any, ...]] = field(default_factory=list)
    responses: list[tuple[Any, ...]] = field(default_factory=list)
    ratings: list[tuple[Any, ...]] = field(default_factory=list)

    def write(self) -> int:
        written = bulk_insert(Story, STORY_COLUMNS, self.stories)
        written += bulk_insert(StoryService, ["story_id", "service_id", "position"], self.services)
        written += bulk_insert(Story.tags.through, ["story_id", "tag_id"], self.tags)
        written += bulk_insert(StoryRevision, REVISION_COLUMNS, self.revisions)
        written += bulk_insert(StoryListing, LISTING_COLUMNS, self.listings)
        written += bulk_insert(StoryRead, ["story_id", "user_id", "organisation_id", "read_at"], self.reads)
        written += bulk_insert(MeToo, ["story_id", "person_key", "user_id", "created_at"], self.me_toos)
        written += bulk_insert(Response, RESPONSE_COLUMNS, self.responses)
        written += bulk_insert(HelpfulRating, ["response_id", "person_key", "helpful", "by_author", "created_at"],
                               self.ratings)
        return written


def _picker(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Callable[[], Any]:
    values = [value for value, _w in weighted]
    cumulative = list(accumulate(weight for _v, weight in weighted))
    return lambda: rng.choices(values, cum_weights=cumulative)[0]


def _cap(when: datetime, now: datetime) -> datetime | None:
    return when if when <= now else None


def _bulk_load_models() -> list[type[models.Model]]:
    return [Story, StoryService, Story.tags.through, StoryRevision, StoryListing, StoryRead, MeToo, Response,
            HelpfulRating]


@contextmanager
def _bulk_load(tables: Sequence[type[models.Model]], *, enabled: bool) -> Iterator[None]:
    """Write to ``tables`` without their secondary indexes, unique and foreign-key
    constraints, then put every one back exactly as it was (PostgreSQL; elsewhere, or when
    not ``enabled``, nothing happens).

    A million stories mean ten million list rows: inserted one by one into four B-tree
    indexes far larger than the default 128 MB of shared buffers, each row costs random reads,
    and each deferred foreign-key check is a query of its own at commit.  Built afterwards, an
    index is one sort, and a foreign key or unique constraint is checked by one query over the
    table.  The whole run is one transaction, so a failure leaves every index and constraint
    in place; re-adding them checks the generated rows against all of them."""
    if not enabled or connection.vendor != "postgresql":
        yield
        return
    names = [str(model._meta.db_table) for model in tables]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f') ORDER BY contype DESC, conname",
            [names],
        )
        constraints = cursor.fetchall()  # unique ones first, then foreign keys
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary "
            "AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conindid <> 0) "
            "ORDER BY indexrelid::regclass::text",
            [names],
        )
        indexes = cursor.fetchall()
        # Dropping a foreign key alters the table it points at too, which PostgreSQL refuses
        # while that table has deferred checks pending (the directory rows just written):
        # run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        quote = connection.ops.quote_name
        for table, name, _definition in reversed(constraints):
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor:
        # Enough memory for each index to be built in one sort (the default is 64 MB).
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


@generator_step("stories.stories", order=100, reset=stories_reset)
def stories_generate(ctx: GenerateContext) -> int:
    """``plan.count("stories")`` stories about the generated services, with everything that hangs off
    them; returns the number of rows written in all the tables."""
    # The submission service's own hash, so that the duplicate check treats these as it would.
    from localsocial.stories.services.submission import text_hash

    plan, rng, now = ctx.plan, ctx.rng, ctx.now
    stories = plan.count("stories")
    if stories <= 0:
        return 0
    services = _services(ctx)
    if not services:
        return 0
    tags = _tags(rng)
    text = _Text.build(rng)

    # Popularity: services ranked at random, weight 1/rank^s.
    ranked = list(services)
    rng.shuffle(ranked)
    service_weights = list(accumulate(1 / (rank + 1) ** SERVICE_SKEW for rank in range(len(ranked))))
    by_root: dict[int, list[_Service]] = {}
    for service in services:
        by_root.setdefault(service.root_id, []).append(service)
    tag_weights = {polarity: list(accumulate(1 / (rank + 1) for rank in range(len(ids))))
                   for polarity, ids in tags.items()}

    users = ctx.ids.get("users") or range(0)
    # Authors are people after the first ones, who are staff and moderators.
    skip = min(len(users) // 2, plan.memberships + plan.role_grants)
    authors = users[skip:]
    moderators = list(RoleGrant.objects.filter(
        role=SiteRole.MODERATOR, user__email__endswith=f"@{GENERATED_EMAIL_DOMAIN}"
    ).order_by("user_id").values_list("user_id", flat=True))
    all_staff = sorted({s.user_id for service in services for s in service.staff})

    months: list[tuple[date, datetime]] = []
    first_of_month = now.date().replace(day=1)
    for back in range(MONTHS):
        year, month = divmod(first_of_month.year * 12 + first_of_month.month - 1 - back, 12)
        start = now.replace(year=year, month=month + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
        months.append((start.date(), start))
    month_weights = list(accumulate(1 + (MONTHS - 1 - back) / (MONTHS - 1) for back in range(MONTHS)))

    pick_role = _picker(rng, ROLE_WEIGHTS)
    pick_age = _picker(rng, AGE_WEIGHTS)
    pick_route = _picker(rng, ROUTE_WEIGHTS)
    criticality_weights = list(accumulate(CRITICALITY_WEIGHTS))
    response_number_weights = list(accumulate(RESPONSE_NUMBER_WEIGHTS))
    random_ = rng.random
    randrange = rng.randrange
    choice = rng.choice
    minute = timedelta(minutes=1)
    hour = timedelta(hours=1)
    day = timedelta(days=1)

    first_story = next_id(Story)
    next_response = next_id(Response)
    written = 0
    rows = _Rows()
    with _bulk_load(_bulk_load_models(), enabled=stories >= BULK_LOAD_STORIES):
        for story_id in range(first_story, first_story + stories):
            # What it is about.
            main = rng.choices(ranked, cum_weights=service_weights)[0]
            about = [main]
            if random_() < SECOND_SERVICE_SHARE:
                siblings = by_root[main.root_id]
                other = siblings[randrange(len(siblings))]
                if other is not main:
                    about.append(other)

            # When, and what became of it.
            happened_month, month_start = rng.choices(months, cum_weights=month_weights)[0]
            span = min((now - month_start).total_seconds(), 50 * 86_400)
            submitted_at = month_start + timedelta(seconds=random_() * span)
            age = now - submitted_at
            criticality: int | None = rng.choices(range(6), cum_weights=criticality_weights)[0]
            status = StoryStatus.PUBLISHED
            published_at = moderated_at = held_until = withdrawn_at = None
            rejection_reason = restricted_by = restriction_reason = ""
            draw = random_()
            if age < 10 * day and draw < 0.5:
                status, criticality = StoryStatus.PENDING, None
            elif draw < 0.04:
                status = StoryStatus.REJECTED
                moderated_at = _cap(submitted_at + timedelta(hours=1 + 47 * random_()), now) or now
                rejection_reason = "Your story names a member of staff, so we could not publish it as it was."
            elif age < 30 * day and draw < 0.06:
                status = StoryStatus.HELD
                criticality = 4 + randrange(2)
                moderated_at = submitted_at + timedelta(hours=1 + 20 * random_())
                moderated_at = moderated_at if moderated_at <= now else now
                held_until = now + timedelta(days=1 + randrange(7))
            else:
                published_at = submitted_at + timedelta(minutes=30 + random_() * 72 * 60)
                if published_at > now:
                    status, criticality, published_at = StoryStatus.PENDING, None, None
                else:
                    moderated_at = published_at
                    if draw > 0.98:
                        status = StoryStatus.WITHDRAWN
                        withdrawn_at = published_at + (now - published_at) * random_()
                    elif draw > 0.97:
                        status = StoryStatus.RESTRICTED
                        restricted_by = "The Local Social moderators"
                        restriction_reason = "A court case about these events is under way."
            moderated_by = moderators[randrange(len(moderators))] if moderators and moderated_at else None

            # The text, in the story's tone.
            tone = "mixed" if criticality is None or criticality in (1, 2) else ("good" if criticality == 0 else "bad")
            target = _words_target(rng)
            opening, count = text.openings[randrange(len(text.openings))]
            parts = [opening]
            pool = text.sentences[tone]
            while count < target:
                sentence, length = pool[randrange(len(pool))]
                parts.append(sentence)
                count += length
            if random_() < RARE_WORD_SHARE:
                parts.insert(1, words.RARE_SENTENCE.format(rare=choice(words.RARE_WORDS)))
            body = _fill("\n\n".join(" ".join(parts[i:i + 4]) for i in range(0, len(parts), 4)), main)
            titles = text.titles[tone]
            title = _fill(titles[randrange(len(titles))], main)[:150]
            feelings = "" if random_() < 0.2 else " ".join(rng.sample(text.feelings[tone], 1 + randrange(2)))

            # Who told it, and how.
            role = pick_role()
            route = pick_route()
            author_id = authors[randrange(len(authors))] if authors and route == SubmissionRoute.WEB \
                and random_() < 0.6 else None
            author_email = (f"person{author_id}@{GENERATED_EMAIL_DOMAIN}" if author_id
                            else f"author{story_id}@{GENERATED_EMAIL_DOMAIN}")
            entered_by = consent_at = None
            consent_note = ""
            if route in (SubmissionRoute.PHONE, SubmissionRoute.PAPER):
                if all_staff:
                    local = main.staff
                    entered_by = local[randrange(len(local))].user_id if local else all_staff[randrange(len(all_staff))]
                    consent_at = submitted_at
                    consent_note = ("Consent given on the phone and the story read back."
                                    if route == SubmissionRoute.PHONE else "Signed consent on the paper form.")
                else:
                    route = SubmissionRoute.WEB
            first_name = choice(FIRST_NAMES)
            shape = randrange(4)
            pseudonym = (first_name if shape == 0 else f"{first_name} from {main.place}"[:60] if shape == 1
                         else choice(words.PSEUDONYM_ROLES))

            # The conversation (published stories only).
            heard_at = read_at = first_response_at = change_planned_at = changed_at = None
            response_count = me_too_count = 0
            last_activity = published_at or submitted_at
            if status == StoryStatus.PUBLISHED and published_at is not None:
                staff = main.staff
                if staff and random_() < 0.95:
                    heard_at = _cap(published_at + minute * (1 + randrange(60)), now)
                if heard_at and random_() < 0.75:
                    read_at = _cap(heard_at + hour + timedelta(hours=random_() * 120), now)
                if read_at:
                    reader = staff[randrange(len(staff))]
                    rows.reads.append((story_id, reader.user_id, reader.organisation_id, read_at))
                    last_activity = read_at
                    number = rng.choices(range(4), cum_weights=response_number_weights)[0]
                    when = read_at
                    for index in range(number):
                        when = when + hour + timedelta(hours=random_() * (240 if index == 0 else 480))
                        if when > now:
                            break
                        responder = staff[randrange(len(staff))]
                        change = description = ""
                        confirmed = confirmed_at = None
                        draw = random_()
                        if draw < 0.10:
                            change, description = ChangeKind.PLANNED, choice(text.planned)
                        elif draw < 0.16:
                            change, description = ChangeKind.MADE, choice(text.made)
                            if author_id and random_() < 0.5 and when + day <= now:
                                confirmed, confirmed_at = True, when + day
                        pending = index == number - 1 and index > 0 and random_() < 0.1
                        response_body = " ".join([
                            _fill(words.RESPONSE_OPENINGS[randrange(len(words.RESPONSE_OPENINGS))], main)
                            .replace("{name}", pseudonym).replace("{thing}", choice(words.THINGS)),
                            *rng.sample(text.responses, 2 + randrange(4)),
                            *([description] if description else []),
                        ])
                        response_id = next_response
                        next_response += 1
                        published = None if pending else when
                        helpful = not_helpful = 0
                        if published:
                            response_count += 1
                            last_activity = when
                            if first_response_at is None:
                                first_response_at = when
                            if change == ChangeKind.PLANNED and change_planned_at is None:
                                change_planned_at = when
                            if change == ChangeKind.MADE and changed_at is None:
                                changed_at = when
                            helpful = int(rng.expovariate(0.7)) if random_() < 0.6 else 0
                            not_helpful = 1 + randrange(2) if random_() < 0.1 else 0
                            for n in range(helpful + not_helpful):
                                # The author's own rating has their person key (``person_key``).
                                by_author = n == 0 and author_id is not None
                                person = _key(f"user:{author_id}") if by_author else _key("gen-rating", response_id, n)
                                rows.ratings.append((response_id, person, n < helpful, by_author, when + hour))
                        rows.responses.append((
                            response_id, story_id, responder.organisation_id, responder.user_id, False,
                            responder.signature, response_body,
                            ResponseStatus.PENDING if pending else ResponseStatus.PUBLISHED, "", change, description,
                            confirmed, confirmed_at, "", helpful, not_helpful, when, published, None, None,
                            published, published if change and published else None,
                        ))
                        if published and random_() < 0.15 and when + day <= now:
                            # The author replies.
                            reply_at = when + day
                            reply = _fill(text.replies[randrange(len(text.replies))], main).replace(
                                "{thing}", choice(words.THINGS))
                            rows.responses.append((
                                next_response, story_id, None, author_id, True, pseudonym, reply,
                                ResponseStatus.PUBLISHED, "", "", "", None, None, "", 0, 0, reply_at, reply_at,
                                None, None, reply_at, None,
                            ))
                            next_response += 1
                            response_count += 1
                            last_activity = when = reply_at
                if random_() < 0.15:
                    me_too_count = 1 + int(rng.expovariate(0.25))
                    for n in range(me_too_count):
                        rows.me_toos.append((story_id, _key("gen-me-too", story_id, n), None,
                                             published_at + (now - published_at) * random_()))
            progress = (Progress.CHANGED if changed_at else Progress.RESPONDED if first_response_at
                        else Progress.READ if read_at else Progress.HEARD if heard_at else Progress.UNHEARD)

            rows.stories.append((
                story_id, title, body, feelings, author_id, author_email, pseudonym, role, pick_age(),
                happened_month, _key("gen-story-token", story_id), route, entered_by, consent_at, consent_note,
                text_hash(title=title, body=body, feelings=feelings), None, status, criticality, submitted_at, moderated_at,
                moderated_by, held_until, published_at, rejection_reason, restricted_by, restriction_reason,
                withdrawn_at, progress, heard_at, read_at, first_response_at, change_planned_at, changed_at,
                response_count, me_too_count, last_activity, now,
            ))
            rows.revisions.append((story_id, StoryRevision.Kind.ORIGINAL, title, body, feelings, None, "",
                                   submitted_at))
            for position, service in enumerate(about):
                rows.services.append((story_id, service.id, position))

            # Tags in the story's tone: none to four.
            chosen: set[int] = set()
            for _ in range(randrange(5)):
                polarity = ("good" if tone == "good" or (tone == "mixed" and random_() < 0.5)
                            else "improve")
                chosen.add(rng.choices(tags[polarity], cum_weights=tag_weights[polarity])[0])
            for tag_id in sorted(chosen):
                rows.tags.append((story_id, tag_id))

            if status == StoryStatus.PUBLISHED and published_at is not None:
                scopes = {(ListingScope.ALL.value, 0)}
                for service in about:
                    scopes.update(service.scopes)
                scopes.update((ListingScope.TAG.value, tag_id) for tag_id in chosen)
                for scope, scope_id in sorted(scopes):
                    rows.listings.append((scope, scope_id, story_id, published_at, happened_month, progress,
                                          criticality, first_response_at, change_planned_at, changed_at))

            if len(rows.stories) >= CHUNK:
                written += rows.write()
                rows = _Rows()
        written += rows.write()
    reset_sequences(Story, Response, StoryService, Story.tags.through, StoryRevision, StoryListing,
                    StoryRead, MeToo, HelpfulRating)
    # The dashboard's daily totals, worked out from the list rows just written (and any
    # already there) in two INSERT … SELECT, rather than story by story.
    days, tag_days = story_totals_rebuild()
    ctx.ids["stories"] = range(first_story, first_story + stories)
    return written + days + tag_days


__all__ = ["generated_stories", "stories_generate", "stories_reset"]
