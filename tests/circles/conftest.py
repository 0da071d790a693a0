"""Fixtures for the circles tests: API tokens for the circles API tests (``test_api*.py``)."""

from tests.api.tokens import make_token  # noqa: F401 -- a fixture
