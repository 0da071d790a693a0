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


def _input_macro():
    from django.template import engines

    env = engines.all()[0].env
    return env.get_template("govuk_frontend_jinja/components/input/macro.html").module.govukInput


def test_a_remembered_macro_gives_the_macros_own_html_and_tells_text_from_markup():
    from markupsafe import Markup

    from localsocial.core.jinja2env import remembered

    govuk_input = _input_macro()
    params = {"id": "q", "name": "q", "label": {"text": "Search <stories>"}, "value": "bins & bags"}
    first = remembered(govuk_input, params)
    assert first == govuk_input(params)
    assert remembered(govuk_input, params) == first
    assert "Search &lt;stories&gt;" in first
    as_markup = {**params, "label": {"text": Markup("Search <b>stories</b>")}}
    assert remembered(govuk_input, as_markup) == govuk_input(as_markup)
    assert "<b>stories</b>" in remembered(govuk_input, as_markup)


def test_a_remembered_macro_is_kept_apart_by_language():
    from django.utils import translation

    from localsocial.core.jinja2env import gettext_remembered, remembered

    govuk_input = _input_macro()
    with translation.override("cy"):
        welsh = remembered(govuk_input, {"id": "q", "name": "q", "label": {"text": gettext_remembered("Directory")}})
    with translation.override("en-gb"):
        english = remembered(govuk_input, {"id": "q", "name": "q", "label": {"text": gettext_remembered("Directory")}})
    assert welsh != english


@pytest.mark.django_db
def test_each_signed_in_person_gets_their_own_sign_out_token_in_the_remembered_header(client):
    import re

    from django.test import Client

    from tests.factories import UserFactory

    tokens = []
    for name in ("Ana", "Ben"):
        reader = Client()
        reader.force_login(UserFactory(display_name=name))
        page = reader.get("/stories/").content.decode()
        assert "Sign out" in page
        form = re.search(r'action="/accounts/sign-out/".*?value="([^"]+)"', page, re.S)
        assert form is not None
        tokens.append(form.group(1))
    assert tokens[0] != tokens[1]
