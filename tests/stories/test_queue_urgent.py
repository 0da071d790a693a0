"""The "read first" flag the database keeps for the moderation queue (``Story.queue_urgent``,
migration stories.0005): the same answer on SQLite and PostgreSQL, kept current on every write."""

from __future__ import annotations

import pytest

from localsocial.stories.models import Story
from tests.factories import StoryFactory

pytestmark = pytest.mark.django_db


def urgent(**fields) -> bool:
    story = StoryFactory(status="pending", **fields)
    return Story.objects.values_list("queue_urgent", flat=True).get(pk=story.pk)


@pytest.mark.parametrize(("body", "expected"), [
    ("I felt unsafe on the ward.", True),
    ("Nobody noticed the bruises on her arm.", True),  # the start of a word
    ("He was ABUSED by a visitor.", True),  # any case
    ("They said (abuse) was not the word.", True),  # after a bracket
    ("line one\nabuse on line two", True),  # after a new line
    ("We talked about \u201cneglect\u201d at the meeting.", True),  # after a curly quote
    ("There was talk of self-harm.", True),
    ("There was talk of self harm.", True),
    ("The receptionist was lovely and the wait was short.", False),
    ("I felt disabused of my hopes.", False),  # not at the start of a word
    ("The starling sang outside.", False),
])
def test_a_safeguarding_word_at_the_start_of_a_word_marks_an_untriaged_story(body, expected):
    assert urgent(body=body, criticality=None) is expected


def test_the_title_and_the_feelings_are_read_too():
    assert urgent(title="Suicidal thoughts ignored", body="Nothing else.", criticality=None) is True
    assert urgent(body="Nothing else.", feelings="I was starving all night.", criticality=None) is True


@pytest.mark.parametrize(("criticality", "expected"), [(None, True), (0, False), (3, False), (4, True), (5, True)])
def test_once_triaged_the_criticality_decides(criticality, expected):
    assert urgent(body="My father died on the ward.", criticality=criticality) is expected


@pytest.mark.parametrize(("criticality", "expected"), [(None, False), (3, False), (4, True), (5, True)])
def test_a_very_critical_story_is_urgent_without_any_word(criticality, expected):
    assert urgent(body="The wait was long.", criticality=criticality) is expected


def test_the_flag_follows_each_change_of_text_and_criticality():
    story = StoryFactory(status="pending", body="The wait was long.", criticality=None)

    def flag() -> bool:
        return Story.objects.values_list("queue_urgent", flat=True).get(pk=story.pk)

    assert flag() is False
    Story.objects.filter(pk=story.pk).update(body="The wait was long and I felt unsafe.")
    assert flag() is True
    Story.objects.filter(pk=story.pk).update(criticality=2)
    assert flag() is False
    Story.objects.filter(pk=story.pk).update(criticality=5, body="The wait was long.")
    assert flag() is True
