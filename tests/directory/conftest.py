"""Helpers for the directory's tests: a small tree, and signing staff in with two-factor."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice

from localsocial.directory.models import Organisation, OrganisationType
from tests.factories import OrganisationFactory


def sign_in_verified(client: Client, user) -> Client:
    """Sign ``user`` in as if they had also given a two-factor code (staff must), by giving
    them a confirmed device and recording it in the session as django-otp's login does."""
    device = StaticDevice.objects.create(user=user, name="Test backup codes", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Many users are made here; Argon2 is deliberately slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pagination_link(html: str, rel: str, label: str | None = None) -> str | None:
    """The href of a GOV.UK pagination "next" or "prev" link (in the navigation with this
    landmark label, if given), or None."""
    if label is not None:
        start = html.find(f'aria-label="{label}"')
        if start == -1:
            return None
        html = html[start : html.index("</nav>", start)]
    match = re.search(r'href="([^"]+)" rel="' + rel + '"', html)
    return unescape(match.group(1)) if match else None


@pytest.fixture
def signed_in() -> Callable[[Client, object], Client]:
    return sign_in_verified


@dataclass
class Tree:
    trust: Organisation
    hospital: Organisation
    department: Organisation
    council: Organisation


@pytest.fixture
def tree(db) -> Tree:
    """An NHS trust → hospital → department, and a separate council."""
    trust = OrganisationFactory(name="Riverside NHS Trust", slug="riverside-nhs-trust", org_type=OrganisationType.NHS_TRUST)
    hospital = OrganisationFactory(
        name="Riverside General Hospital", slug="riverside-general", org_type=OrganisationType.HOSPITAL, parent=trust
    )
    department = OrganisationFactory(
        name="Maternity", slug="riverside-maternity", org_type=OrganisationType.DEPARTMENT, parent=hospital
    )
    council = OrganisationFactory(name="Northgate Council", slug="northgate-council", org_type=OrganisationType.COUNCIL)
    return Tree(trust=trust, hospital=hospital, department=department, council=council)
