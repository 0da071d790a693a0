"""Two-step verification: who must use it, setting it up, backup codes, checking codes, and a
site administrator resetting it."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from localsocial.accounts import services
from localsocial.accounts.models import SiteRole
from localsocial.core.models import AuditEvent
from tests.accounts.conftest import (
    backup_device,
    page_text,
    sign_in,
    totp_code,
    totp_device,
    verified_sign_in,
)
from tests.factories import MembershipFactory, RoleGrantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(db):
    return RoleGrantFactory(role=SiteRole.MODERATOR, user__email="mod@example.org").user


def secret_from(response) -> str:
    match = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', response.content.decode())
    assert match, "the page shows the secret as text"
    return match.group(1).replace(" ", "")


def test_a_moderator_is_sent_to_set_up_before_any_other_page(client, moderator):
    response = sign_in(client, "mod@example.org")

    assert response["Location"] == "/accounts/two-factor/setup/?next=%2Faccounts%2Fprofile%2F"
    for path in ["/", "/accounts/profile/", "/accounts/people/", "/stories/", "/site-admin/"]:
        blocked = client.get(path)
        assert blocked.status_code == 302, path
        assert blocked["Location"].startswith("/accounts/two-factor/setup/?next="), path


@pytest.mark.parametrize("role", ["member", "responder", "administrator"])
def test_organisation_staff_must_use_two_step_verification(client, role):
    staff = MembershipFactory(role=role, user__email="staff@example.org").user

    response = sign_in(client, "staff@example.org", next="/directory/")

    assert response["Location"] == "/accounts/two-factor/setup/?next=%2Fdirectory%2F"
    assert client.get("/directory/")["Location"].startswith("/accounts/two-factor/setup/")
    assert staff.pk


def test_members_of_the_public_are_not_asked(client, member):
    sign_in(client, "member@example.org")

    assert client.get("/accounts/profile/").status_code == 200


def test_the_setup_page_shows_a_qr_code_and_the_secret(client, moderator):
    client.force_login(moderator)

    response = client.get("/accounts/two-factor/setup/")

    html = response.content.decode()
    assert '<svg role="img" aria-label="QR code to scan with your authenticator app"' in html
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    device = TOTPDevice.objects.get(user=moderator)
    assert device.confirmed is False
    import base64

    assert base64.b32decode(secret_from(response)) == device.bin_key
    # Reloading keeps the same secret, so a half-finished set-up still works.
    assert secret_from(client.get("/accounts/two-factor/setup/")) == secret_from(response)
    assert TOTPDevice.objects.filter(user=moderator).count() == 1


def test_a_wrong_code_does_not_confirm_the_app(client, moderator):
    client.force_login(moderator)
    client.get("/accounts/two-factor/setup/")

    response = client.post("/accounts/two-factor/setup/", {"code": "000000"})

    assert "The code is not right" in page_text(response)
    assert not TOTPDevice.objects.get(user=moderator).confirmed
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_the_right_code_confirms_the_app_and_shows_backup_codes_once(client, moderator):
    client.force_login(moderator)
    client.get("/accounts/two-factor/setup/?next=/stories/")
    device = TOTPDevice.objects.get(user=moderator)

    response = client.post("/accounts/two-factor/setup/", {"code": totp_code(device), "next": "/stories/"})

    assert response["Location"] == "/accounts/two-factor/backup-codes/"
    device.refresh_from_db()
    assert device.confirmed
    page = client.get("/accounts/two-factor/backup-codes/")
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", page.content.decode())
    assert len(codes) == 10
    assert set(codes) == set(StaticToken.objects.filter(device__user=moderator).values_list("token", flat=True))
    done = client.post("/accounts/two-factor/backup-codes/")
    assert done["Location"] == "/stories/"
    # Shown once only; the verified session now reaches every page.
    assert client.get("/accounts/two-factor/backup-codes/")["Location"] == "/accounts/profile/"
    assert client.get("/accounts/profile/").status_code == 200


@pytest.mark.clock("2026-05-01 10:00:00")  # the moderator and their device too
def test_signing_in_again_asks_for_a_code_and_accepts_one(client, moderator):
    device = totp_device(moderator)

    with freeze_time("2026-05-01 10:00:00") as clock:
        response = sign_in(client, "mod@example.org")

        assert response["Location"] == "/accounts/two-factor/verify/?next=%2Faccounts%2Fprofile%2F"
        assert client.get("/accounts/profile/")["Location"].startswith("/accounts/two-factor/verify/")
        wrong = client.post("/accounts/two-factor/verify/", {"code": "123456", "next": "/accounts/profile/"})
        assert "The code is not right" in page_text(wrong)
        # Straight after a wrong code the app pauses (django-otp's throttling), then accepts.
        too_soon = client.post("/accounts/two-factor/verify/", {"code": totp_code(device)})
        assert "too many wrong codes" in page_text(too_soon)
        clock.tick(31)
        ok = client.post("/accounts/two-factor/verify/", {"code": totp_code(device), "next": "/accounts/profile/"})

        assert ok["Location"] == "/accounts/profile/"
        assert client.get("/accounts/profile/").status_code == 200


def test_a_backup_code_works_once_only(client, other_client, moderator):
    totp_device(moderator)
    backup_device(moderator, codes=["abcd2345", "efgh6723"])
    sign_in(client, "mod@example.org")

    response = client.post("/accounts/two-factor/verify/", {"code": "ABCD 2345"}, follow=True)

    assert "You used a backup code. You have 1 backup code left." in page_text(response)
    assert not StaticToken.objects.filter(token="abcd2345").exists()
    sign_in(other_client, "mod@example.org")
    again = other_client.post("/accounts/two-factor/verify/", {"code": "abcd2345"})
    assert "The code is not right" in page_text(again)
    assert DEVICE_ID_SESSION_KEY not in other_client.session


def test_staff_with_only_backup_codes_sign_in_with_one_then_set_up_an_app(client):
    # As the demo data sets up staff: a "backup" device with known codes, no app.
    staff = MembershipFactory(user__email="demo.staff@example.org").user
    backup_device(staff, codes=["demo2345"])

    response = sign_in(client, "demo.staff@example.org")

    assert response["Location"].startswith("/accounts/two-factor/verify/")
    assert client.post("/accounts/two-factor/verify/", {"code": "demo2345"})["Location"] == "/accounts/profile/"
    assert "Authenticator app Not set up" in page_text(client.get("/accounts/profile/"))
    client.get("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=staff)
    client.post("/accounts/two-factor/setup/", {"code": totp_code(device)})
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=staff).count() == 10


def test_with_a_device_a_password_alone_cannot_add_another(client, moderator):
    totp_device(moderator)
    sign_in(client, "mod@example.org")

    response = client.get("/accounts/two-factor/setup/")

    assert response["Location"].startswith("/accounts/two-factor/verify/")
    assert TOTPDevice.objects.filter(user=moderator).count() == 1


def test_replacing_the_app_from_the_account_page(client, moderator):
    old = totp_device(moderator)
    verified_sign_in(client, moderator)

    page = client.get("/accounts/two-factor/setup/")
    assert "replaces the one you use now" in page_text(page)
    new = TOTPDevice.objects.get(user=moderator, confirmed=False)
    client.post("/accounts/two-factor/setup/", {"code": totp_code(new)})

    assert list(TOTPDevice.objects.filter(user=moderator)) == [new]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


def test_new_backup_codes_replace_the_old_ones(client, moderator):
    backup_device(moderator, codes=["old22222"])
    verified_sign_in(client, moderator)

    response = client.post("/accounts/two-factor/backup-codes/new/")

    assert response["Location"] == "/accounts/two-factor/backup-codes/"
    assert not StaticToken.objects.filter(token="old22222").exists()
    assert StaticToken.objects.filter(device__user=moderator).count() == 10


def test_wrong_codes_are_rate_limited(client, moderator, settings):
    settings.SIGN_IN_RATE = "3/15m"
    totp_device(moderator)
    backup_device(moderator)
    client.force_login(moderator)

    statuses = [client.post("/accounts/two-factor/verify/", {"code": f"zzzz{i}"}).status_code for i in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_the_code_check_service_tries_only_the_matching_kind_of_device(moderator):
    app = totp_device(moderator)
    backup_device(moderator, codes=["abcd2345"])

    outcome, _ = services.two_factor_code_check(user=moderator, code="wrongcode")

    assert outcome is services.CodeCheck.WRONG
    app.refresh_from_db()
    assert app.throttling_failure_count == 0  # the app is not paused by a bad backup code
    outcome, device = services.two_factor_code_check(user=moderator, code=totp_code(app))
    assert outcome is services.CodeCheck.ACCEPTED
    assert device == app


def test_a_site_admin_resets_someone_elses_two_factor(client, moderator):
    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN).user
    totp_device(moderator)
    backup_device(moderator)
    verified_sign_in(client, admin)

    confirm = client.get(f"/accounts/people/{moderator.pk}/two-factor/reset/")
    assert "Reset two-step verification for" in page_text(confirm)
    response = client.post(f"/accounts/people/{moderator.pk}/two-factor/reset/", follow=True)

    assert "has been reset" in page_text(response)
    assert not TOTPDevice.objects.filter(user=moderator).exists()
    assert not StaticDevice.objects.filter(user=moderator).exists()
    event = AuditEvent.objects.get(action="accounts.two_factor_reset")
    assert (event.actor, event.target_id) == (admin, str(moderator.pk))
    assert mail.outbox[-1].to == ["mod@example.org"]
    assert mail.outbox[-1].subject == "Your Local Social two-step verification was reset"


def test_a_reset_ends_the_verified_sessions_of_that_person(client, other_client, moderator):
    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN).user
    verified_sign_in(other_client, moderator)
    assert other_client.get("/accounts/profile/").status_code == 200

    services.two_factor_reset(actor=admin, user=moderator)

    assert other_client.get("/accounts/profile/")["Location"].startswith("/accounts/two-factor/setup/")


def test_a_site_admin_cannot_reset_their_own_and_others_cannot_reset_anyones(client, moderator):
    from django.core.exceptions import PermissionDenied

    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN).user
    victim = UserFactory()
    totp_device(victim)

    with pytest.raises(PermissionDenied):
        services.two_factor_reset(actor=admin, user=admin)
    with pytest.raises(PermissionDenied):
        services.two_factor_reset(actor=moderator, user=victim)
    verified_sign_in(client, moderator)
    assert client.post(f"/accounts/people/{victim.pk}/two-factor/reset/").status_code == 403
    assert TOTPDevice.objects.filter(user=victim).exists()
    assert not AuditEvent.objects.filter(action="accounts.two_factor_reset").exists()
