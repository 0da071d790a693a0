"""Every page a person can reach renders in English and in Welsh (a translation with a bad
placeholder, or a stray % in an English string, would crash the page)."""

import pytest

from localsocial.accounts.models import SiteRole
from localsocial.stories.services.common import story_author_link_secret
from tests.factories import (
    AreaFactory,
    MembershipFactory,
    OrganisationFactory,
    ResponseFactory,
    RoleGrantFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
)
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db

PUBLIC = [
    "/", "/accessibility/", "/privacy/", "/cookies/", "/feedback/", "/search/", "/search/?q=bins", "/open-data/",
    "/stories/", "/circles/", "/green/", "/communities/", "/insight/", "/engage/",
    "/directory/", "/directory/?q=river", "/directory/organisations/riverside/",
    "/directory/services/bin-collection/",
    "/accounts/sign-in/", "/accounts/sign-up/", "/accounts/sign-up/check-your-email/",
    "/accounts/password-reset/", "/accounts/password-reset/check-your-email/",
    # Stories, read and told by anyone ({story} and {secret} come from the `stories` fixture).
    "/stories/?q=bins", "/stories/?progress=3&sort=oldest", "/stories/{story}/",
    "/stories/organisations/riverside/", "/stories/services/bin-collection/", "/stories/tags/kind-staff/",
    "/stories/areas/E09000028/", "/stories/widget/", "/stories/widget/services/bin-collection/",
    "/stories/open-data/", "/stories/tell/", "/stories/tell/?service={service}&continue=1",
    "/stories/tell/sent/", "/stories/mine/", "/stories/mine/sent/", "/stories/mine/{secret}/",
    "/stories/mine/{pending_secret}/edit/", "/stories/mine/{secret}/withdraw/",
    "/stories/mine/{secret}/responses/{change}/confirm/",
]
# (The backup-codes page only shows codes just made; the browser journey covers it.)
SIGNED_IN = [
    "/accounts/profile/", "/accounts/profile/details/", "/accounts/profile/email/",
    "/accounts/profile/password/", "/accounts/profile/your-data/", "/accounts/profile/delete/",
    "/accounts/two-factor/setup/", "/accounts/people/",
    "/directory/organisations/riverside/staff/",
    # Stories, for moderators and the organisation's staff.
    "/stories/moderation/", "/stories/moderation/{pending}/", "/stories/moderation/{pending}/edit/",
    "/stories/moderation/{pending}/reject/", "/stories/moderation/{story}/restrict/",
    "/stories/moderation/templates/", "/stories/moderation/templates/add/", "/stories/moderation/figures/",
    "/stories/moderation/responses/", "/stories/tell/assisted/", "/stories/{story}/respond/",
    "/stories/organisations/riverside/settings/", "/stories/organisations/riverside/templates/",
    "/stories/organisations/riverside/templates/add/", "/stories/organisations/riverside/dashboard/",
    "/stories/alerts/", "/stories/alerts/new/", "/developers/", "/developers/tokens/new/",
]


@pytest.fixture
def directory():
    council = OrganisationFactory(name="Riverside Council", slug="riverside")
    council.areas_served.add(AreaFactory(gss_code="E09000028", name="Riverside"))
    ServiceFactory(organisation=council, name="Bin collection", slug="bin-collection", lgsl_id=524)
    return council


@pytest.fixture
def stories(directory):
    """A published story with a confirmed change, and one waiting for moderation; the
    placeholders the paths above use."""
    service = directory.services.get()
    kind = TagFactory(name="Kind staff", slug="kind-staff")
    story = StoryFactory(services=[service], tags=[kind], body="The bins were missed, then fixed.")
    change = ResponseFactory(story=story, organisation=directory, change="made", change_description="New round.")
    pending = StoryFactory(services=[service], status="pending")
    return {
        "story": story.pk, "pending": pending.pk, "service": service.pk, "change": change.pk,
        "secret": story_author_link_secret(story=story), "pending_secret": story_author_link_secret(story=pending),
    }


@pytest.mark.parametrize("language", ["en-gb", "cy"])
@pytest.mark.parametrize("path", PUBLIC)
def test_public_page_renders(client, stories, language, path):
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    response = client.get(path.format(**stories))
    assert response.status_code == 200, path
    assert f'<html lang="{language}"' in response.content.decode()


@pytest.mark.parametrize("language", ["en-gb", "cy"])
@pytest.mark.parametrize("path", SIGNED_IN)
def test_signed_in_page_renders(client, directory, stories, language, path):
    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN).user
    MembershipFactory(user=admin, organisation=directory, role="administrator")
    sign_in_verified(client, admin)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    response = client.get(path.format(**stories))
    assert response.status_code == 200, path
    assert f'<html lang="{language}"' in response.content.decode()
