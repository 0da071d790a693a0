"""Errors the API turns into JSON responses."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


class FieldErrors(Exception):  # noqa: N818 -- an error response, named for what it carries
    """A 422 listing what is wrong with each field of a body, in the shape ninja uses for
    its own validation errors: ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__(items)
        self.items = items

    @classmethod
    def one(cls, field: str, message: str) -> FieldErrors:
        return cls([{"loc": ["body", "payload", field], "msg": message, "type": "invalid"}])

    @classmethod
    def from_validation_error(cls, error: ValidationError, names: dict[str, str] | None = None) -> FieldErrors:
        """A service's ValidationError; ``names`` maps its field names to the body's."""
        names = names or {}
        if hasattr(error, "error_dict"):
            return cls([
                {"loc": ["body", "payload", names.get(field, field)], "msg": message, "type": "invalid"}
                for field, messages in error.message_dict.items()
                for message in messages
            ])
        return cls([{"loc": ["body", "payload"], "msg": message, "type": "invalid"} for message in error.messages])
