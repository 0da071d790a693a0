"""One rule for who sees a circle's offers (``circles.view_offers``), on the offers page and in
the API alike: the circle's active members and helpers, its coordinators and site
administrators — nobody else."""

from __future__ import annotations

import pytest

from localsocial.circles.models import MemberStatus, Offer
from tests.api.tokens import bearer
from tests.circles.factories import CircleFactory, HelperFactory, MemberFactory
from tests.circles.test_help_support import coordinator_of
from tests.factories import UserFactory
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db


def _person(kind: str, circle):  # type: ignore[no-untyped-def]
    other = CircleFactory(slug="elsewhere")
    return {
        "member": lambda: MemberFactory(circle=circle).user,
        "helper": lambda: HelperFactory(circle=circle).user,
        "coordinator": lambda: coordinator_of(circle),
        "lapsed member": lambda: MemberFactory(circle=circle, status=MemberStatus.LAPSED).user,
        "former helper": lambda: HelperFactory(circle=circle, is_active=False).user,
        "member elsewhere": lambda: MemberFactory(circle=other).user,
        "coordinator elsewhere": lambda: coordinator_of(other),
        "anyone": lambda: UserFactory(),
    }[kind]()


@pytest.mark.parametrize(("kind", "sees"), [
    ("member", True), ("helper", True), ("coordinator", True),
    ("lapsed member", False), ("former helper", False), ("member elsewhere", False),
    ("coordinator elsewhere", False), ("anyone", False),
])
def test_the_offers_page_and_the_api_let_in_the_same_people(make_token, kind, sees):
    # Given a circle with a listed offer and a person with some tie to it (or none)
    circle = CircleFactory(slug="riverside")
    Offer.objects.create(circle=circle, helper=HelperFactory(circle=circle), category="tech", title="Phones",
                         place="remote")
    user = _person(kind, circle)
    _token, secret = make_token(user, scopes=["circles:member"])
    # When they open the offers page, and ask the API with a circles:member token
    page = sign_in_verified(CommittingClient(), user).get("/circles/riverside/help/offers/")
    api = CommittingClient().get("/api/circles/riverside/offers/", **bearer(secret))
    # Then both let them in, or both refuse them
    assert (page.status_code, api.status_code) == ((200, 200) if sees else (404, 403))
    if sees:
        assert "Phones" in page.content.decode()
        assert [item["title"] for item in api.json()["items"]] == ["Phones"]
