"""The directory's public pages: what a visitor sees, and a fixed number of queries each."""

from __future__ import annotations

import pytest
from django.urls import reverse

from localsocial.directory.models import OrganisationType, StaffRole
from tests.directory.conftest import pagination_link
from tests.factories import (
    AreaFactory,
    MembershipFactory,
    OrganisationFactory,
    ServiceFactory,
    UserFactory,
)
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db

# Queries per page for an anonymous visitor, whatever the length of its lists.
HOME_QUERIES = 1  # one page of organisations
ORGANISATION_QUERIES = 5  # organisation, its areas, ancestors, one page of children, one of services
SERVICE_QUERIES = 2  # service with its organisation, the organisations above


def test_directory_home_lists_top_level_organisations_and_types(client, tree):
    html = client.get(reverse("directory:index")).content.decode()
    assert "Directory of organisations and services" in html
    assert "Riverside NHS Trust" in html
    assert "Northgate Council" in html
    # Only the top of each tree here; the parts are on their organisation's page
    assert "Riverside General Hospital" not in html
    assert 'action="/directory/search/"' in html
    for label in ("NHS trust", "Hospital", "GP practice", "Charity"):
        assert label in html


def test_browsing_by_type_lists_every_organisation_of_that_type(client, tree):
    html = client.get(reverse("directory:index"), {"type": OrganisationType.HOSPITAL}).content.decode()
    assert "Riverside General Hospital" in html
    assert "Riverside NHS Trust</a>" not in html
    assert '<strong aria-current="page">Hospital</strong>' in html


def test_an_unknown_type_is_ignored(client, tree):
    response = client.get(reverse("directory:index"), {"type": "spaceship"})
    assert response.status_code == 200
    assert "Riverside NHS Trust" in response.content.decode()


def test_the_home_list_is_paginated_forwards_and_back(client, settings):
    for n in range(45):
        OrganisationFactory(name=f"Council {n:02d}", slug=f"council-{n:02d}")
    html = client.get(reverse("directory:index")).content.decode()
    assert "Council 00" in html
    assert "Council 19" in html
    assert "Council 20" not in html
    assert pagination_link(html, "prev") is None
    html = client.get(pagination_link(html, "next")).content.decode()
    assert "Council 20" in html
    assert "Council 39" in html
    assert "Council 19" not in html
    html = client.get(pagination_link(html, "next")).content.decode()
    assert "Council 44" in html
    assert pagination_link(html, "next") is None
    html = client.get(pagination_link(html, "prev")).content.decode()
    assert "Council 20" in html
    assert "Council 40" not in html
    html = client.get(pagination_link(html, "prev")).content.decode()
    assert "Council 00" in html
    assert pagination_link(html, "prev") is None


def test_a_tampered_cursor_is_page_not_found(client, tree):
    assert client.get(reverse("directory:index"), {"cursor": "not-a-cursor"}).status_code == 404


@pytest.mark.parametrize("count", [10, 200])
def test_directory_home_is_a_fixed_number_of_queries(client, django_assert_num_queries, count):
    for n in range(count):
        OrganisationFactory(name=f"Council {n:03d}", slug=f"council-{n:03d}")
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get(reverse("directory:index"))
    assert response.status_code == 200


def test_organisation_page_shows_details_tree_children_services_and_areas(client, tree):
    area = AreaFactory(gss_code="E09000028", name="Southwark")
    tree.hospital.areas_served.add(area)
    tree.hospital.ods_code, tree.hospital.postcode, tree.hospital.website = "RJ122", "SE1 7EH", "https://example.org"
    tree.hospital.latitude, tree.hospital.longitude = 51.5, -0.1
    tree.hospital.save()
    ServiceFactory(organisation=tree.hospital, name="Antenatal clinic", slug="antenatal")
    ServiceFactory(organisation=tree.hospital, name="Closed ward", slug="closed", is_active=False)
    response = client.get(tree.hospital.get_absolute_url())
    html = response.content.decode()
    assert "<title>Riverside General Hospital \u2013 Local Social</title>" in html
    # Breadcrumbs follow the tree
    crumbs = html[html.index('class="govuk-breadcrumbs'):html.index("</nav>", html.index('class="govuk-breadcrumbs'))]
    assert "Directory" in crumbs
    assert "Riverside NHS Trust" in crumbs
    # Details, children, services, areas
    for text in ("RJ122", "SE1 7EH", "https://example.org", "Maternity", "Antenatal clinic", "Southwark", "E09000028",
                 "openstreetmap.org"):
        assert text in html
    assert "Closed ward" not in html
    # No "Manage staff" for a visitor
    assert "Manage staff" not in html


def test_unknown_organisation_and_service_are_page_not_found(client, db):
    assert client.get(reverse("directory:organisation", kwargs={"slug": "nope"})).status_code == 404
    assert client.get(reverse("directory:service", kwargs={"slug": "nope"})).status_code == 404


@pytest.mark.parametrize("count", [10, 200])
def test_organisation_page_is_a_fixed_number_of_queries(client, tree, django_assert_num_queries, count):
    for n in range(count):
        OrganisationFactory(parent=tree.hospital, name=f"Ward {n:03d}", slug=f"ward-{n:03d}")
        ServiceFactory(organisation=tree.hospital, name=f"Clinic {n:03d}", slug=f"clinic-{n:03d}")
    tree.hospital.areas_served.add(*[AreaFactory() for _ in range(count // 10)])
    with django_assert_num_queries(ORGANISATION_QUERIES):
        response = client.get(tree.hospital.get_absolute_url())
    html = response.content.decode()
    assert "Ward 000" in html
    assert "Clinic 000" in html
    assert ("Ward 199" in html) is False


@pytest.mark.parametrize("count", [10, 200])
def test_organisation_page_for_its_administrator_is_a_fixed_number_of_queries(
    client, tree, django_assert_num_queries, count
):
    admin = MembershipFactory(organisation=tree.trust, role=StaffRole.ADMINISTRATOR).user
    sign_in_verified(client, admin)
    for n in range(count):
        OrganisationFactory(parent=tree.hospital, name=f"Ward {n:03d}", slug=f"ward-{n:03d}")
        ServiceFactory(organisation=tree.hospital, name=f"Clinic {n:03d}", slug=f"clinic-{n:03d}")
    # Signed in: session, user, two-factor device, site roles, staff and administrator checks
    with django_assert_num_queries(ORGANISATION_QUERIES + 5):
        response = client.get(tree.hospital.get_absolute_url())
    assert "Manage staff" in response.content.decode()


def test_the_children_and_services_lists_page_separately(client, tree):
    for n in range(25):
        OrganisationFactory(parent=tree.hospital, name=f"Ward {n:02d}", slug=f"ward-{n:02d}")
        ServiceFactory(organisation=tree.hospital, name=f"Clinic {n:02d}", slug=f"clinic-{n:02d}")
    first = client.get(tree.hospital.get_absolute_url()).content.decode()
    next_children = pagination_link(first, "next", "Organisations within Riverside General Hospital pages")
    assert "children=" in next_children
    assert "services=" in pagination_link(first, "next", "Services from Riverside General Hospital pages")
    second = client.get(next_children)
    html = second.content.decode()
    # (The first page was Maternity and Ward 00 to Ward 18.)
    assert "Ward 19" in html
    assert "Ward 24" in html
    assert "Ward 18" not in html
    # The services list stays on its first page
    assert "Clinic 00" in html
    assert "Clinic 20" not in html
    # Each pagination has its own landmark label
    assert 'aria-label="Organisations within Riverside General Hospital pages"' in html


def test_service_page_shows_organisation_lgsl_address_and_contact(client, tree):
    service = ServiceFactory(
        organisation=tree.department, name="Antenatal clinic", slug="antenatal", lgsl_id=1234,
        address="1 River Road\nNorthgate", postcode="SE1 7EH", phone="020 7946 0000", email="clinic@example.org",
    )
    response = client.get(service.get_absolute_url())
    html = response.content.decode()
    crumbs = html[html.index('class="govuk-breadcrumbs'):html.index("</nav>", html.index('class="govuk-breadcrumbs'))]
    for name in ("Riverside NHS Trust", "Riverside General Hospital", "Maternity"):
        assert name in crumbs
    for text in ("Service from Maternity", "1234", "1 River Road<br>Northgate<br>SE1 7EH", "tel:02079460000",
                 "mailto:clinic@example.org"):
        assert text in html
    assert "no longer provided" not in html


def test_a_service_no_longer_provided_says_so(client, tree):
    service = ServiceFactory(organisation=tree.council, is_active=False)
    assert "This service is no longer provided." in client.get(service.get_absolute_url()).content.decode()


@pytest.mark.parametrize("count", [10, 200])
def test_service_page_is_a_fixed_number_of_queries(client, tree, django_assert_num_queries, count):
    services = [ServiceFactory(organisation=tree.department) for _ in range(count)]
    with django_assert_num_queries(SERVICE_QUERIES):
        response = client.get(services[0].get_absolute_url())
    assert response.status_code == 200


def test_organisation_page_escapes_what_organisations_wrote(client):
    org = OrganisationFactory(name="<script>alert(1)</script>", description="<b>hi</b>")
    html = client.get(org.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html


def test_a_site_admin_sees_manage_staff_everywhere(client, tree):
    from localsocial.accounts.models import SiteRole
    from tests.factories import RoleGrantFactory

    admin = UserFactory()
    RoleGrantFactory(user=admin, role=SiteRole.SITE_ADMIN)
    sign_in_verified(client, admin)
    assert "Manage staff" in client.get(tree.council.get_absolute_url()).content.decode()
