"""API tokens for tests, wherever a module's API tests live: the ``make_token`` fixture (use
it from a conftest with ``from tests.api.tokens import make_token``) and ``bearer``."""

from __future__ import annotations

import pytest

from localsocial.api.services import api_token_create


@pytest.fixture
def make_token():
    """make_token(user, scopes=[...], organisation=None) → (ApiToken, secret)."""

    def make(user, scopes=("stories:write",), organisation=None, **kwargs):
        return api_token_create(user=user, name=kwargs.pop("name", "Test"), scopes=list(scopes),
                                organisation=organisation, **kwargs)

    return make


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
