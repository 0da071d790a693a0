"""Giving and taking away site roles: the services, and the site administrator's pages."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from localsocial.accounts import services
from localsocial.accounts.models import RoleGrant, SiteRole
from localsocial.core.models import AuditEvent
from tests.accounts.conftest import page_text, verified_sign_in
from tests.factories import RoleGrantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_admin(db):
    return RoleGrantFactory(role=SiteRole.SITE_ADMIN, user__email="admin@example.org").user


def test_a_site_admin_grants_a_role_audited_and_the_person_is_told(site_admin, django_capture_on_commit_callbacks):
    person = UserFactory(email="mod@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        grant = services.role_grant(actor=site_admin, user=person, role=SiteRole.MODERATOR)

    assert grant.granted_by == site_admin
    assert person.site_roles() == {"moderator"}
    event = AuditEvent.objects.get(action="accounts.role_grant")
    assert (event.actor, event.target_id, event.after) == (site_admin, str(person.pk), {"role": "moderator"})
    (message,) = mail.outbox
    assert message.to == ["mod@example.org"]
    assert "You are now a moderator on Local Social." in message.body
    assert "two-step verification" in message.body


def test_granting_a_role_twice_changes_and_records_nothing(site_admin):
    person = UserFactory()
    first = services.role_grant(actor=site_admin, user=person, role=SiteRole.MODERATOR)

    second = services.role_grant(actor=site_admin, user=person, role=SiteRole.MODERATOR)

    assert first.pk == second.pk
    assert RoleGrant.objects.filter(user=person).count() == 1
    assert AuditEvent.objects.filter(action="accounts.role_grant").count() == 1


@pytest.mark.parametrize("role", [SiteRole.MODERATOR, SiteRole.CIRCLE_COORDINATOR, SiteRole.COMMUNITY_FACILITATOR, None])
def test_nobody_but_a_site_admin_may_grant_roles(role):
    actor = RoleGrantFactory(role=role).user if role else UserFactory()
    person = UserFactory()

    with pytest.raises(PermissionDenied):
        services.role_grant(actor=actor, user=person, role=SiteRole.SITE_ADMIN)

    assert not RoleGrant.objects.filter(user=person).exists()
    assert not AuditEvent.objects.exists()


def test_a_made_up_role_is_refused(site_admin):
    with pytest.raises(services.AccountActionRefusedError):
        services.role_grant(actor=site_admin, user=UserFactory(), role="emperor")


def test_an_erased_account_cannot_be_given_a_role(site_admin):
    with pytest.raises(services.AccountActionRefusedError):
        services.role_grant(actor=site_admin, user=UserFactory(erased_at=timezone.now()), role=SiteRole.MODERATOR)


def test_the_system_may_grant_roles_and_is_recorded_as_such():
    person = UserFactory()

    services.role_grant(actor=None, user=person, role=SiteRole.MODERATOR)

    assert AuditEvent.objects.get().actor_label == "system"


def test_revoking_a_role_is_audited_and_idempotent(site_admin):
    person = RoleGrantFactory(role=SiteRole.MODERATOR).user

    assert services.role_revoke(actor=site_admin, user=person, role=SiteRole.MODERATOR) is True
    assert services.role_revoke(actor=site_admin, user=person, role=SiteRole.MODERATOR) is False

    assert person.site_roles() == set()
    event = AuditEvent.objects.get(action="accounts.role_revoke")
    assert event.before == {"role": "moderator"}


def test_nobody_but_a_site_admin_may_revoke_roles():
    person = RoleGrantFactory(role=SiteRole.MODERATOR).user
    moderator = RoleGrantFactory(role=SiteRole.MODERATOR).user

    with pytest.raises(PermissionDenied):
        services.role_revoke(actor=moderator, user=person, role=SiteRole.MODERATOR)

    assert person.has_site_role(SiteRole.MODERATOR)


def test_the_last_site_administrator_cannot_be_removed(site_admin):
    with pytest.raises(services.AccountActionRefusedError, match="last site administrator"):
        services.role_revoke(actor=site_admin, user=site_admin, role=SiteRole.SITE_ADMIN)

    second = services.role_grant(actor=site_admin, user=UserFactory(), role=SiteRole.SITE_ADMIN).user
    assert services.role_revoke(actor=second, user=site_admin, role=SiteRole.SITE_ADMIN) is True


# --- Pages -----------------------------------------------------------------------------------


def test_people_page_lists_people_with_roles_and_finds_people_by_email(client, site_admin):
    RoleGrantFactory(role=SiteRole.MODERATOR, user__email="mo@example.org")
    UserFactory(email="findme@example.org")
    verified_sign_in(client, site_admin)

    page = page_text(client.get("/accounts/people/"))
    assert "mo@example.org" in page
    assert "Moderator" in page
    assert "findme@example.org" not in page

    found = page_text(client.get("/accounts/people/", {"q": "FINDME"}))
    assert "findme@example.org" in found


def test_people_page_makes_a_fixed_number_of_queries(client, site_admin, django_assert_max_num_queries):
    RoleGrantFactory.create_batch(15, role=SiteRole.MODERATOR)
    verified_sign_in(client, site_admin)
    client.get("/accounts/people/")

    # session, user, device, roles; count, page and grants of people with roles; search, grants
    with django_assert_max_num_queries(9):
        response = client.get("/accounts/people/", {"q": "example"})
    assert response.status_code == 200


def test_a_site_admin_gives_and_removes_a_role_on_the_person_page(client, site_admin):
    person = UserFactory(email="helper@example.org", display_name="Helper")
    verified_sign_in(client, site_admin)

    granted = client.post(f"/accounts/people/{person.pk}/roles/grant/", {"role": "circle_coordinator"}, follow=True)

    assert "Helper is now a circle coordinator." in page_text(granted)
    assert person.site_roles() == {"circle_coordinator"}
    revoked = client.post(f"/accounts/people/{person.pk}/roles/revoke/", {"role": "circle_coordinator"}, follow=True)
    assert "Helper is no longer a circle coordinator." in page_text(revoked)
    assert not RoleGrant.objects.filter(user=person).exists()
    assert AuditEvent.objects.filter(actor=site_admin).count() == 2


def test_the_grant_form_explains_a_missing_choice(client, site_admin):
    person = UserFactory()
    verified_sign_in(client, site_admin)

    response = client.post(f"/accounts/people/{person.pk}/roles/grant/", {})

    assert response.status_code == 400
    assert "Choose a role" in page_text(response)


def test_removing_the_last_site_admin_on_the_page_is_explained(client, site_admin):
    verified_sign_in(client, site_admin)

    response = client.post(f"/accounts/people/{site_admin.pk}/roles/revoke/", {"role": "site_admin"}, follow=True)

    assert "You cannot remove the last site administrator" in page_text(response)
    assert site_admin.role_grants.filter(role="site_admin").exists()


@pytest.mark.parametrize("role", [SiteRole.MODERATOR, None])
def test_people_who_are_not_site_admins_cannot_open_or_use_the_pages(client, role):
    actor = RoleGrantFactory(role=role).user if role else UserFactory()
    person = UserFactory()
    verified_sign_in(client, actor)

    assert client.get("/accounts/people/").status_code == 403
    assert client.get(f"/accounts/people/{person.pk}/").status_code == 403
    assert client.post(f"/accounts/people/{person.pk}/roles/grant/", {"role": "site_admin"}).status_code == 403
    assert not RoleGrant.objects.filter(user=person).exists()


def test_a_site_admin_without_a_verified_session_is_sent_to_enter_a_code(client, site_admin):
    from tests.accounts.conftest import totp_device

    totp_device(site_admin)
    client.force_login(site_admin)

    response = client.post(f"/accounts/people/{UserFactory().pk}/roles/grant/", {"role": "site_admin"})

    assert response["Location"].startswith("/accounts/two-factor/verify/")
    assert RoleGrant.objects.filter(role="site_admin").count() == 1


def test_the_audit_log_records_the_client_behind_our_proxy_and_the_request_id(client, site_admin, settings):
    # Services never see the request: the middleware hands the address and id to the audit log.
    settings.TRUSTED_PROXY_COUNT = 1
    person = UserFactory(display_name="Helper")
    verified_sign_in(client, site_admin)

    client.post(f"/accounts/people/{person.pk}/roles/grant/", {"role": "moderator"},
                HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7", HTTP_X_REQUEST_ID="audit-trail-0001")

    event = AuditEvent.objects.get(action="accounts.role_grant")
    assert (event.ip_address, event.request_id) == ("198.51.100.7", "audit-trail-0001")
    # Outside a request (a command, a task) there is no address and no id.
    services.role_revoke(actor=site_admin, user=person, role=SiteRole.MODERATOR)
    event = AuditEvent.objects.get(action="accounts.role_revoke")
    assert (event.ip_address, event.request_id) == (None, "")
