"""The account page's "Your work": the links each module gives for the person's roles
(``core.work_links``), only those that apply, at a fixed cost in queries."""

from __future__ import annotations

import pytest

from localsocial.accounts.models import SiteRole
from localsocial.circles.models import MemberStatus
from localsocial.directory.models import StaffRole
from tests.accounts.conftest import page_text, verified_sign_in
from tests.circles.factories import CircleFactory, CoordinatorFactory, MemberFactory
from tests.circles.test_help_support import HelpRequestFactory
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    ResponseFactory,
    RoleGrantFactory,
    StoryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def work_section(client) -> str:
    text = page_text(client.get("/accounts/profile/"))
    if "Your work" not in text:
        return ""
    return text.split("Your work", 1)[1].split("Your details", 1)[0]


def test_a_member_of_the_public_has_no_work_section(client):
    client.force_login(UserFactory())

    assert work_section(client) == ""


def test_a_moderator_sees_the_queues_with_how_much_waits(client):
    moderator = RoleGrantFactory(role=SiteRole.MODERATOR).user
    StoryFactory.create_batch(3, status="pending")
    ResponseFactory(status="pending", published_at=None)
    verified_sign_in(client, moderator)

    html = client.get("/accounts/profile/").content.decode()
    section = work_section(client)

    assert "Stories to moderate 3 waiting" in section
    assert "Responses waiting for moderation 1 waiting" in section
    assert 'href="/stories/moderation/"' in html
    assert 'href="/stories/moderation/responses/"' in html


def test_organisation_staff_see_each_dashboard_and_administrators_their_templates(client):
    staff = UserFactory()
    MembershipFactory(user=staff, organisation=OrganisationFactory(name="Ayton Council", slug="ayton"))
    MembershipFactory(user=staff, organisation=OrganisationFactory(name="Beeton Trust", slug="beeton"),
                      role=StaffRole.ADMINISTRATOR)
    verified_sign_in(client, staff)

    html = client.get("/accounts/profile/").content.decode()
    section = work_section(client)

    assert "Stories dashboard for Ayton Council" in section
    assert "Stories dashboard for Beeton Trust" in section
    assert 'href="/stories/organisations/ayton/dashboard/"' in html
    assert 'href="/stories/organisations/beeton/templates/"' in html
    assert 'href="/stories/organisations/ayton/templates/"' not in html
    assert "Your story alerts" in section
    assert "Referrals between circles and your organisation" in section
    assert "Stories to moderate" not in section


def test_a_circle_member_sees_their_membership_and_not_a_circle_they_left(client):
    person = UserFactory()
    MemberFactory(user=person, circle=CircleFactory(name="Peckham Circle", slug="peckham"))
    MemberFactory(user=person, circle=CircleFactory(name="Old Circle", slug="old"), status=MemberStatus.LEFT)
    client.force_login(person)

    html = client.get("/accounts/profile/").content.decode()
    section = work_section(client)

    assert "Your membership of Peckham Circle" in section
    assert 'href="/circles/peckham/membership/"' in html
    assert "Old Circle" not in section
    assert "Your requests for help" in section
    assert "Matching queue" not in section


def test_a_coordinator_sees_each_circles_queue_with_the_requests_waiting(client):
    circle = CircleFactory(name="Peckham Circle", slug="peckham")
    coordinator = CoordinatorFactory(circle=circle).user
    HelpRequestFactory.create_batch(2, member=MemberFactory(circle=circle))
    verified_sign_in(client, coordinator)

    html = client.get("/accounts/profile/").content.decode()

    assert "Matching queue: Peckham Circle 2 waiting" in work_section(client)
    assert 'href="/circles/peckham/help/queue/"' in html
    assert 'href="/circles/peckham/coordinate/"' in html


def test_every_link_opens_for_the_person_it_is_shown_to(client):
    person = RoleGrantFactory(role=SiteRole.MODERATOR).user
    MembershipFactory(user=person, role=StaffRole.ADMINISTRATOR)
    MemberFactory(user=person)
    CoordinatorFactory(user=person)
    verified_sign_in(client, person)
    from localsocial.core.work_links import work_links_for

    links = work_links_for(user=person)
    assert len(links) >= 9
    html = client.get("/accounts/profile/").content.decode()
    for link in links:
        assert f'href="{link.url}"' in html
        assert client.get(link.url).status_code == 200, link


def test_the_section_costs_the_same_however_many_roles(client, django_assert_max_num_queries):
    def person_with(n: int):  # type: ignore[no-untyped-def]
        person = RoleGrantFactory(role=SiteRole.MODERATOR).user
        for _ in range(n):
            MembershipFactory(user=person, role=StaffRole.ADMINISTRATOR)
            MemberFactory(user=person)
            circle = CircleFactory()
            CoordinatorFactory(user=person, circle=circle)
            HelpRequestFactory(member=MemberFactory(circle=circle))
        return person

    def queries_for(person) -> int:  # type: ignore[no-untyped-def]
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        verified_sign_in(client, person)
        client.get("/accounts/profile/")
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/accounts/profile/").status_code == 200
        return len(captured)

    one, many = queries_for(person_with(1)), queries_for(person_with(4))

    assert one == many
    # The account's own 7, the two moderation counts, circles' memberships, coordinated circles
    # and their waiting requests.
    with django_assert_max_num_queries(12):
        client.get("/accounts/profile/")
