"""Every page a person can reach renders in English and in Welsh (a translation with a bad
placeholder, or a stray % in an English string, would crash the page)."""

import pytest

from localsocial.accounts.models import SiteRole
from tests.factories import MembershipFactory, OrganisationFactory, RoleGrantFactory, ServiceFactory
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db

PUBLIC = [
    "/", "/accessibility/", "/privacy/", "/cookies/", "/feedback/",
    "/stories/", "/circles/", "/green/", "/communities/", "/insight/", "/engage/",
    "/directory/", "/directory/?q=river", "/directory/organisations/riverside/",
    "/directory/services/bin-collection/",
    "/accounts/sign-in/", "/accounts/sign-up/", "/accounts/sign-up/check-your-email/",
    "/accounts/password-reset/", "/accounts/password-reset/check-your-email/",
]
# (The backup-codes page only shows codes just made; the browser journey covers it.)
SIGNED_IN = [
    "/accounts/profile/", "/accounts/profile/details/", "/accounts/profile/email/",
    "/accounts/profile/password/", "/accounts/profile/your-data/", "/accounts/profile/delete/",
    "/accounts/two-factor/setup/", "/accounts/people/",
    "/directory/organisations/riverside/staff/",
]


@pytest.fixture
def directory():
    council = OrganisationFactory(name="Riverside Council", slug="riverside")
    ServiceFactory(organisation=council, name="Bin collection", slug="bin-collection", lgsl_id=524)
    return council


@pytest.mark.parametrize("language", ["en-gb", "cy"])
@pytest.mark.parametrize("path", PUBLIC)
def test_public_page_renders(client, directory, language, path):
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    response = client.get(path)
    assert response.status_code == 200, path
    assert f'<html lang="{language}"' in response.content.decode()


@pytest.mark.parametrize("language", ["en-gb", "cy"])
@pytest.mark.parametrize("path", SIGNED_IN)
def test_signed_in_page_renders(client, directory, language, path):
    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN).user
    MembershipFactory(user=admin, organisation=directory, role="administrator")
    sign_in_verified(client, admin)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    response = client.get(path)
    assert response.status_code == 200, path
    assert f'<html lang="{language}"' in response.content.decode()
