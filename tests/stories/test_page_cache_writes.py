"""Cached public pages follow every kind of write at once (core.page_cache, decision 0020).

Each test caches the pages a visitor sees (the list, the story's page, an organisation's
list), makes one change through the services, as the site does, and checks that the next
visitor sees the new state and never the old page."""

from __future__ import annotations

import pytest
from django.test import Client

from localsocial.accounts.models import SiteRole
from localsocial.accounts.services import user_erase
from localsocial.directory.services import organisation_update, service_update
from localsocial.stories.services import moderation
from localsocial.stories.services.reading import me_too_add
from localsocial.stories.services.responses import response_create, response_edit, response_publish
from localsocial.stories.services.submission import story_withdraw
from tests.accounts.conftest import page_text
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    RoleGrantFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def visitor_sees(path: str) -> str:
    return page_text(Client().get(path))


def cached(*paths: str) -> None:
    """Store each page for visitors and check the next visitor gets it from the cache."""
    for path in paths:
        Client().get(path)
        assert Client().get(path).headers.get("X-Page-Cache") == "hit", path


@pytest.fixture
def moderator():
    return RoleGrantFactory(role=SiteRole.MODERATOR).user


@pytest.fixture
def council_story():
    council = OrganisationFactory(name="Northgate Council", slug="northgate")
    service = ServiceFactory(organisation=council, name="Bin collection", slug="bins")
    story = StoryFactory(services=[service], title="The bins were missed", pseudonym="Jo from Northgate")
    return story


def pages_of(story) -> list[str]:
    return ["/stories/", f"/stories/{story.pk}/", "/stories/organisations/northgate/", "/stories/services/bins/"]


def test_a_story_published_joins_every_list_at_once(council_story, moderator):
    waiting = StoryFactory(status="pending", services=[council_story.services.first()], title="A kind driver")
    cached(*pages_of(council_story))
    moderation.story_publish(story_id=waiting.pk, actor=moderator)
    for path in ["/stories/", "/stories/organisations/northgate/", "/stories/services/bins/"]:
        assert "A kind driver" in visitor_sees(path), path


def test_a_moderators_edit_shows_on_the_list_and_the_page(council_story, moderator):
    cached(*pages_of(council_story))
    moderation.story_edit(story_id=council_story.pk, actor=moderator, title="The bins were not collected",
                          body="They were not collected on Tuesday.", feelings="", reason="Clearer")
    for path in pages_of(council_story):
        text = visitor_sees(path)
        assert "The bins were not collected" in text, path
        assert "The bins were missed" not in text, path


@pytest.mark.parametrize("how", ["withdrawn by the author", "restricted", "erased with the account"])
def test_a_story_taken_down_is_never_served_from_the_cache(council_story, moderator, how):
    cached(*pages_of(council_story))
    if how == "withdrawn by the author":
        story_withdraw(story_id=council_story.pk)
    elif how == "restricted":
        moderation.story_restrict(story_id=council_story.pk, actor=moderator, reason="legal advice")
    else:
        author = UserFactory(email=council_story.author_email)
        council_story.author = author
        council_story.save(update_fields=["author"])
        user_erase(user=author, actor=author)
    lists = ["/stories/", "/stories/organisations/northgate/", "/stories/services/bins/"]
    page = visitor_sees(f"/stories/{council_story.pk}/")
    if how == "erased with the account":
        # The text stays (it was published for everyone), the name shown does not.
        assert "Jo from Northgate" not in page
        assert "Former member" in page
        for path in lists:
            assert "Jo from Northgate" not in visitor_sees(path), path
    else:
        assert "They were" not in page
        assert "The nurse explained everything" not in page
        for path in lists:
            assert "The bins were missed" not in visitor_sees(path), path


def test_a_response_published_edited_and_rated_shows_at_once(council_story, moderator):
    council = council_story.services.first().organisation
    responder = UserFactory(display_name="Sam Patel")
    MembershipFactory(user=responder, organisation=council, role="responder", job_title="Waste manager")
    cached(*pages_of(council_story))
    response = response_create(story=council_story, actor=responder, organisation=council,
                               body="We are sorry. The crew will come back today.")
    if response.status != "published":
        response_publish(response_id=response.pk, actor=moderator)
    assert "The crew will come back today." in visitor_sees(f"/stories/{council_story.pk}/")
    cached(f"/stories/{council_story.pk}/")
    response_edit(response_id=response.pk, actor=responder, body="We are sorry. The crew came back at 4pm.")
    assert "The crew came back at 4pm." in visitor_sees(f"/stories/{council_story.pk}/")


def test_me_too_moves_the_count_on_the_page(council_story):
    cached(f"/stories/{council_story.pk}/")
    assert "0 people have said this happened to them too." in visitor_sees(f"/stories/{council_story.pk}/")
    me_too_add(story_id=council_story.pk, person_key="someone")
    assert "1 person has said this happened to them too." in visitor_sees(f"/stories/{council_story.pk}/")


def test_new_tags_show_on_the_page_and_the_tag_list(council_story, moderator):
    tag = TagFactory(name="Missed collection", slug="missed-collection")
    cached(f"/stories/{council_story.pk}/", "/stories/tags/missed-collection/")
    moderation.story_tags_set(story_id=council_story.pk, actor=moderator, tag_ids=[tag.pk])
    assert "Missed collection" in visitor_sees(f"/stories/{council_story.pk}/")
    assert "The bins were missed" in visitor_sees("/stories/tags/missed-collection/")


def test_a_renamed_organisation_or_service_is_renamed_on_every_page(council_story):
    service = council_story.services.first()
    pages = [*pages_of(council_story), "/directory/organisations/northgate/", "/directory/services/bins/"]
    cached(*pages)
    organisation_update(actor=None, organisation=service.organisation, name="Northgate Borough Council")
    service_update(actor=None, service=service, name="Household bin collection")
    for path in [f"/stories/{council_story.pk}/", "/stories/organisations/northgate/",
                 "/directory/organisations/northgate/", "/directory/services/bins/"]:
        assert "Northgate Borough Council" in visitor_sees(path), path
    for path in pages:
        assert "Household bin collection" in visitor_sees(path), path
