"""What every list endpoint shares: its page shape, a bad cursor's 422, blank query values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ninja.errors import HttpError

from localsocial.core.pagination import InvalidCursorError, KeysetPage


def page_out(page: KeysetPage[Any], convert: Callable[[Any], Any]) -> dict[str, Any]:
    """``{"items", "next_cursor", "previous_cursor"}``, each item passed through ``convert``."""
    return {
        "items": [convert(item) for item in page.items],
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
    }


def bad_cursor(exc: InvalidCursorError) -> HttpError:
    """The 422 for a cursor the API did not give out."""
    return HttpError(422, "cursor is not valid: use next_cursor or previous_cursor from a response.")


def blank(value: str | None) -> str | None:
    """A query value stripped, or None when blank: ``?service=`` from a form left blank
    means no filter."""
    return value.strip() if value and value.strip() else None
