"""Responses.  (Filled in by the responses work; signatures fixed.)"""

from __future__ import annotations


def change_confirmation_request(*, response_id: int) -> None:
    """Enqueue the email asking the author to confirm a claimed change (after commit)."""
