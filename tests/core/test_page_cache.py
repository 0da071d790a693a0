"""Whole public pages cached for visitors (core.page_cache, decision 0020): who is served from
the cache, what is never shared between two visitors, and HTTP revalidation."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.http import http_date
from freezegun import freeze_time

from localsocial.core.page_cache import (
    NONCE_MARK,
    TOKEN_MARK,
    all_pages_changed,
    generations,
    pages_changed,
)
from tests.accounts.conftest import page_text
from tests.factories import OrganisationFactory, StoryFactory, UserFactory

pytestmark = pytest.mark.django_db

NONCE = re.compile(r'nonce="([^"]+)"')
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def state(response) -> str | None:
    return response.headers.get("X-Page-Cache")


def csp_nonce(response) -> str:
    match = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert match is not None
    return match.group(1)


def test_a_visitor_is_served_the_stored_page_the_second_time():
    StoryFactory(title="The bins came on time")
    first, second = Client().get("/stories/"), Client().get("/stories/")
    assert (state(first), state(second)) == ("miss", "hit")
    assert "The bins came on time" in page_text(second)
    assert page_text(first) == page_text(second)


def test_no_two_visitors_share_a_nonce_or_a_csrf_token():
    pages = [Client().get("/stories/") for _ in range(3)]
    assert [state(page) for page in pages] == ["miss", "hit", "hit"]
    nonces = [set(NONCE.findall(page.content.decode())) for page in pages]
    for page, found in zip(pages, nonces, strict=True):
        assert found == {csp_nonce(page)}  # every script carries this response's own nonce
    assert len({csp_nonce(page) for page in pages}) == 3
    tokens = [TOKEN.findall(page.content.decode()) for page in pages]
    assert all(tokens), "the cookie banner's form carries a token"
    for i, found in enumerate(tokens):  # no token of one response appears in another
        assert not set(found) & {token for other in tokens[i + 1:] for token in other}
    for page in pages:
        assert NONCE_MARK not in page.content
        assert TOKEN_MARK not in page.content


def test_the_token_in_a_page_from_the_cache_works_with_that_visitors_cookie():
    Client().get("/stories/")  # stored
    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get("/stories/")
    assert state(page) == "hit"
    token = TOKEN.search(page.content.decode()).group(1)
    assert "Cookies on Local Social" in page_text(page)
    hidden = visitor.post("/cookies/hide", {"csrfmiddlewaretoken": token, "next": "/stories/"})
    assert hidden.status_code == 302
    # Without the banner the page is another page in the cache.
    after = visitor.get("/stories/")
    assert state(after) == "miss"
    assert "Cookies on Local Social" not in page_text(after)
    assert state(visitor.get("/stories/")) == "hit"


def test_signed_in_people_are_never_served_from_or_stored_into_the_cache(client):
    client.force_login(UserFactory(display_name="Robin"))
    mine = client.get("/stories/")
    assert state(mine) is None
    assert "Sign out" in page_text(mine)
    visitor = Client().get("/stories/")
    assert state(visitor) == "miss"
    assert "Sign out" not in page_text(visitor)


@pytest.mark.parametrize("cookie", ["sessionid", "messages", "ls_person", "someone_elses"])
def test_a_request_with_a_cookie_that_may_make_the_page_its_own_passes_by(cookie):
    Client().get("/stories/")  # stored
    reader = Client()
    reader.cookies[cookie] = "x"
    assert state(reader.get("/stories/")) is None


def test_the_csrf_language_and_banner_cookies_do_not_stop_the_cache():
    Client().get("/stories/")
    reader = Client()
    reader.cookies["csrftoken"] = "a" * 32
    assert state(reader.get("/stories/")) == "hit"


def test_each_language_is_its_own_page():
    english = Client().get("/stories/")
    welsh = Client(HTTP_ACCEPT_LANGUAGE="cy").get("/stories/")
    assert (state(english), state(welsh)) == ("miss", "miss")
    assert '<html lang="cy"' in welsh.content.decode()
    assert '<html lang="en-gb"' in english.content.decode()
    assert state(Client(HTTP_ACCEPT_LANGUAGE="cy").get("/stories/")) == "hit"


def test_the_query_is_part_of_the_key_in_any_order():
    assert state(Client().get("/stories/?sort=oldest&progress=0")) == "miss"
    assert state(Client().get("/stories/?progress=0&sort=oldest")) == "hit"
    assert state(Client().get("/stories/?progress=1&sort=oldest")) == "miss"


def test_error_pages_and_posts_are_not_stored():
    assert Client().get("/stories/services/no-such-service/").status_code == 404
    assert state(Client().get("/stories/services/no-such-service/")) is None
    bad = Client().get("/stories/?published_from=not-a-date")
    assert bad.status_code == 400
    assert state(bad) is None


def test_a_page_answers_a_conditional_request_with_304():
    with freeze_time(timezone.now()) as clock:
        first = Client().get("/stories/")
        etag = first.headers["ETag"]
        assert etag.startswith('W/"')
        assert first.headers["Cache-Control"] == "private, no-cache"
        assert {"Cookie", "Accept-Language"} <= {v.strip() for v in first.headers["Vary"].split(",")}
        again = Client().get("/stories/", HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304
        assert again.content == b""
        # The reader keeps the policy they were given with the page: no new nonce on a 304.
        assert "Content-Security-Policy" not in again.headers
        # A date is given once the second the page was made in is over (HTTP dates are whole seconds).
        assert "Last-Modified" not in first.headers
        clock.tick(2)
        modified = Client().get("/stories/").headers["Last-Modified"]
        assert Client().get("/stories/", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
        StoryFactory(title="Something new")  # the list changes: the old validators no longer match
        changed = Client().get("/stories/", HTTP_IF_NONE_MATCH=etag)
        assert changed.status_code == 200
        assert "Something new" in page_text(changed)
        assert changed.headers["ETag"] != etag
        assert Client().get("/stories/", HTTP_IF_MODIFIED_SINCE=modified).status_code == 200


def test_a_change_after_the_readers_copy_is_never_answered_304():
    with freeze_time(timezone.now()) as clock:
        Client().get("/stories/")
        clock.tick(1.5)
        copy = Client().get("/stories/")
        clock.tick(0.1)  # within a second of the date the reader holds
        StoryFactory(title="Changed a moment later")
        newer = Client().get("/stories/", HTTP_IF_MODIFIED_SINCE=copy.headers["Last-Modified"])
        assert newer.status_code == 200
        assert "Changed a moment later" in page_text(newer)


def test_an_older_if_modified_since_gets_the_page():
    first = Client().get("/stories/")
    assert first.status_code == 200
    assert Client().get("/stories/", HTTP_IF_MODIFIED_SINCE=http_date(0)).status_code == 200


def test_turned_off_nothing_is_stored(settings):
    settings.PAGE_CACHE_ENABLED = False
    assert state(Client().get("/stories/")) is None
    assert state(Client().get("/stories/")) is None


def test_a_changed_group_gets_a_new_generation_and_others_keep_theirs():
    before = generations(["stories", "directory"])
    pages_changed("stories")
    after = generations(["stories", "directory"])
    assert after["stories"] != before["stories"]
    assert after["directory"] == before["directory"]


def test_a_change_made_in_a_transaction_is_marked_again_when_it_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pages_changed("stories")
        during = generations(["stories"])["stories"]
    for callback in callbacks:
        callback()
    assert generations(["stories"])["stories"] != during


def test_a_change_through_the_admin_site_makes_every_page_out_of_date():
    Client().get("/")
    Client().get("/directory/")
    all_pages_changed()
    assert state(Client().get("/")) == "miss"
    assert state(Client().get("/directory/")) == "miss"


def test_the_home_and_directory_pages_are_cached_for_visitors():
    OrganisationFactory(name="Northgate Council", slug="northgate")
    for path in ["/", "/directory/", "/directory/organisations/northgate/"]:
        assert state(Client().get(path)) == "miss", path
        assert state(Client().get(path)) == "hit", path


def test_feeds_are_cached_and_a_shared_cache_may_keep_them_but_must_revalidate():
    StoryFactory(title="The library reopened")
    first, second = Client().get("/stories/feed/atom/"), Client().get("/stories/feed/atom/")
    assert (state(first), state(second)) == ("miss", "hit")
    assert second.headers["Cache-Control"] == "public, no-cache"
    assert second.content == first.content
    assert Client().get("/stories/feed/atom/", HTTP_IF_NONE_MATCH=first.headers["ETag"]).status_code == 304
    StoryFactory(title="The pool is closed")
    assert b"The pool is closed" in Client().get("/stories/feed/atom/").content


@pytest.mark.parametrize("path", ["/stories/open-data/stories.csv", "/stories/open-data/stories.json",
                                  "/directory/open-data/directory.csv"])
def test_open_data_downloads_answer_conditional_requests_and_change_with_the_data(path):
    clock = freeze_time(timezone.now())
    frozen = clock.start()
    story = StoryFactory(title="The bus was late")
    Client().get(path)
    frozen.tick(2)
    first = Client().get(path)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, no-cache"
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert Client().get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert Client().get(path, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    if path.startswith("/directory/"):
        from localsocial.directory.services import organisation_update

        organisation_update(actor=None, organisation=story.services.first().organisation, name="Renamed Trust")
    else:
        from localsocial.stories.services.submission import story_withdraw

        story_withdraw(story_id=story.pk)
    again = Client().get(path, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert again.headers["ETag"] != etag
    assert Client().get(path, HTTP_IF_MODIFIED_SINCE=modified).status_code == 200
    clock.stop()
