"""Downloading one's data, and erasing an account."""

from __future__ import annotations

import json

import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from localsocial.accounts import personal_data, services
from localsocial.accounts.models import RoleGrant, SiteRole, User
from localsocial.core.models import AuditEvent
from localsocial.core.services import audit_record
from localsocial.directory.models import OrganisationMembership
from tests.accounts.conftest import backup_device, page_text, sign_in, totp_device, verified_sign_in
from tests.factories import PASSWORD, MembershipFactory, RoleGrantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    user = UserFactory(email="staff@example.org", display_name="Sam")
    MembershipFactory(user=user, organisation__name="Lambeth Council", job_title="Complaints lead")
    RoleGrantFactory(user=user, role=SiteRole.MODERATOR)
    audit_record(actor=user, action="stories.moderate", target=user)
    return user


@pytest.fixture
def stranger(db):
    user = UserFactory(email="stranger@example.org", display_name="Zed")
    MembershipFactory(user=user, organisation__name="Camden Council")
    RoleGrantFactory(user=user, role=SiteRole.CIRCLE_COORDINATOR)
    audit_record(actor=user, action="circles.match", target=user)
    return user


@pytest.fixture
def extra_section():
    before = personal_data.export_sections()
    personal_data.export_section_register("test_module", lambda user: {"who": user.email})
    yield
    personal_data._export_sections.clear()
    personal_data._export_sections.update(before)


def test_the_export_holds_the_persons_data_and_nobody_elses(staff, stranger):
    data = services.user_export_data(user=staff)

    assert data["export"]["account_id"] == staff.pk
    assert data["account"]["email"] == "staff@example.org"
    assert data["account"]["display_name"] == "Sam"
    assert [r["role"] for r in data["site_roles"]] == ["moderator"]
    assert [(m["organisation"], m["job_title"]) for m in data["organisation_memberships"]] == [
        ("Lambeth Council", "Complaints lead")
    ]
    assert [e["action"] for e in data["audit_events"]["actions_you_took"]] == ["stories.moderate"]
    text = json.dumps(data)
    for other in ["stranger@example.org", "Zed", "Camden Council", "circle_coordinator", "circles.match"]:
        assert other not in text
    assert PASSWORD not in text
    assert staff.password not in text


def test_modules_add_their_own_sections(staff, extra_section):
    assert services.user_export_data(user=staff)["test_module"] == {"who": "staff@example.org"}


def test_the_download_is_a_json_file(client, staff):
    verified_sign_in(client, staff)

    page = client.get("/accounts/profile/your-data/")
    response = client.get("/accounts/profile/your-data/download/")

    assert "Download your data" in page_text(page)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="local-social-your-data-')
    assert json.loads(response.content)["account"]["email"] == "staff@example.org"


def test_the_download_needs_signing_in(client):
    assert client.get("/accounts/profile/your-data/download/")["Location"].startswith("/accounts/sign-in/")


def test_erasing_pseudonymises_the_account_and_keeps_what_it_did(staff, stranger):
    totp_device(staff)
    backup_device(staff)
    grant_by_staff = RoleGrant.objects.create(user=stranger, role=SiteRole.MODERATOR, granted_by=staff)
    events_before = AuditEvent.objects.filter(actor=staff).count()

    services.user_erase(user=staff)

    staff.refresh_from_db()
    assert staff.email == f"erased-{staff.pk}@invalid"
    assert staff.display_name == ""
    assert staff.public_name == "Former member"
    assert str(staff) == "Former member"
    assert not staff.has_usable_password()
    assert not staff.is_active
    assert staff.erased_at is not None
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticDevice.objects.filter(user=staff).exists()
    assert not OrganisationMembership.objects.filter(user=staff).exists()
    assert not RoleGrant.objects.filter(user=staff).exists()
    # Everything that pointed at the person still does.
    assert AuditEvent.objects.filter(actor=staff).count() == events_before + 1
    grant_by_staff.refresh_from_db()
    assert grant_by_staff.granted_by == staff
    # Nobody else is touched.
    stranger.refresh_from_db()
    assert stranger.email == "stranger@example.org"
    assert OrganisationMembership.objects.filter(user=stranger).exists()


def test_modules_erase_their_own_data_first(staff):
    seen = []
    before = personal_data.erasers()
    personal_data.eraser_register("test_module", lambda user: seen.append(user.email))
    try:
        services.user_erase(user=staff)
    finally:
        personal_data._erasers.clear()
        personal_data._erasers.update(before)

    assert seen == ["staff@example.org"]


def test_erasing_twice_does_nothing_more(staff):
    services.user_erase(user=staff)

    services.user_erase(user=staff)

    assert AuditEvent.objects.filter(action="accounts.erase").count() == 1


def test_only_the_owner_or_a_site_admin_may_erase(staff, stranger):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.user_erase(user=staff, actor=stranger)
    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN).user
    services.user_erase(user=staff, actor=admin)

    assert User.objects.get(pk=staff.pk).erased_at is not None
    assert AuditEvent.objects.get(action="accounts.erase").actor == admin


def test_deleting_your_account_needs_your_password(client, member):
    client.force_login(member)

    response = client.post("/accounts/profile/delete/", {"current_password": "not my password"})

    assert "Your current password is not right" in page_text(response)
    member.refresh_from_db()
    assert member.erased_at is None


def test_deleting_your_account_signs_you_out_everywhere_for_good(client, other_client, member):
    client.force_login(member)
    other_client.force_login(member)

    response = client.post("/accounts/profile/delete/", {"current_password": PASSWORD}, follow=True)

    assert "Your account has been deleted" in page_text(response)
    assert "_auth_user_id" not in client.session
    assert other_client.get("/accounts/profile/").status_code == 302
    assert sign_in(client, "member@example.org").status_code == 200
    assert sign_in(client, f"erased-{member.pk}@invalid", PASSWORD).status_code == 200
    assert "_auth_user_id" not in client.session
    # The address is free to sign up again, as a new person.
    client.post("/accounts/sign-up/", {"email": "member@example.org", "display_name": "New", "password": PASSWORD})
    assert User.objects.filter(email="member@example.org").exclude(pk=member.pk).exists()
