"""``localsocial demo``: a fictional directory and one person for every role, loaded safely."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from localsocial.accounts.models import RoleGrant, SiteRole, User
from localsocial.accounts.selectors import user_requires_two_factor
from localsocial.core.models import AuditEvent
from localsocial.directory.models import (
    GSS_RE,
    ODS_RE,
    PATH_STEP,
    Area,
    Organisation,
    OrganisationMembership,
    OrganisationType,
    Service,
    StaffRole,
)

pytestmark = pytest.mark.django_db


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [Area, Organisation, Service, User, OrganisationMembership, RoleGrant,
              StaticDevice, StaticToken, AuditEvent]
    return {model.__name__: model.objects.count() for model in models}


def printed_password(output: str) -> str:
    match = re.search(r"password for every account: (\S+)", output)
    assert match, output
    return match.group(1)


def printed_codes(output: str, email: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith(email + " "))
    # The codes are the last column, after the widest gap.
    return [code for code in re.split(r"\s{2,}", line)[-1].split() if re.fullmatch(r"[a-z2-7]{8}", code)]


@pytest.fixture
def demo_output(settings) -> str:
    settings.DEBUG = True
    return run_demo()


def test_demo_refuses_to_run_when_debug_is_off(settings):
    # Given a site that looks live
    settings.DEBUG = False

    # When the demo is loaded without --force, then it refuses and loads nothing
    with pytest.raises(CommandError, match="DEBUG is off"):
        run_demo()
    assert not User.objects.exists()
    assert not Organisation.objects.exists()


def test_demo_loads_with_force_even_when_debug_is_off(settings):
    settings.DEBUG = False

    output = run_demo("--force")

    assert "Created:" in output
    assert Organisation.objects.filter(slug="london-borough-of-northgate").exists()


def test_demo_is_idempotent(demo_output, settings):
    # Given the demo loaded once
    before = counts()
    assert before["Organisation"] >= 20
    assert before["Service"] >= 20

    # When it is loaded again
    output = run_demo()

    # Then nothing is created, nothing fails, and the same sign-ins are printed
    assert counts() == before
    assert "nothing to create" in output
    assert printed_password(output) == printed_password(demo_output)
    assert printed_codes(output, "staff@demo.invalid") == printed_codes(demo_output, "staff@demo.invalid")


def test_two_councils_and_a_trust_each_a_three_level_tree(demo_output):
    roots = Organisation.objects.filter(parent__isnull=True)
    assert sorted(roots.values_list("org_type", flat=True)) == [
        OrganisationType.COUNCIL, OrganisationType.COUNCIL, OrganisationType.NHS_TRUST
    ]
    for root in roots:
        subtree = Organisation.objects.filter(path__startswith=root.path)
        assert {org.depth for org in subtree} == {0, 1, 2}
    expected_types = {
        OrganisationType.COUNCIL: [OrganisationType.DIRECTORATE, OrganisationType.SERVICE_TEAM],
        OrganisationType.NHS_TRUST: [OrganisationType.HOSPITAL, OrganisationType.DEPARTMENT],
    }
    for root in roots:
        for depth, org_type in enumerate(expected_types[root.org_type], start=1):
            level = Organisation.objects.filter(path__startswith=root.path, depth=depth)
            assert level.exists()
            assert set(level.values_list("org_type", flat=True)) == {org_type}


def test_every_path_is_the_parents_path_plus_its_own_id(demo_output):
    for org in Organisation.objects.select_related("parent"):
        segment = f"{org.pk:010d}."
        if org.parent is None:
            assert (org.path, org.depth) == (segment, 0)
        else:
            assert org.path == org.parent.path + segment
            assert org.depth == org.parent.depth + 1
        assert len(org.path) == (org.depth + 1) * PATH_STEP


def test_codes_have_the_official_formats_and_council_services_carry_lgsl_ids(demo_output):
    assert all(re.match(GSS_RE, code) for code in Area.objects.values_list("gss_code", flat=True))
    councils = Organisation.objects.filter(org_type=OrganisationType.COUNCIL)
    assert all(re.match(GSS_RE, council.gss_code or "") for council in councils)
    for org in Organisation.objects.filter(ods_code__isnull=False):
        assert re.match(ODS_RE, org.ods_code)
    assert Organisation.objects.get(org_type=OrganisationType.NHS_TRUST).ods_code
    bins = Service.objects.get(slug="northgate-household-waste-collection")
    assert bins.lgsl_id == 524
    for council in councils:
        services = Service.objects.filter(organisation__path__startswith=council.path)
        assert services.exists()
        assert not services.filter(lgsl_id__isnull=True).exists()


def test_every_role_has_a_verified_person(demo_output):
    people = User.objects.filter(email__endswith="@demo.invalid")
    assert people.count() == 8
    assert not people.filter(email_verified_at__isnull=True).exists()
    assert set(RoleGrant.objects.filter(user__in=people).values_list("role", flat=True)) == {
        role.value for role in SiteRole
    }
    assert set(
        OrganisationMembership.objects.filter(user__in=people).values_list("role", flat=True)
    ) == {role.value for role in StaffRole}
    public = User.objects.get(email="public@demo.invalid")
    assert not public.role_grants.exists()
    assert not public.organisation_memberships.exists()


def test_everyone_but_the_public_has_a_confirmed_backup_device(demo_output):
    for person in User.objects.filter(email__endswith="@demo.invalid"):
        devices = StaticDevice.objects.filter(user=person, name="backup", confirmed=True)
        if person.email == "public@demo.invalid":
            assert not user_requires_two_factor(user=person)
            assert not devices.exists()
        else:
            assert user_requires_two_factor(user=person)
            assert devices.get().token_set.count() == 5


def test_the_member_of_the_public_signs_in_with_the_printed_password(demo_output, client):
    password = printed_password(demo_output)

    assert client.login(email="public@demo.invalid", password=password)
    assert not client.login(email="public@demo.invalid", password=password + "x")


def test_a_staff_members_printed_backup_code_verifies_once_and_a_rerun_restores_it(demo_output):
    # Given the staff member's printed codes
    codes = printed_codes(demo_output, "staff@demo.invalid")
    assert len(codes) == 5
    device = StaticDevice.objects.get(user__email="staff@demo.invalid", name="backup")

    # When one is used, then it verifies once only
    assert device.verify_token(codes[0])
    device.refresh_from_db()
    assert not device.verify_token(codes[0])

    # And another person's code is not this person's
    other = printed_codes(demo_output, "moderator@demo.invalid")[0]
    device.throttle_reset()
    assert not device.verify_token(other)

    # When the demo is loaded again, then the used code works again
    run_demo()
    device = StaticDevice.objects.get(user__email="staff@demo.invalid", name="backup")
    device.throttle_reset()
    assert device.verify_token(codes[0])


def test_the_printed_table_lists_every_demo_sign_in(demo_output):
    for person in User.objects.filter(email__endswith="@demo.invalid"):
        assert any(line.startswith(person.email + " ") for line in demo_output.splitlines())
    assert "Site administrator" in demo_output
    assert "Member of the public" in demo_output


def test_the_demo_runs_every_registered_step_in_its_declared_order(settings, monkeypatch):
    # Given two module steps registered out of order, the way a module's demo.py would
    from localsocial.core import demo_registry

    monkeypatch.setattr(demo_registry, "_STEPS", dict(demo_registry._STEPS))
    ran: list[tuple[str, int]] = []

    @demo_registry.demo_step("tests.late", order=5000)
    def late(ctx):
        ran.append(("late", len(ctx.people)))
        return {"late things": 1}

    @demo_registry.demo_step("tests.early", order=4000)
    def early(ctx):
        ran.append(("early", len(ctx.people)))
        return {"early things": 2}

    # When the demo is loaded
    settings.DEBUG = True
    output = run_demo()

    # Then they run after the platform's people, in their order, and their counts are printed
    assert ran == [("early", 8), ("late", 8)]
    assert "2 early things" in output
    assert "1 late things" in output
    names = [step.name for step in demo_registry.demo_steps()]
    assert names[:3] == ["directory", "accounts", "directory.postcodes"]
    assert names[-2:] == ["tests.early", "tests.late"]


def test_a_module_step_finds_the_platforms_people_and_organisations(monkeypatch):
    # Given a module step that reads what the platform's demo made
    from localsocial.accounts.models import SiteRole
    from localsocial.core import demo_registry

    monkeypatch.setattr(demo_registry, "_STEPS", dict(demo_registry._STEPS))
    seen: dict[str, str] = {}

    @demo_registry.demo_step("tests.reader", order=4000)
    def reader(ctx):
        seen["public"] = ctx.people["public"].email
        seen["coordinator"] = ctx.with_site_role(SiteRole.CIRCLE_COORDINATOR).email
        seen["council"] = ctx.organisations["london-borough-of-northgate"].name
        return {}

    # When the demo is loaded, twice
    demo_registry.demo_load()
    demo_registry.demo_load()

    # Then it found them by key, by site role and by slug (also when they existed already)
    assert seen == {"public": "public@demo.invalid", "coordinator": "coordinator@demo.invalid",
                    "council": "London Borough of Northgate"}
