"""Keyset ("cursor") pagination: fast at any depth, no COUNT, stable while rows are added.

A page is fetched with ``WHERE (ordering columns) > (values of the last row seen)`` and
``LIMIT page_size + 1``: the extra row tells whether there is a next page, and the database
walks an index straight to the right place however deep the page is.  An ``OFFSET`` would
make page 50,000 read the 1,000,000 rows before it; a ``COUNT(*)`` would read them all.

Cursors are opaque to callers: signed tokens that carry the direction and the ordering values
of the row to continue from.  A tampered or stale-format cursor raises ``InvalidCursorError``.

Use::

    page = keyset_paginate(Organisation.objects.filter(...), ordering=("name", "id"),
                           cursor=request.GET.get("cursor"), page_size=20)
    page.items                            # the rows of this page
    page.govuk_params(request)            # parameters for the govukPagination macro
    page.next_cursor, page.previous_cursor  # for an API

The ordering must end with a unique column (usually ``id``) and its columns must not be
NULL; prefix a column with "-" for descending order.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.core import signing
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

T = TypeVar("T")

_SALT = "localsocial.core.pagination"
AFTER, BEFORE = "a", "b"


class InvalidCursorError(ValueError):
    """The cursor was not made by this site for this list."""


class _CursorEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder cuts datetimes to milliseconds; a cursor must keep every microsecond,
    or a row written in the same millisecond as the last one on a page would show again on the
    next page (or be skipped going back)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        return super().default(o)


class _Serializer:
    """JSON with dates, decimals and UUIDs, as ``django.core.signing`` expects."""

    def dumps(self, obj: Any) -> bytes:
        return _CursorEncoder(separators=(",", ":")).encode(obj).encode("latin-1")

    def loads(self, data: bytes) -> Any:
        import json

        return json.loads(data.decode("latin-1"))


def _salt(ordering: Sequence[str]) -> str:
    # A cursor for one ordering cannot be replayed against another.
    return f"{_SALT}:{','.join(ordering)}"


def encode_cursor(direction: str, values: Sequence[Any], ordering: Sequence[str]) -> str:
    return signing.dumps([direction, list(values)], salt=_salt(ordering), serializer=_Serializer)  # type: ignore[arg-type]


def decode_cursor(token: str, ordering: Sequence[str]) -> tuple[str, list[Any]]:
    try:
        direction, values = signing.loads(token, salt=_salt(ordering), serializer=_Serializer)  # type: ignore[arg-type]
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidCursorError("This cursor is not valid.") from exc
    if direction not in (AFTER, BEFORE) or not isinstance(values, list) or len(values) != len(ordering):
        raise InvalidCursorError("This cursor is not valid.")
    return direction, values


def keyset_condition(ordering: Sequence[str], values: Sequence[Any], *, forward: bool) -> Q:
    """The rows strictly after (``forward``) or strictly before ``values`` in ``ordering``.

    For ordering (a, b, id): ``a > x OR (a = x AND b > y) OR (a = x AND b = y AND id > z)``,
    with the comparison flipped for descending columns and for going backwards.
    """
    condition = Q()
    for index, term in enumerate(ordering):
        name = term.lstrip("-")
        descending = term.startswith("-")
        op = "gt" if forward != descending else "lt"
        branch = Q(**{f"{name}__{op}": values[index]})
        for prior_index in range(index):
            branch &= Q(**{ordering[prior_index].lstrip("-"): values[prior_index]})
        condition |= branch
    return condition


def _reverse(ordering: Sequence[str]) -> list[str]:
    return [term[1:] if term.startswith("-") else f"-{term}" for term in ordering]


def _value(item: Any, term: str) -> Any:
    name = term.lstrip("-")
    if isinstance(item, dict):
        return item[name]
    value = item
    for part in name.split("__"):
        value = getattr(value, part)
    return value


# A fetch function: given the keyset condition (or None), the ORDER BY terms and a limit,
# return the rows.  Lets a caller paginate what is not one QuerySet (a UNION, say).
Fetch = Callable[[Q | None, list[str], int], Sequence[Any]]


@dataclass
class KeysetPage(Generic[T]):
    items: list[T]
    ordering: Sequence[str]
    has_next: bool
    has_previous: bool
    cursor_param: str = "cursor"
    _first: list[Any] = field(default_factory=list, repr=False)
    _last: list[Any] = field(default_factory=list, repr=False)

    @property
    def next_cursor(self) -> str | None:
        if not self.has_next or not self.items:
            return None
        return encode_cursor(AFTER, self._last, self.ordering)

    @property
    def previous_cursor(self) -> str | None:
        if not self.has_previous or not self.items:
            return None
        return encode_cursor(BEFORE, self._first, self.ordering)

    def url_for(self, request: HttpRequest, cursor: str | None) -> str:
        query = request.GET.copy()
        query.pop(self.cursor_param, None)
        if cursor:
            query[self.cursor_param] = cursor
        encoded = query.urlencode()
        return f"{request.path}?{encoded}" if encoded else request.path

    def govuk_params(self, request: HttpRequest, *, landmark_label: str | None = None) -> dict[str, Any] | None:
        """Parameters for ``govukPagination``: "Previous" and "Next" links that keep the other
        query parameters (search terms, filters).  None when everything fits on one page."""
        if not (self.has_next or self.has_previous):
            return None
        params: dict[str, Any] = {"landmarkLabel": landmark_label or _("Pagination")}
        previous_cursor = self.previous_cursor
        if previous_cursor:
            params["previous"] = {
                "href": self.url_for(request, previous_cursor),
                "html": _('Previous<span class="govuk-visually-hidden"> page</span>'),
            }
        next_cursor = self.next_cursor
        if next_cursor:
            params["next"] = {
                "href": self.url_for(request, next_cursor),
                "html": _('Next<span class="govuk-visually-hidden"> page</span>'),
            }
        return params


def keyset_paginate(
    source: QuerySet[Any] | Fetch,
    *,
    ordering: Sequence[str],
    cursor: str | None,
    page_size: int,
    cursor_param: str = "cursor",
) -> KeysetPage[Any]:
    """One page of ``source`` in ``ordering``, starting from ``cursor`` (None: the first page).

    Always exactly one query (``page_size + 1`` rows), whatever the page.
    Raises ``InvalidCursorError`` when the cursor was not made for this ordering."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    ordering = list(ordering)
    direction, values = decode_cursor(cursor, ordering) if cursor else (AFTER, [])
    forward = direction == AFTER
    condition = keyset_condition(ordering, values, forward=forward) if values else None
    order_by = ordering if forward else _reverse(ordering)
    if isinstance(source, QuerySet):
        queryset = source.filter(condition) if condition is not None else source
        rows = list(queryset.order_by(*order_by)[: page_size + 1])
    else:
        rows = list(source(condition, order_by, page_size + 1))
    more = len(rows) > page_size
    rows = rows[:page_size]
    if not forward:
        rows.reverse()
    has_next = more if forward else bool(values)
    has_previous = bool(values) if forward else more
    first = [_value(rows[0], term) for term in ordering] if rows else []
    last = [_value(rows[-1], term) for term in ordering] if rows else []
    return KeysetPage(
        items=rows, ordering=ordering, has_next=has_next, has_previous=has_previous,
        cursor_param=cursor_param, _first=first, _last=last,
    )
