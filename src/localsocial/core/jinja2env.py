"""The Jinja2 environment: Django's URL reversing, static files, i18n and the GOV.UK macros."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.templatetags.static import static
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext, pgettext
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    PackageLoader,
    PrefixLoader,
    Template,
)
from markupsafe import Markup

from localsocial.core import forms_jinja

_SAFE_TEXT = re.compile(r"[-a-zA-Z0-9_]+\Z")  # needs no quoting, fits every converter we use


@lru_cache(maxsize=1024)
def _reverse(viewname: str, prefix: str, urlconf: str | None) -> str:
    return reverse(viewname)


@lru_cache(maxsize=1024)
def _url_template(viewname: str, names: tuple[str, ...], kinds: tuple[str, ...], prefix: str,
                  urlconf: str | None) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The address of ``viewname`` cut around its keyword arguments, found by reversing it once
    with stand-in values of the same kinds: ``(("/stories/", "/"), ("pk",))``.  None when the
    stand-ins do not fit its patterns (then every call reverses)."""
    # The text stand-in holds every kind of character a plain slug may (capitals, small letters,
    # digits, "-" and "_"): a pattern that takes it takes any plain slug.
    stand_ins = {name: (9_000_000_001 + i if kind == "int" else f"Ls-standin_{i}X")
                 for i, (name, kind) in enumerate(zip(names, kinds, strict=True))}
    try:
        address = reverse(viewname, kwargs=stand_ins)
    except NoReverseMatch:
        return None
    found = sorted((address.find(str(value)), name) for name, value in stand_ins.items())
    if any(position < 0 or address.count(str(stand_ins[name])) != 1 for position, name in found):
        return None
    parts, order, start = [], [], 0
    for position, name in found:
        parts.append(address[start:position])
        order.append(name)
        start = position + len(str(stand_ins[name]))
    parts.append(address[start:])
    return tuple(parts), tuple(order)


def url(viewname: str, *args: Any, **kwargs: Any) -> str:
    """``reverse()`` for templates, without reversing each time: an address without arguments
    is remembered; one with keyword arguments that are whole numbers or plain slugs is built
    from the address cut around them (a reverse costs about 17 µs; this under 2).  The script
    prefix and URLconf are part of every key; anything else is reversed as before."""
    prefix, urlconf = get_script_prefix(), get_urlconf()
    if not args and not kwargs:
        return _reverse(viewname, prefix, urlconf)
    if not args and all(
        (type(value) is int and value >= 0) or (type(value) is str and _SAFE_TEXT.match(value))
        for value in kwargs.values()
    ):
        names = tuple(sorted(kwargs))
        kinds = tuple("int" if type(kwargs[name]) is int else "text" for name in names)
        template = _url_template(viewname, names, kinds, prefix, urlconf)
        if template is not None:
            parts, order = template
            pieces = [parts[0]]
            for name, part in zip(order, parts[1:], strict=True):
                pieces += [str(kwargs[name]), part]
            return "".join(pieces)
    return reverse(viewname, args=args or None, kwargs=kwargs or None)


_TRANSLATED: dict[tuple[str | None, str], str] = {}
_TRANSLATED_MAX = 50_000  # every string in the code, in every language, with room to spare


def gettext_remembered(message: str) -> str:
    """``gettext`` looked up once per language and string.  Django's own walks every catalogue
    (ours and each installed app's, about 5 µs) on every call for a string with no translation,
    which is every English one; the catalogues do not change while the process runs."""
    if type(message) is not str:  # a lazy string: its own translation, each time
        return gettext(message)
    key = (translation.get_language(), message)
    found = _TRANSLATED.get(key)
    if found is None:
        found = gettext(message)
        if len(_TRANSLATED) < _TRANSLATED_MAX:
            _TRANSLATED[key] = found
    return found


class _NotAKeyError(Exception):
    pass


def _key_of(value: Any) -> Any:
    """A hashable stand-in for macro parameters that tells apart everything that can change
    the HTML: escaped text from markup, and each type; anything unusual is not remembered."""
    if isinstance(value, Markup):
        return ("m", str(value))
    if isinstance(value, str):
        return ("s", value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Promise):  # a lazy translation: its text in the current language
        return ("s", str(value))
    if isinstance(value, dict):
        return ("d", tuple(sorted((str(k), _key_of(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("l", tuple(_key_of(v) for v in value))
    raise _NotAKeyError


class _Remembered:
    """A bounded table of values worked out once (the least recently used goes first when it
    is full), safe to share between threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, make: Any) -> Any:
        """The value kept for ``key``, or ``make()`` kept for next time."""
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
                return value
        value = make()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


_MACRO_HTML = _Remembered(4096)
_ITEM_HTML = _Remembered(8192)
_DATES = _Remembered(8192)


def remembered(macro: Any, params: dict[str, Any]) -> Any:
    """``macro(params)``, remembered by its parameters and the language.  The GOV.UK macros
    are functions of their parameters alone, and costly (a text input about 0.3 ms, the
    header 0.45 ms); the page frame and most form fields repeat the same parameters on every
    page.  Parameters holding anything but text, numbers, lists and dictionaries are not
    remembered.  Never pass per-response values (a CSRF token, a nonce): put a marker in and
    replace it after."""
    try:
        key = (getattr(macro, "name", id(macro)), translation.get_language(), _key_of(params))
    except _NotAKeyError:
        return macro(params)
    return _MACRO_HTML.get(key, lambda: macro(params))


def remembered_item(macro: Any, row: Any) -> Any:
    """``macro(row)`` for one item of a list, remembered by the row itself (a frozen
    dataclass of plain values from a selector, so equal rows render equal HTML), the
    language, the time zone and the script prefix.  A list page repeats the same items
    request after request: only an item whose shown values changed is rendered again, so
    there is nothing to invalidate.  A row that cannot be hashed is rendered each time."""
    try:
        key = (getattr(macro, "name", id(macro)), translation.get_language(),
               timezone.get_current_timezone_name(), get_script_prefix(), row)
        hash(key)
    except TypeError:
        return macro(row)
    return _ITEM_HTML.get(key, lambda: macro(row))


def choice_label(obj: Any, field_name: str) -> str:
    """``obj.get_<field>_display()`` as text: for a model, from the table per field and
    language that ``core.choices`` installs; a selector's plain row has its own."""
    return str(getattr(obj, f"get_{field_name}_display")())


def date_format(value: Any, fmt: str = "j F Y") -> str:
    """A date or time in words ("4 December 2026"), in the current language and time zone.
    Django's formatter costs about 50 µs; the same value in the same format, language and
    zone always gives the same words, so each is remembered (a bounded table per process)."""
    if value is None:
        return ""

    def words() -> str:
        shown = value
        if hasattr(shown, "tzinfo") and shown.tzinfo is not None:
            shown = timezone.localtime(shown)
        return formats.date_format(shown, fmt)

    return _DATES.get((value, fmt, translation.get_language(), timezone.get_current_timezone_name()), words)


class LeanTemplate(Template):
    """Jinja's template, with ``{% from … import … %}`` made cheap.  For each import Jinja
    works out which of the importing page's globals the imported file lacks, as a set
    difference over dictionary views (about 15 µs; a page makes twenty or more imports).
    The answer depends only on the two sets of names, fixed once the templates are loaded,
    so it is remembered per set; everything else is Jinja's own code."""

    def _get_default_module(self, ctx: Any = None) -> Any:
        if ctx is not None:
            known: dict[frozenset[str], frozenset[str]] = self.__dict__.setdefault("_ls_missing", {})
            names = frozenset(ctx.globals_keys)
            keys = known.get(names)
            if keys is None:
                keys = known[names] = frozenset(names - self.globals.keys())
            if keys:
                return self.make_module({k: ctx.parent[k] for k in keys})
        return super()._get_default_module()


def _bytecode_cache() -> FileSystemBytecodeCache | None:
    """Compiled templates kept on disk under var/ (not in tests), so a new worker loads them
    instead of compiling every template again; None when the folder cannot be made."""
    if getattr(settings, "TESTING", False):
        return None
    folder = Path(settings.VAR_DIR) / "jinja2-bytecode"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(folder))


def templates_warm(env: Environment) -> int:
    """Load (compile, or read compiled) every template, so the first request a new worker
    serves does not pay for it.  Returns how many."""
    count = 0
    for name in env.list_templates(filter_func=lambda name: name.endswith((".html", ".txt"))):
        env.get_template(name)  # a template that does not compile stops the worker: loudly
        count += 1
    return count


def environment(**options: Any) -> Environment:
    # Our templates first (Django's loader for app jinja2/ dirs), then the GOV.UK macros under
    # their own prefix so that "govuk_frontend_jinja/components/…" resolves.
    base_loader = options.pop("loader", None)
    options.setdefault("autoescape", True)
    options["extensions"] = [*options.get("extensions", []), "jinja2.ext.i18n"]
    options.setdefault("bytecode_cache", _bytecode_cache())
    env = Environment(**options)  # noqa: S701 -- autoescape is set to True just above
    env.template_class = LeanTemplate
    loaders = [env.loader] if env.loader is not None else []
    if base_loader is not None:
        loaders = [base_loader]
    env.loader = ChoiceLoader(
        [
            *loaders,
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    env.install_gettext_callables(gettext_remembered, ngettext, newstyle=True, pgettext=pgettext)  # type: ignore[attr-defined]
    env.globals.update(
        {
            "url": url,
            "static": static,
            "staticfiles_storage": staticfiles_storage,
            "get_current_language": translation.get_language,
            "field": forms_jinja.field,
            "choice_label": choice_label,
            "remembered": remembered,
            "remembered_item": remembered_item,
            "error_summary_items": forms_jinja.error_summary_items,
        }
    )
    env.filters["date"] = date_format
    return env
