"""The Django admin at /site-admin/: verified site administrators only."""

from __future__ import annotations

import pytest

from localsocial.accounts.models import SiteRole, User
from localsocial.core.models import AuditEvent
from tests.accounts.conftest import totp_device, verified_sign_in
from tests.factories import MembershipFactory, RoleGrantFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_INDEX_WORDS = "Site administration"


def test_nobody_signed_in_is_sent_to_the_sign_in_page(client):
    response = client.get("/site-admin/", follow=True)

    assert response.redirect_chain[-1][0] == "/accounts/sign-in/?next=/site-admin/"
    assert ADMIN_INDEX_WORDS not in response.content.decode()


@pytest.mark.parametrize("kind", ["member", "moderator", "org_admin"])
def test_people_who_are_not_site_admins_never_see_the_admin(client, kind):
    if kind == "member":
        user = UserFactory()
    elif kind == "moderator":
        user = RoleGrantFactory(role=SiteRole.MODERATOR).user
    else:
        user = MembershipFactory(role="administrator").user
    verified_sign_in(client, user)

    for path in ["/site-admin/", "/site-admin/accounts/user/", "/site-admin/login/"]:
        response = client.get(path, follow=True)
        assert response.status_code == 403, path
        assert ADMIN_INDEX_WORDS not in response.content.decode(), path


def test_a_site_admin_without_a_verified_session_cannot_use_the_admin(client):
    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN).user
    totp_device(admin)
    client.force_login(admin)

    response = client.get("/site-admin/", follow=True)

    assert response.redirect_chain[0][0].startswith("/accounts/two-factor/verify/")
    assert ADMIN_INDEX_WORDS not in response.content.decode()


def test_a_verified_site_admin_sees_people_and_roles(client):
    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN, user__email="admin@example.org").user
    verified_sign_in(client, admin)

    index = client.get("/site-admin/")
    users = client.get("/site-admin/accounts/user/")
    grants = client.get("/site-admin/accounts/rolegrant/")

    assert index.status_code == 200
    assert ADMIN_INDEX_WORDS in index.content.decode()
    assert "admin@example.org" in users.content.decode()
    assert grants.status_code == 200


def test_changing_an_account_in_the_admin_is_audited(client):
    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN).user
    person = UserFactory(display_name="Old name", preferred_language="")
    verified_sign_in(client, admin)

    response = client.post(
        f"/site-admin/accounts/user/{person.pk}/change/",
        {"email": person.email, "display_name": "New name", "preferred_language": "", "is_active": "on",
         "role_grants-TOTAL_FORMS": "0", "role_grants-INITIAL_FORMS": "0"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert person.display_name == "New name"
    event = AuditEvent.objects.get(action="admin.change")
    assert event.before == {"display_name": "Old name"}
    assert event.after == {"display_name": "New name"}


def test_accounts_are_erased_not_deleted_in_the_admin(client):
    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN).user
    person = UserFactory(email="leaving@example.org")
    verified_sign_in(client, admin)

    assert client.get(f"/site-admin/accounts/user/{person.pk}/delete/").status_code == 403
    client.post(
        "/site-admin/accounts/user/",
        {"action": "erase_accounts", "_selected_action": [person.pk, admin.pk]},
    )

    person.refresh_from_db()
    assert person.email == f"erased-{person.pk}@invalid"
    assert User.objects.get(pk=admin.pk).erased_at is None
    assert AuditEvent.objects.get(action="accounts.erase").actor == admin
