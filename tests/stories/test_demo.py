"""The stories' demo (``stories/demo.py``): a conversation at every stage, made through the
stories services once, and run by ``localsocial demo`` as a registered demo step."""

from __future__ import annotations

import pytest

from localsocial.core.demo_registry import demo_load, demo_steps
from localsocial.stories.demo import DEMO_STORIES, demo_stories_load
from localsocial.stories.models import Response, ResponseStatus, Story, StoryStatus

pytestmark = pytest.mark.django_db


def test_the_stories_demo_is_a_step_after_the_platforms_directory_and_people():
    steps = [step.name for step in demo_steps()]

    assert steps.index("stories") > steps.index("directory")
    assert steps.index("stories") > steps.index("accounts")


def test_the_demo_stories_go_through_moderation_and_responses_once():
    # Given the whole demo, as `localsocial demo` loads it
    demo_load()
    stories = Story.objects.filter(author_email__endswith="@demo.invalid")

    # Then every demo story is there: one left waiting for moderation, the rest published
    assert stories.count() == len(DEMO_STORIES)
    assert stories.filter(status=StoryStatus.PENDING).count() == 1
    assert stories.filter(status=StoryStatus.PUBLISHED).count() == len(DEMO_STORIES) - 1
    # And the conversations: published responses, one confirmed change, one author's reply
    assert Response.objects.filter(status=ResponseStatus.PUBLISHED, is_author_reply=False).count() == 3
    assert Response.objects.filter(is_author_reply=True).count() == 1
    assert Response.objects.filter(author_confirmed=True).count() == 1

    # When loaded again, nothing more is made
    again = demo_stories_load(moderator_email="moderator@demo.invalid")
    assert again == {"tags": 0, "stories": 0, "responses": 0}
    assert stories.count() == len(DEMO_STORIES)
