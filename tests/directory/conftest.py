"""Helpers for the directory's tests: a small tree, and signing staff in with two-factor."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape

import pytest
from django.test import Client

from localsocial.directory.models import Organisation, OrganisationType
from tests.factories import OrganisationFactory
from tests.helpers import sign_in_verified


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
