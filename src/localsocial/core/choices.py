"""``get_FOO_display()`` from a table made once per field and language.

Django's own (``Model._get_FIELD_display``) rebuilds the field's whole choices dictionary on
every call, hashing each lazy label, which translates it: about 40 µs for a field of five
choices, and a coordinator's queue calls it over a hundred times.  The labels of a field in a
language do not change while the process runs (no model here has callable choices), so
``install()`` (called once, from ``CoreConfig.ready``) puts a version in its place that looks
the value up in a remembered table and answers exactly as Django's does: the label as text,
or the value itself when it is not one of the choices.
"""

from __future__ import annotations

from functools import partialmethod
from typing import Any

from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import get_language

_TABLES: dict[tuple[Any, str | None], dict[Any, Any]] = {}
_MISSING = object()


def _table(field: Any) -> dict[Any, Any]:
    key = (field, get_language())
    table = _TABLES.get(key)
    if table is None:
        table = {make_hashable(value): force_str(label, strings_only=True) for value, label in field.flatchoices}
        _TABLES[key] = table
    return table


def choice_display(instance: models.Model, field: Any) -> Any:
    """What ``instance.get_<field>_display()`` answers, from the remembered table."""
    value = getattr(instance, field.attname)
    found = _table(field).get(make_hashable(value), _MISSING)
    if found is _MISSING:
        return force_str(value, strings_only=True)
    return found


def install() -> None:
    """Point every model's generated ``get_<field>_display`` at ``choice_display``.  Django
    binds each one to ``Model._get_FIELD_display`` when the class is made (a partialmethod in
    the class), so the methods are replaced one by one; a model's own override is left alone."""
    from django.apps import apps

    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if not field.choices:
                continue
            name = f"get_{field.name}_display"
            current = model.__dict__.get(name)
            if isinstance(current, partialmethod) and current.func is models.Model._get_FIELD_display:  # type: ignore[attr-defined]
                setattr(model, name, partialmethod(choice_display, field=field))
