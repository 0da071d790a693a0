"""Small helpers every module's views use with Django forms."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def form_errors_apply(
    form: Any, error: ValidationError, names: Mapping[str, str] | Callable[[str], str | None] | None = None
) -> None:
    """Put a service's ValidationError on ``form``: each message on the field it names, or at
    the top of the form when the field is not on it (or the error names no field).  ``names``
    maps the service's names to the form's where they differ (a dict, or a function)."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for name, messages in error.message_dict.items():
        field = names(name) if callable(names) else (names or {}).get(name, name)
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


def page_title(title: str, *forms: Any) -> str:
    """The page's title, starting "Error: " when any of ``forms`` has errors (GOV.UK's
    pattern, so that screen-reader users hear at once that something needs fixing)."""
    if any(form is not None and form.errors for form in forms):
        return _("Error: ") + title
    return title
