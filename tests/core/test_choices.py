"""``get_FOO_display()`` from remembered tables (core/choices.py) answers exactly as Django's
own, for every choice of every model field, in English and in Welsh, and for values that are
not among the choices."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.utils import translation

from localsocial.core.choices import choice_display


def _django_display(instance, field):
    # Django's own code, as it is in django/db/models/base.py (5.2), to compare against.
    from django.utils.encoding import force_str
    from django.utils.hashable import make_hashable

    value = getattr(instance, field.attname)
    choices_dict = dict(make_hashable(field.flatchoices))
    return force_str(choices_dict.get(make_hashable(value), value), strings_only=True)


def _choice_fields():
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.choices:
                yield model, field


def test_the_fast_version_is_installed_on_every_generated_method():
    from localsocial.stories.models import Story

    method = Story.__dict__["get_progress_display"]
    assert method.func is choice_display
    for model, field in _choice_fields():
        generated = model.__dict__.get(f"get_{field.name}_display")
        if generated is not None and hasattr(generated, "func"):
            assert generated.func is choice_display, (model, field.name)


@pytest.mark.parametrize("language", ["en-gb", "cy"])
def test_every_choice_of_every_field_shows_the_same_label_as_django(language):
    checked = 0
    with translation.override(language):
        for model, field in _choice_fields():
            instance = model()
            for value, _label in field.flatchoices:
                setattr(instance, field.attname, value)
                shown = getattr(instance, f"get_{field.name}_display")()
                assert shown == _django_display(instance, field), (model, field.name, value)
                checked += 1
    assert checked > 50


def test_a_value_that_is_not_a_choice_shows_itself():
    model, field = next(_choice_fields())
    instance = model()
    setattr(instance, field.attname, "not-a-choice")
    assert choice_display(instance, field) == "not-a-choice" == _django_display(instance, field)
    setattr(instance, field.attname, None)
    assert choice_display(instance, field) is None
    assert _django_display(instance, field) is None


def test_the_label_follows_the_language():
    from localsocial.stories.models import Story

    story = Story(progress=3)
    with translation.override("en-gb"):
        english = story.get_progress_display()
    with translation.override("cy"):
        welsh = story.get_progress_display()
    assert english == "Responded"
    assert welsh != english
