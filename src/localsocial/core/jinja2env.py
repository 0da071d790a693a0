"""The Jinja2 environment: Django's URL reversing, static files, i18n and the GOV.UK macros."""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles.storage import staticfiles_storage
from django.templatetags.static import static
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, ngettext, pgettext
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader

from localsocial.core import forms_jinja


def url(viewname: str, *args: Any, **kwargs: Any) -> str:
    return reverse(viewname, args=args or None, kwargs=kwargs or None)


def date_format(value: Any, fmt: str = "j F Y") -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        value = timezone.localtime(value)
    return formats.date_format(value, fmt)


def environment(**options: Any) -> Environment:
    # Our templates first (Django's loader for app jinja2/ dirs), then the GOV.UK macros under
    # their own prefix so that "govuk_frontend_jinja/components/…" resolves.
    base_loader = options.pop("loader", None)
    options.setdefault("autoescape", True)
    options["extensions"] = [*options.get("extensions", []), "jinja2.ext.i18n"]
    env = Environment(**options)  # noqa: S701 -- autoescape is set to True just above
    loaders = [env.loader] if env.loader is not None else []
    if base_loader is not None:
        loaders = [base_loader]
    env.loader = ChoiceLoader(
        [
            *loaders,
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True, pgettext=pgettext)  # type: ignore[attr-defined]
    env.globals.update(
        {
            "url": url,
            "static": static,
            "staticfiles_storage": staticfiles_storage,
            "get_current_language": translation.get_language,
            "field": forms_jinja.field,
            "error_summary_items": forms_jinja.error_summary_items,
        }
    )
    env.filters["date"] = date_format
    return env
