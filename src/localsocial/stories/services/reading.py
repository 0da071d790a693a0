"""Staff reads, "me too", following.  (Filled in by the reading work; signatures fixed.)"""

from __future__ import annotations


def followers_notify(*, response_id: int) -> None:
    """Enqueue emails to a story's followers about a newly published response (after commit)."""
