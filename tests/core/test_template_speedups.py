"""Template helpers that save work on every page must give exactly what Django gives: ``url()``
what ``reverse()`` gives (and fail where it fails), remembered translations the catalogue's,
choice labels the model's ``get_<field>_display()``."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from hypothesis import given
from hypothesis import strategies as st

from localsocial.core.jinja2env import url


def _names(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name and not entry.pattern.regex.groups:
            yield f"{namespace}{entry.name}"


def test_every_named_address_without_arguments_is_the_same():
    names = set(_names(get_resolver().url_patterns))
    assert len(names) > 50
    for name in names:
        assert url(name) == reverse(name), name


@given(pk=st.integers(min_value=0, max_value=10**12))
def test_a_numbered_address_is_the_same(pk):
    assert url("stories:story", pk=pk) == reverse("stories:story", kwargs={"pk": pk})


@given(slug=st.from_regex(r"[-a-zA-Z0-9_]{1,40}", fullmatch=True))
def test_a_slugged_address_is_the_same(slug):
    assert url("directory:organisation", slug=slug) == reverse("directory:organisation", kwargs={"slug": slug})
    assert url("stories:service_stories", slug=slug) == reverse("stories:service_stories", kwargs={"slug": slug})


def test_an_address_with_two_arguments_keeps_their_places():
    assert url("directory:staff_change", slug="northgate", membership_id=7) == reverse(
        "directory:staff_change", kwargs={"slug": "northgate", "membership_id": 7})


@pytest.mark.parametrize("kwargs", [{"pk": -1}, {"pk": "seven"}, {"slug": "a b"}, {"pk": 1, "other": 2}])
def test_what_reverse_refuses_url_refuses(kwargs):
    with pytest.raises(NoReverseMatch):
        reverse("stories:story", kwargs=kwargs)
    with pytest.raises(NoReverseMatch):
        url("stories:story", **kwargs)


def test_a_remembered_translation_follows_the_language():
    from django.utils import translation

    from localsocial.core.jinja2env import gettext_remembered

    with translation.override("cy"):
        welsh = gettext_remembered("Directory")
        assert welsh == translation.gettext("Directory")
        assert welsh != "Directory"  # the Welsh catalogue has it
    with translation.override("en-gb"):
        assert gettext_remembered("Directory") == "Directory"
    with translation.override("cy"):
        assert gettext_remembered("Directory") == welsh


@pytest.mark.django_db
def test_a_choice_label_is_the_models_own_in_each_language():
    from django.utils import translation

    from localsocial.core.jinja2env import choice_label
    from tests.factories import StoryFactory

    story = StoryFactory()
    for progress in range(5):
        story.progress = progress
        for language in ("en-gb", "cy"):
            with translation.override(language):
                assert choice_label(story, "progress") == story.get_progress_display()
