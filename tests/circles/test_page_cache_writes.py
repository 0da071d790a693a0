"""The circles pages cached for visitors follow the coordinators' changes at once
(core.page_cache, decision 0020)."""

from __future__ import annotations

import pytest
from django.test import Client

from localsocial.circles.services.circles import (
    bundle_save,
    bundle_withdraw,
    circle_settings_update,
    partner_add,
    partner_remove,
)
from tests.accounts.conftest import page_text
from tests.circles.factories import CircleFactory, CoordinatorFactory
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def visitor_sees(path: str) -> str:
    return page_text(Client().get(path))


def cached(*paths: str) -> None:
    for path in paths:
        Client().get(path)
        assert Client().get(path).headers.get("X-Page-Cache") == "hit", path


def test_the_circle_pages_follow_settings_bundles_and_partners():
    circle = CircleFactory(slug="riverside", name="Riverside Circle", description="Neighbours helping.")
    coordinator = CoordinatorFactory(circle=circle).user
    page = f"/circles/{circle.slug}/"
    cached("/circles/", page)

    circle_settings_update(circle=circle, actor=coordinator, description="Neighbours helping neighbours every day.")
    assert "Neighbours helping neighbours every day." in visitor_sees(page)

    cached(page)
    bundle = bundle_save(circle=circle, actor=coordinator, name="Ten tokens", quarters=40, price_pence=2500)
    assert "Ten tokens" in visitor_sees(page)
    cached(page)
    bundle_withdraw(bundle=bundle, actor=coordinator)
    assert "Ten tokens" not in visitor_sees(page)

    cached(page)
    partner, _created = partner_add(circle=circle, actor=coordinator,
                                    organisation=OrganisationFactory(name="Age Concern Riverside"))
    assert "Age Concern Riverside" in visitor_sees(page)
    cached(page)
    partner_remove(circle=circle, actor=coordinator, partner_id=partner.pk)
    assert "Age Concern Riverside" not in visitor_sees(page)

    cached("/circles/")
    circle_settings_update(circle=circle, actor=coordinator, is_active=False)
    assert "Riverside Circle" not in visitor_sees("/circles/")
