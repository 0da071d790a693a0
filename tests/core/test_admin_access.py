"""The admin site: site administrators with a verified second factor only, on every model."""

import pytest

from localsocial.accounts.models import SiteRole
from tests.factories import MembershipFactory, OrganisationFactory, RoleGrantFactory, UserFactory
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "/site-admin/",
    "/site-admin/directory/organisation/",
    "/site-admin/directory/service/",
    "/site-admin/core/auditevent/",
    "/site-admin/accounts/user/",
]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_a_site_administrator_who_is_not_a_superuser_can_use_every_admin_page(client, path):
    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN).user
    OrganisationFactory(name="Riverside Council")
    sign_in_verified(client, admin)
    response = client.get(path)
    assert response.status_code == 200


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_an_organisation_administrator_cannot_open_the_admin(client, path):
    staff = MembershipFactory(role="administrator").user
    sign_in_verified(client, staff)
    response = client.get(path)
    assert response.status_code in {302, 403}
    assert b"Site administration" not in response.content


def test_a_moderator_cannot_open_the_admin(client):
    moderator = RoleGrantFactory(role=SiteRole.MODERATOR).user
    sign_in_verified(client, moderator)
    assert client.get("/site-admin/directory/organisation/").status_code in {302, 403}


def test_the_audit_log_cannot_be_edited_even_by_a_site_administrator(client):
    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN).user
    sign_in_verified(client, admin)
    assert client.get("/site-admin/core/auditevent/add/").status_code == 403


def test_a_member_of_the_public_cannot_open_the_admin(client):
    sign_in_verified(client, UserFactory())
    response = client.get("/site-admin/")
    assert response.status_code in {302, 403}
    assert b"Site administration" not in response.content
