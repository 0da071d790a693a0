"""Fixtures for the stories tests: API tokens for the stories API tests (``test_api*.py``)."""

from tests.api.tokens import make_token  # noqa: F401 -- a fixture
