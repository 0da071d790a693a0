"""Keyset pagination (localsocial.core.pagination): every row once, both ways, no COUNT."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from localsocial.core.pagination import InvalidCursorError, encode_cursor, keyset_paginate
from localsocial.directory.models import Organisation
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisations(db):
    # Repeated names, so that the id decides between them.
    return [OrganisationFactory(name=f"Org {n % 7}") for n in range(23)]


def _walk(ordering, page_size):
    seen, cursor, pages = [], None, 0
    while True:
        page = keyset_paginate(Organisation.objects.all(), ordering=ordering, cursor=cursor, page_size=page_size)
        seen += [o.pk for o in page.items]
        pages += 1
        if not page.next_cursor:
            return seen, pages, page
        cursor = page.next_cursor


@pytest.mark.parametrize("ordering", [("name", "id"), ("-name", "id"), ("-name", "-id"), ("org_type", "-name", "id")])
def test_walking_forwards_visits_every_row_once_in_order(organisations, ordering):
    seen, pages, _last = _walk(ordering, 5)
    expected = list(Organisation.objects.order_by(*ordering).values_list("pk", flat=True))
    assert seen == expected
    assert pages == 5


def test_walking_backwards_gives_the_same_pages(organisations):
    ordering = ("name", "id")
    forward_pages = []
    cursor = None
    while True:
        page = keyset_paginate(Organisation.objects.all(), ordering=ordering, cursor=cursor, page_size=5)
        forward_pages.append([o.pk for o in page.items])
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    backward_pages = [[o.pk for o in page.items]]
    while page.previous_cursor:
        page = keyset_paginate(Organisation.objects.all(), ordering=ordering, cursor=page.previous_cursor, page_size=5)
        backward_pages.append([o.pk for o in page.items])
    assert backward_pages == list(reversed(forward_pages))
    assert page.has_previous is False
    assert page.has_next is True


def test_one_page_of_everything_has_no_links(organisations):
    page = keyset_paginate(Organisation.objects.all(), ordering=("name", "id"), cursor=None, page_size=100)
    assert len(page.items) == 23
    assert page.next_cursor is None
    assert page.previous_cursor is None
    assert page.govuk_params(RequestFactory().get("/")) is None


def test_each_page_is_one_query_and_never_counts(organisations, django_assert_num_queries):
    first = keyset_paginate(Organisation.objects.all(), ordering=("name", "id"), cursor=None, page_size=5)
    with django_assert_num_queries(1) as captured:
        keyset_paginate(Organisation.objects.all(), ordering=("name", "id"), cursor=first.next_cursor, page_size=5)
    sql = captured.captured_queries[0]["sql"].upper()
    assert "COUNT(" not in sql
    assert "OFFSET" not in sql


# Explicit ids: signed cursors carry a timestamp, and xdist workers must collect the same ids.
@pytest.mark.parametrize(
    "cursor",
    ["garbage", encode_cursor("a", ["x", 1], ["other", "id"]), encode_cursor("a", ["x"], ["name", "id"])],
    ids=["garbage", "other-ordering", "wrong-length"],
)
def test_cursors_not_made_for_this_list_are_refused(organisations, cursor):
    with pytest.raises(InvalidCursorError):
        keyset_paginate(Organisation.objects.all(), ordering=("name", "id"), cursor=cursor, page_size=5)


def test_govuk_params_keep_other_query_parameters(organisations):
    request = RequestFactory().get("/directory/search/", {"q": "org", "kind": "all", "cursor": "old"})
    page = keyset_paginate(Organisation.objects.all(), ordering=("name", "id"), cursor=None, page_size=5)
    params = page.govuk_params(request, landmark_label="Results pages")
    assert params["landmarkLabel"] == "Results pages"
    href = params["next"]["href"]
    assert href.startswith("/directory/search/?")
    assert "q=org" in href
    assert "kind=all" in href
    assert "cursor=old" not in href
    assert "cursor=" in href
    assert "previous" not in params


def test_a_cursor_keeps_every_microsecond_of_a_datetime():
    from datetime import UTC, datetime

    from localsocial.core.pagination import decode_cursor, encode_cursor

    moment = datetime(2026, 11, 27, 8, 42, 15, 594321, tzinfo=UTC)
    token = encode_cursor("a", [moment, 7], ("-published_at", "-id"))

    _direction, values = decode_cursor(token, ("-published_at", "-id"))

    assert datetime.fromisoformat(values[0]) == moment
