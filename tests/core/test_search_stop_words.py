"""Stop words are taken out of a query the same way for both databases (core.search)."""

from __future__ import annotations

import pytest
from django.db import connection

from localsocial.core.search import (
    STOP_WORDS,
    search_parse,
    search_without_stop_words,
    sqlite_match_text,
)


def test_single_stop_words_go_and_phrases_lose_them_at_their_ends():
    query = search_without_stop_words(search_parse('the library -of "friends of the library" "the park" "of the"'))

    assert query.include == (("library",), ("friends", "of", "the", "library"), ("park",))
    assert query.exclude == ()


def test_a_query_of_stop_words_alone_is_empty():
    assert search_without_stop_words(search_parse("the and of")).is_empty


def test_the_prefix_is_a_starred_term_for_fts5():
    assert sqlite_match_text(search_parse("royal"), prefix="inf") == '"royal" AND "inf"*'
    assert sqlite_match_text(search_parse("-clinic"), prefix="riv") == '("riv"*) NOT "clinic"'


@pytest.mark.django_db
def test_every_stop_word_is_one_postgresql_ignores():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's English dictionary")
    with connection.cursor() as cursor:
        cursor.execute("SELECT w FROM unnest(%s::text[]) AS w WHERE ts_lexize('english_stem', w) <> '{}'", [sorted(STOP_WORDS)])
        assert cursor.fetchall() == []
    # The list is PostgreSQL's own (tsearch_data/english.stop), all 127 of them.
    assert len(STOP_WORDS) == 127
