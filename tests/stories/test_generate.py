"""``localsocial generate --stories N`` (the step and option in ``stories/generate.py``): stories that look as if the real services had written
them — valid rows, the same list rows ``story_listing_refresh`` writes, consistent progress and
counts — and that ``--reset`` removes without touching anything else."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Min, Q

from localsocial.core.generate import GenerationPlan
from localsocial.directory.models import OrganisationMembership, StaffRole, path_ids
from localsocial.stories import generate as stories_steps
from localsocial.stories.generate_vocabulary import STORY_TAGS
from localsocial.stories.models import (
    ChangeKind,
    HelpfulRating,
    MeToo,
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
from localsocial.stories.services.common import progress_for
from localsocial.stories.services.listing import story_listing_refresh
from tests.factories import ResponseFactory, StoryFactory, TagFactory

pytestmark = pytest.mark.django_db

STORIES = 300
LISTING_FIELDS = ("scope", "scope_id", "published_at", "happened_month", "progress", "criticality",
                  "first_response_at", "change_planned_at", "changed_at")


def run_generate(*args: str) -> str:
    out = StringIO()
    call_command("generate", *args, stdout=out)
    return out.getvalue()


def generate_stories(stories: int = STORIES, *extra: str) -> str:
    return run_generate("--scale", "0.01", "--stories", str(stories), *extra)


def generated() -> list[Story]:
    return list(Story.objects.filter(author_email__endswith="@generated.invalid").order_by("pk"))


def listing_rows(story: Story) -> set[tuple[object, ...]]:
    return set(StoryListing.objects.filter(story=story).values_list(*LISTING_FIELDS))


def test_the_plan_counts_stories_apart_from_the_scale():
    assert GenerationPlan.for_scale(1).count("stories") == 10_000
    assert GenerationPlan.for_scale(0.01).count("stories") == 100
    assert GenerationPlan.for_scale(1, counts={"stories": 1_000_000}).count("stories") == 1_000_000
    assert round(1_000_000 * stories_steps.RESPONSES_PER_STORY) == 600_000
    assert GenerationPlan.for_scale(30, counts={"stories": 42}).count("stories") == 42
    assert GenerationPlan.for_scale(30, counts={"stories": None}).count("stories") == 300_000
    assert GenerationPlan.for_scale(30).count("stories") == 300_000
    with pytest.raises(ValueError, match="negative"):
        GenerationPlan.for_scale(1, counts={"stories": -1})


def test_the_stories_option_is_declared_by_the_stories_module():
    from localsocial.core.generate import generator_options

    option = next(option for option in generator_options() if option.name == "stories")
    assert "How many stories" in option.help
    with pytest.raises(CommandError, match="number of stories cannot be negative"):
        run_generate("--scale", "0.01", "--stories", "-1")


def test_generated_counts_match_the_plan():
    output = generate_stories()

    stories = generated()
    assert len(stories) == STORIES
    assert "stories.stories" in output
    assert "300 stories" in output
    # One original revision a story, with the text as it is now.
    originals = StoryRevision.objects.filter(kind=StoryRevision.Kind.ORIGINAL)
    assert originals.count() == STORIES
    assert not StoryRevision.objects.exclude(kind=StoryRevision.Kind.ORIGINAL).exists()
    assert {(r.story_id, r.title, r.body) for r in originals} == {(s.pk, s.title, s.body) for s in stories}
    # About 0.6 responses a story.
    responses = Response.objects.filter(story__in=stories).count()
    assert 0.45 * STORIES <= responses <= 0.75 * STORIES
    # Most published, and some of every other outcome the moderators reach.
    statuses = Counter(s.status for s in stories)
    assert statuses[StoryStatus.PUBLISHED] >= 0.8 * STORIES
    assert statuses[StoryStatus.REJECTED] + statuses[StoryStatus.WITHDRAWN] + statuses[StoryStatus.RESTRICTED] > 0
    # One or two services each, the first at position 0; none to four tags.
    links = Counter(StoryService.objects.values_list("story_id", flat=True))
    assert set(links.values()) == {1, 2}
    assert not StoryService.objects.filter(position__gt=0).exclude(position=1).exists()
    tags = Counter(Story.tags.through.objects.values_list("story_id", flat=True))
    assert max(tags.values()) <= 4
    assert len(tags) < STORIES


def test_generated_rows_satisfy_every_constraint_and_validator():
    generate_stories()

    # The database's own check: foreign keys (and, on PostgreSQL, every deferred constraint).
    connection.check_constraints()
    for story in generated():
        # Field validators, choices, lengths and the model's check and unique constraints.
        story.full_clean()
        words = len(f"{story.body}".split())
        assert 40 <= words <= 400, words
        assert story.happened_month.day == 1
        assert story.happened_month <= story.submitted_at.date()
        if story.published_at:
            assert story.published_at > story.submitted_at
        if story.route in (SubmissionRoute.PHONE, SubmissionRoute.PAPER):
            assert story.entered_by_id
            assert story.consent_given_at
            assert story.consent_note
            assert OrganisationMembership.objects.filter(user_id=story.entered_by_id).exists()
        else:
            assert story.entered_by_id is None
    for response in Response.objects.all():
        response.full_clean()
    assert Story.objects.values("author_token_hash").distinct().count() == STORIES


def test_list_rows_are_what_story_listing_refresh_writes():
    generate_stories()
    stories = generated()
    published = [s for s in stories if s.status == StoryStatus.PUBLISHED]
    two_services = {pk for pk, n in Counter(StoryService.objects.values_list("story_id", flat=True)).items()
                    if n == 2}
    tagged = set(Story.tags.through.objects.values_list("story_id", flat=True))
    # A sample with every shape: two services, tags, areas, responses.
    sample = [s for s in published if s.pk in two_services][:15] + [s for s in published if s.pk in tagged][:15]
    sample += published[::20]
    assert any(s.pk in two_services for s in sample)
    assert any(s.response_count for s in sample)

    for story in sample:
        written = listing_rows(story)
        assert {row[0] for row in written} >= {"all", "svc", "org"}
        story_listing_refresh(story=story)
        assert listing_rows(story) == written, story.pk
    # Stories that are not published are in no list.
    hidden = [s.pk for s in stories if s.status != StoryStatus.PUBLISHED]
    assert hidden
    assert not StoryListing.objects.filter(story_id__in=hidden).exists()


def test_progress_times_and_counts_are_consistent():
    generate_stories()

    responses = Response.objects.filter(status=ResponseStatus.PUBLISHED)
    published_counts = dict(responses.values_list("story_id").annotate(n=Count("pk")))
    organisation = responses.filter(is_author_reply=False).values("story_id")
    first = dict(organisation.annotate(t=Min("published_at")).values_list("story_id", "t"))
    planned = dict(organisation.filter(change=ChangeKind.PLANNED).annotate(t=Min("published_at"))
                   .values_list("story_id", "t"))
    made = dict(organisation.filter(change=ChangeKind.MADE).annotate(t=Min("published_at"))
                .values_list("story_id", "t"))
    me_toos = Counter(MeToo.objects.values_list("story_id", flat=True))
    read = set(StoryRead.objects.values_list("story_id", flat=True))
    progresses = Counter()
    for story in generated():
        assert story.progress == progress_for(story=story)
        progresses[story.progress] += 1
        assert story.response_count == published_counts.get(story.pk, 0)
        assert story.me_too_count == me_toos.get(story.pk, 0)
        assert story.first_response_at == first.get(story.pk)
        assert story.change_planned_at == planned.get(story.pk)
        assert story.changed_at == made.get(story.pk)
        assert (story.read_at is not None) == (story.pk in read)
        times = [t for t in (story.published_at, story.heard_at, story.read_at, story.first_response_at)
                 if t is not None]
        assert times == sorted(times)
        if story.status != StoryStatus.PUBLISHED:
            assert story.heard_at is None
            assert story.response_count == 0
    # Every step of progress occurs.
    assert set(progresses) == {0, 1, 2, 3, 4}
    # Helpful counts are the ratings.
    ratings = HelpfulRating.objects.values("response_id").annotate(
        yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False)))
    by_response = {r["response_id"]: (r["yes"], r["no"]) for r in ratings}
    for response in Response.objects.all():
        assert (response.helpful_count, response.not_helpful_count) == by_response.get(response.pk, (0, 0))


def test_responses_come_from_staff_of_organisations_on_the_stories_lineage():
    generate_stories()

    staff = set(OrganisationMembership.objects.filter(
        role__in=[StaffRole.RESPONDER, StaffRole.ADMINISTRATOR]).values_list("organisation_id", "user_id"))
    lineage: dict[int, set[int]] = {}
    for story_id, path in StoryService.objects.values_list("story_id", "service__organisation__path"):
        lineage.setdefault(story_id, set()).update(path_ids(path))
    org_responses = Response.objects.filter(is_author_reply=False)
    assert org_responses.exists()
    for response in org_responses:
        assert response.organisation_id in lineage[response.story_id]
        assert (response.organisation_id, response.responder_id) in staff
        assert response.signature
    for reply in Response.objects.filter(is_author_reply=True).select_related("story"):
        assert reply.responder_id == reply.story.author_id
        assert reply.signature == reply.story.pseudonym


def test_tags_are_the_curated_set_in_the_stories_tone():
    TagFactory(slug="kind-staff", name="Kind staff", polarity="good")  # as a site's own tag

    generate_stories()

    assert Tag.objects.count() == len(STORY_TAGS)
    assert Tag.objects.get(name="Kind staff").slug == "kind-staff"
    assert Tag.objects.filter(slug__startswith="gen-").count() == len(STORY_TAGS) - 1
    # Uncritical stories are tagged with what was good, very critical ones with what to improve.
    polarities = Counter(Story.tags.through.objects.filter(story__criticality=0)
                         .values_list("tag__polarity", flat=True))
    assert set(polarities) == {"good"}
    polarities = Counter(Story.tags.through.objects.filter(story__criticality__gte=3)
                         .values_list("tag__polarity", flat=True))
    assert set(polarities) == {"improve"}


def test_the_same_seed_tells_the_same_stories():
    generate_stories(60, "--seed", "5")
    first = [(s.title, s.body, s.status, s.criticality) for s in generated()]

    run_generate("--reset")
    generate_stories(60, "--seed", "5")

    assert [(s.title, s.body, s.status, s.criticality) for s in generated()] == first


def test_generating_twice_adds_stories_without_duplicating_tags():
    generate_stories(100)
    generate_stories(100, "--seed", "2")

    assert len(generated()) == 200
    assert Tag.objects.count() == len(STORY_TAGS)
    # The second batch is about the second batch's services.
    services = Counter(StoryService.objects.values_list("service__slug", flat=True))
    assert len(services) > 1


def test_reset_removes_generated_stories_and_nothing_else():
    own_tag = TagFactory(slug="own-tag", name="Own tag", polarity="good")
    own = StoryFactory(tags=[own_tag])
    own_response = ResponseFactory(story=own)
    generate_stories(100)

    output = run_generate("--reset")

    assert generated() == []
    assert "reset stories.stories" in output
    assert Story.objects.filter(pk=own.pk).exists()
    assert Response.objects.filter(pk=own_response.pk).exists()
    assert StoryListing.objects.filter(story=own).exists()
    assert list(Tag.objects.values_list("slug", flat=True)) == ["own-tag"]
    assert not Response.objects.exclude(story=own).exists()
    assert not StoryListing.objects.exclude(story=own).exists()
    assert not MeToo.objects.exists()
    assert not HelpfulRating.objects.exists()


def _schema(tables: list[str]) -> set[tuple[str, ...]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [tables])
        indexes = {tuple(row) for row in cursor.fetchall()}
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[])", [tables])
        return indexes | {tuple(row) for row in cursor.fetchall()}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bulk load is PostgreSQL's")
def test_a_bulk_load_puts_every_index_and_constraint_back(monkeypatch):
    # Given the threshold for loading without indexes lowered to this small run
    monkeypatch.setattr(stories_steps, "BULK_LOAD_STORIES", 1)
    tables = [str(m._meta.db_table) for m in stories_steps._bulk_load_models()]
    before = _schema(tables)
    assert any("search_vector" in " ".join(row) for row in before)

    generate_stories(100)

    # Then the schema is as it was, and the rows satisfy it
    assert _schema(tables) == before
    connection.check_constraints()
    assert len(generated()) == 100
